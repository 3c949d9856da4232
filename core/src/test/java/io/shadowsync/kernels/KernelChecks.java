package io.shadowsync.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

/** Random inputs and tolerance checks shared by the kernel tests. */
final class KernelChecks {
    private KernelChecks() {}

    /** The lengths every level-1 kernel is tried at: empty, one, and odd tails around 8-float vectors. */
    static final int[] SIZES = {0, 1, 7, 8, 9, 15, 17, 33, 1000};

    /** 2⁻²³: one float ulp at 1, i.e. twice the unit roundoff of a float operation. */
    static final double ULP1 = Math.ulp(1f);

    /** n floats uniform in [-1, 1). */
    static float[] randomArray(SplittableRandom random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextDouble() * 2 - 1);
        return a;
    }

    /** A random array of n + off + pad floats whose first off and last pad are a sentinel that must survive. */
    static float[] padded(SplittableRandom random, int off, int n, int pad) {
        float[] a = new float[off + n + pad];
        for (int i = 0; i < a.length; i++) a[i] = i < off || i >= off + n ? SENTINEL : (float) (random.nextDouble() * 2 - 1);
        return a;
    }

    /** A value no kernel computes from our inputs: an element still holding it was not written. */
    static final float SENTINEL = -12345.678f;

    /**
     * |actual − expected| ≤ relTol · magnitude, where magnitude is the sum of the absolute values of the
     * terms that made expected (so the bound holds for any summation order), plus the smallest normal float.
     */
    static void assertClose(double expected, float actual, double magnitude, double relTol, String what) {
        double tol = relTol * magnitude + Float.MIN_NORMAL;
        if (!(Math.abs(actual - expected) <= tol)) {
            fail(what + ": expected " + expected + " (± " + tol + "), got " + actual);
        }
    }

    /** Bit-for-bit equality of two float ranges (NaN equals NaN, −0 differs from +0). */
    static void assertSameBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }
}
