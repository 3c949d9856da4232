package io.shadowsync.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Vec#allFinite} and its scalar twin find a NaN or an infinity at any position, length and offset. */
class VecAllFiniteTest {
    private static final float[] BAD = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xffffffff)};

    private static void assertBoth(boolean want, int n, float[] x, int off, String what) {
        assertEquals(want, Vec.allFiniteScalar(n, x, off), "scalar: " + what);
        assertEquals(want, Vec.allFinite(n, x, off), Vec.simdDescription() + ": " + what);
    }

    @Test
    void extremeFiniteValuesAreFinite() {
        float[] x = {0f, -0f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1f, -3e38f};
        for (int n = 0; n <= x.length; n++) assertBoth(true, n, x, 0, "first " + n);
        assertBoth(true, 0, new float[0], 0, "empty");
    }

    @Test
    void everyNonFiniteValueIsFoundAtEveryPositionLengthAndOffset() {
        SplittableRandom r = new SplittableRandom(8);
        for (int n = 1; n <= 70; n++) {
            for (int off : new int[] {0, 1, 3}) {
                float[] x = new float[off + n + 2];
                for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 1e30);
                assertBoth(true, n, x, off, "n=" + n + " off=" + off);
                for (int at = 0; at < n; at++) {
                    float[] y = x.clone();
                    y[off + at] = BAD[(n + at) % BAD.length];
                    assertBoth(false, n, y, off, y[off + at] + " at " + at + " of n=" + n + " off=" + off);
                }
                float[] outside = x.clone();
                outside[off + n] = Float.NaN; // just past the range
                if (off > 0) outside[off - 1] = Float.POSITIVE_INFINITY; // just before it
                assertBoth(true, n, outside, off, "values outside the range do not count, n=" + n);
            }
        }
    }

    @Test
    void aLongGradientWithOneNaNIsCaught() {
        float[] g = new float[25_553]; // DLRM's dense parameters
        Arrays.fill(g, 1e-3f);
        assertTrue(Vec.allFinite(g.length, g, 0));
        g[g.length - 1] = Float.NaN;
        assertFalse(Vec.allFinite(g.length, g, 0));
        assertFalse(Vec.allFiniteScalar(g.length, g, 0));
    }
}
