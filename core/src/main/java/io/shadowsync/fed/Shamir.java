package io.shadowsync.fed;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.List;

/**
 * Shamir's t-of-n secret sharing (1979) over the prime field GF(2^521 − 1): a secret below 2^512 is the constant
 * term of a random polynomial of degree t − 1; share x (x = 1..n) is the polynomial's value at x; any t shares give
 * the secret back by Lagrange interpolation at 0, fewer say nothing about it. Stateless.
 */
public final class Shamir {
    /** The Mersenne prime 2^521 − 1. */
    public static final BigInteger PRIME = BigInteger.ONE.shiftLeft(521).subtract(BigInteger.ONE);

    private Shamir() {}

    /** One share: the point (x, y) of the polynomial. */
    public record Share(int x, BigInteger y) {}

    /** n shares of secret, any t of which recover it (1 ≤ t ≤ n). */
    public static Share[] split(BigInteger secret, int n, int t, SecureRandom rng) {
        if (t < 1 || t > n) throw new IllegalArgumentException("a threshold of " + t + " shares out of " + n + " cannot work: give 1 to " + n);
        if (secret.signum() < 0 || secret.bitLength() > 512) throw new IllegalArgumentException("the secret must be in [0, 2^512)");
        BigInteger[] coef = new BigInteger[t];
        coef[0] = secret;
        for (int k = 1; k < t; k++) coef[k] = new BigInteger(521, rng).mod(PRIME);
        Share[] out = new Share[n];
        for (int x = 1; x <= n; x++) {
            BigInteger bx = BigInteger.valueOf(x), y = BigInteger.ZERO;
            for (int k = t - 1; k >= 0; k--) y = y.multiply(bx).add(coef[k]).mod(PRIME); // Horner
            out[x - 1] = new Share(x, y);
        }
        return out;
    }

    /** The secret from shares of distinct x (at least the threshold's count of them, which the caller checks). */
    public static BigInteger combine(List<Share> shares) {
        BigInteger s = BigInteger.ZERO;
        for (int i = 0; i < shares.size(); i++) {
            BigInteger xi = BigInteger.valueOf(shares.get(i).x()), num = BigInteger.ONE, den = BigInteger.ONE;
            for (int j = 0; j < shares.size(); j++) {
                if (j == i) continue;
                BigInteger xj = BigInteger.valueOf(shares.get(j).x());
                if (xj.equals(xi)) throw new IllegalArgumentException("two shares at x = " + xi);
                num = num.multiply(xj.negate()).mod(PRIME);
                den = den.multiply(xi.subtract(xj)).mod(PRIME);
            }
            s = s.add(shares.get(i).y().multiply(num).multiply(den.modInverse(PRIME))).mod(PRIME);
        }
        return s;
    }
}
