package io.shadowsync.fed;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secure aggregation of one round (Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine
 * Learning", CCS 2017): the server learns the sum of the updates of the clients that finished, not any one of them.
 *
 * <p>Each of the round's n clients makes an X25519 key pair and a random self-mask seed b_i, and deals t-of-n
 * {@link Shamir} shares of both its private key and b_i to the others. Client i uploads
 * <pre>  y_i = x_i + PRG(b_i) + Σ_{j&gt;i} PRG(s_ij) − Σ_{j&lt;i} PRG(s_ij)   (mod 2^64)</pre>
 * where x_i is its update in fixed point and s_ij the X25519 agreement of i and j (the same for both), so the pair
 * masks cancel in the sum. The server collects, from the survivors, the shares of each survivor's b_i (to remove its
 * self mask) and of each dropped client's private key (to recompute and remove the pair masks it left in the
 * survivors' uploads); with fewer than t survivors it cannot, and says so ({@link SecureAggregationException}).
 *
 * <p>Fixed point: a value x is sent as round(x·2^{@value #SCALE_BITS}) in a signed 64-bit integer, and sums are taken
 * modulo 2^64, so the unmasked sum is exactly the sum of the encoded values. An encoded value must stay under
 * 2^62/n in magnitude (|x| &lt; 2^(62−{@value #SCALE_BITS})/n), so that the true sum of n of them never wraps;
 * a larger one is refused with the client and the value. The PRG is AES-256 in counter mode keyed by SHA-256 of the
 * seed (a fresh key per round, so a key and counter never repeat).
 *
 * <p>This class holds the round's state for all parties, the shares handed over in memory; {@link #masked} is a
 * client's work and {@link #unmask} the server's. {@link SecureClient} is one party of the same protocol for clients
 * that talk through the server (shares sealed under pairwise keys), as a federation's rounds run it.
 */
public final class SecureAggregation {
    /** Fractional bits of the fixed-point encoding: a resolution of 2^−24 ≈ 6·10⁻⁸. */
    public static final int SCALE_BITS = 24;
    private static final double SCALE = 1L << SCALE_BITS;
    /** Bytes of one Shamir share on the wire (a field element of 521 bits) and of an X25519 public key. */
    static final int SHARE_BYTES = 66, PUBLIC_KEY_BYTES = 32;

    private final int n;
    private final int threshold;
    private final KeyPair[] keys;
    private final byte[][] selfSeeds;
    /** shares[i][j]: the share of client i's secret held by client j. */
    private final Shamir.Share[][] keyShares;
    private final Shamir.Share[][] seedShares;

    /**
     * The setup of a round: keys, seeds and shares of n clients (indices 0..n−1 of the round), any t of whom recover
     * a dropped client's masks.
     */
    public SecureAggregation(int n, int threshold, SecureRandom rng) {
        if (n < 2) throw new IllegalArgumentException("secure aggregation needs at least 2 clients in a round, got " + n);
        if (threshold < 1 || threshold > n) {
            throw new IllegalArgumentException("secure aggregation's threshold must be 1 to " + n + " clients, got " + threshold);
        }
        this.n = n;
        this.threshold = threshold;
        keys = new KeyPair[n];
        selfSeeds = new byte[n][32];
        keyShares = new Shamir.Share[n][];
        seedShares = new Shamir.Share[n][];
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("X25519");
            gen.initialize(NamedParameterSpec.X25519, rng);
            for (int i = 0; i < n; i++) {
                keys[i] = gen.generateKeyPair();
                rng.nextBytes(selfSeeds[i]);
                byte[] scalar = ((XECPrivateKey) keys[i].getPrivate()).getScalar().orElseThrow();
                keyShares[i] = Shamir.split(new BigInteger(1, scalar), n, threshold, rng);
                seedShares[i] = Shamir.split(new BigInteger(1, selfSeeds[i]), n, threshold, rng);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM offers no X25519: " + e.getMessage(), e);
        }
    }

    /** The default threshold for n clients: a majority, ⌊n/2⌋ + 1. */
    public static int defaultThreshold(int n) {
        return n / 2 + 1;
    }

    public int threshold() {
        return threshold;
    }

    /** The largest |x| the encoding takes for n clients. */
    public static double maxAbs(int n) {
        return Math.scalb(1.0, 62 - SCALE_BITS) / n;
    }

    /** Bytes client i uploads for an update of len values: its public key, the shares it deals, its masked vector. */
    public long uploadBytes(int len) {
        return PUBLIC_KEY_BYTES + 2L * (n - 1) * SHARE_BYTES + 8L * len;
    }

    /** The fixed-point encoding of x for a round of n clients; refuses a value out of range, naming the client. */
    public static long[] encode(float[] x, int n, int client) {
        double max = maxAbs(n);
        long[] out = new long[x.length];
        for (int k = 0; k < x.length; k++) {
            double v = x[k];
            if (!(Math.abs(v) < max)) {
                throw new SecureAggregationException("client " + client + "'s update value " + v + " at " + k + " is outside the"
                        + " fixed-point range ±" + max + " of secure aggregation for " + n + " clients: clip the updates (--dp-clip)");
            }
            out[k] = Math.round(v * SCALE);
        }
        return out;
    }

    /** A sum of encoded values back to floats. */
    public static float[] decode(long[] sum) {
        float[] out = new float[sum.length];
        for (int k = 0; k < sum.length; k++) out[k] = (float) (sum[k] / SCALE);
        return out;
    }

    /** Client i's upload: its encoded update with its self mask and its pair masks added (mod 2^64). */
    public long[] masked(int i, float[] x) {
        long[] y = encode(x, n, i);
        addPrg(y, selfKey(selfSeeds[i]), 1);
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            addPrg(y, pairKey(keys[i].getPrivate(), keys[j].getPublic()), j > i ? 1 : -1);
        }
        return y;
    }

    /**
     * The server's unmasking: the exact sum (mod 2^64, as signed values) of the encoded updates of the clients in
     * uploads (index → masked vector), the others having dropped out after the setup.
     *
     * @throws SecureAggregationException when fewer than the threshold survived
     */
    public long[] unmask(Map<Integer, long[]> uploads, int len) {
        if (uploads.size() < threshold) {
            throw new SecureAggregationException("secure aggregation cannot remove the masks: " + uploads.size() + " of " + n
                    + " clients survived, and recovering the dropped clients' masks takes " + threshold + " of them");
        }
        long[] sum = new long[len];
        List<Integer> alive = new ArrayList<>(uploads.keySet());
        alive.sort(null);
        for (int i : alive) {
            long[] y = uploads.get(i);
            if (y.length != len) throw new IllegalArgumentException("client " + i + " uploaded " + y.length + " values, not " + len);
            for (int k = 0; k < len; k++) sum[k] += y[k];
        }
        for (int i : alive) addPrg(sum, selfKey(fixed32(Shamir.combine(sharesOf(seedShares[i], alive)))), -1);
        for (int d = 0; d < n; d++) {
            if (uploads.containsKey(d)) continue;
            PrivateKey sk = privateKey(fixed32(Shamir.combine(sharesOf(keyShares[d], alive))));
            for (int i : alive) {
                // survivor i added +PRG(s_id) when d > i and −PRG(s_id) when d < i; take it out
                addPrg(sum, pairKey(sk, keys[i].getPublic()), d > i ? -1 : 1);
            }
        }
        return sum;
    }

    /** The first threshold shares of a secret held by the survivors. */
    private List<Shamir.Share> sharesOf(Shamir.Share[] shares, List<Integer> alive) {
        List<Shamir.Share> out = new ArrayList<>(threshold);
        for (int j : alive) {
            if (out.size() == threshold) break;
            out.add(shares[j]);
        }
        return out;
    }

    /** y += sign·PRG(key), element-wise mod 2^64. */
    static void addPrg(long[] y, byte[] key, int sign) {
        byte[] stream;
        try {
            Cipher aes = Cipher.getInstance("AES/CTR/NoPadding");
            aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
            stream = aes.doFinal(new byte[8 * y.length]);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-CTR is not available: " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < y.length; k++) y[k] += sign * b.getLong();
    }

    static byte[] pairKey(PrivateKey mine, PublicKey theirs) {
        try {
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(mine);
            ka.doPhase(theirs, true);
            return sha256("shadowsync secure aggregation pair mask", ka.generateSecret());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 key agreement failed: " + e.getMessage(), e);
        }
    }

    static byte[] selfKey(byte[] seed) {
        return sha256("shadowsync secure aggregation self mask", seed);
    }

    private static byte[] sha256(String domain, byte[] secret) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(domain.getBytes(StandardCharsets.US_ASCII));
            md.update(secret);
            return md.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static PrivateKey privateKey(byte[] scalar) {
        try {
            return KeyFactory.getInstance("X25519").generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot rebuild an X25519 key: " + e.getMessage(), e);
        }
    }

    /** v (below 2^256) as 32 big-endian bytes, leading zeros kept. */
    static byte[] fixed32(BigInteger v) {
        byte[] raw = v.toByteArray();
        if (raw.length > 33 || (raw.length == 33 && raw[0] != 0)) throw new SecureAggregationException("a recovered secret is out of range: a share was wrong");
        byte[] out = new byte[32];
        int from = Math.max(0, raw.length - 32);
        System.arraycopy(raw, from, out, 32 - (raw.length - from), raw.length - from);
        return out;
    }
}
