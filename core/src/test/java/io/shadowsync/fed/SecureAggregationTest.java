package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Pairwise-masked secure aggregation: exact sums, masked uploads that look random, recovery of dropped clients. */
class SecureAggregationTest {
    static final int N = 6, LEN = 4000;
    static final SecureRandom RNG = new SecureRandom();

    static float[][] updates(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[N][LEN];
        for (float[] u : x) for (int k = 0; k < LEN; k++) u[k] = (float) (r.nextGaussian() * 0.1 + 0.05);
        return x;
    }

    static long[] plainSum(float[][] x, int... without) {
        long[] s = new long[LEN];
        outer:
        for (int i = 0; i < x.length; i++) {
            for (int w : without) if (w == i) continue outer;
            long[] e = SecureAggregation.encode(x[i], N, i);
            for (int k = 0; k < LEN; k++) s[k] += e[k];
        }
        return s;
    }

    /** The unmasked sum is bit for bit the sum of the fixed-point updates: catches masks that do not cancel. */
    @Test
    void maskedSumIsTheExactFixedPointSum() {
        float[][] x = updates(1);
        SecureAggregation sa = new SecureAggregation(N, 4, RNG);
        Map<Integer, long[]> up = new HashMap<>();
        for (int i = 0; i < N; i++) up.put(i, sa.masked(i, x[i]));
        assertArrayEquals(plainSum(x), sa.unmask(up, LEN));
        float[] mean = SecureAggregation.decode(sa.unmask(up, LEN));
        double want = 0;
        for (float[] u : x) want += u[0];
        assertEquals(want, mean[0], 1e-5);
    }

    /**
     * A single upload is statistically unrelated to the update: its values are uncorrelated with the encoded update and
     * its bytes are uniform (χ² over the 256 byte values). Catches an upload without its masks, or masks that are
     * short, constant or repeated (a PRG reused across coordinates).
     */
    @Test
    void oneMaskedUploadLooksRandom() {
        float[][] x = updates(2);
        SecureAggregation sa = new SecureAggregation(N, 4, RNG);
        long[] y = sa.masked(0, x[0]);
        long[] e = SecureAggregation.encode(x[0], N, 0);
        double r = correlation(y, e);
        assertTrue(Math.abs(r) < 4 / Math.sqrt(LEN), "correlation of upload and update " + r);
        long[] counts = new long[256];
        for (long v : y) for (int b = 0; b < 8; b++) counts[(int) ((v >>> (8 * b)) & 0xFF)]++;
        double expected = 8.0 * LEN / 256, chi2 = 0;
        for (long c : counts) chi2 += (c - expected) * (c - expected) / expected;
        // 255 degrees of freedom: mean 255, sd ≈ 22.6; 400 is beyond 6 sd
        assertTrue(chi2 < 400, "χ² of the upload's bytes " + chi2);
        assertNotEquals(e[0], y[0]);
    }

    static double correlation(long[] a, long[] b) {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return sab / Math.sqrt(saa * sbb);
    }

    /**
     * Up to N − t clients drop after the setup: the survivors' sum comes out exact, the dropped clients' pair masks
     * recovered from Shamir shares of their keys. One more dropout leaves fewer than t, and the server says so.
     */
    @Test
    void dropoutsUpToTheThresholdAreRecovered() {
        float[][] x = updates(3);
        int t = 4;
        SecureAggregation sa = new SecureAggregation(N, t, RNG);
        Map<Integer, long[]> up = new HashMap<>();
        for (int i = 0; i < N; i++) if (i != 1 && i != 4) up.put(i, sa.masked(i, x[i]));
        assertArrayEquals(plainSum(x, 1, 4), sa.unmask(up, LEN), "two dropouts, four survivors = t");
        up.remove(5);
        SecureAggregationException e = assertThrows(SecureAggregationException.class, () -> sa.unmask(up, LEN));
        assertTrue(e.getMessage().contains("3 of 6 clients survived") && e.getMessage().contains("takes 4"), e.getMessage());
    }

    /** A value the fixed-point range cannot hold for N clients is refused, naming the client. */
    @Test
    void outOfRangeValuesAreRefused() {
        SecureAggregation sa = new SecureAggregation(N, 4, RNG);
        float[] big = new float[] {(float) SecureAggregation.maxAbs(N) * 2};
        SecureAggregationException e = assertThrows(SecureAggregationException.class, () -> sa.masked(3, big));
        assertTrue(e.getMessage().contains("client 3"), e.getMessage());
        assertThrows(SecureAggregationException.class, () -> sa.masked(3, new float[] {Float.NaN}));
    }

    /** Any t shares give the secret back; t − 1 give something else. */
    @Test
    void shamirThreshold() {
        BigInteger secret = new BigInteger(256, RNG);
        Shamir.Share[] s = Shamir.split(secret, 5, 3, RNG);
        assertEquals(secret, Shamir.combine(List.of(s[0], s[2], s[4])));
        assertEquals(secret, Shamir.combine(List.of(s[3], s[1], s[2])));
        assertNotEquals(secret, Shamir.combine(List.of(s[0], s[1])));
        assertArrayEquals(new byte[32], SecureAggregation.fixed32(BigInteger.ZERO));
    }
}
