package io.shadowsync.kernels;

import static io.shadowsync.kernels.KernelChecks.SIZES;
import static io.shadowsync.kernels.KernelChecks.ULP1;
import static io.shadowsync.kernels.KernelChecks.assertClose;
import static io.shadowsync.kernels.KernelChecks.assertSameBits;
import static io.shadowsync.kernels.KernelChecks.padded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * ReLU on every path is exact, so it is compared bit for bit with a reference loop (special values
 * included); sigmoid and tanh against double-precision Math within 2 float ulps of the result's magnitude.
 */
class ActivationsTest {
    private static final boolean VECTOR_MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    private static final float[] SPECIAL = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -1e-30f, 1e-30f};

    private final SplittableRandom random = new SplittableRandom(99);

    // random values with the special ones sprinkled over the range, so that they also land in vector lanes
    private float[] inputs(int off, int n) {
        float[] x = padded(random, off, n, 3);
        for (int i = 0; i < n; i += 3) x[off + i] = SPECIAL[random.nextInt(SPECIAL.length)];
        return x;
    }

    @Test
    void reluForwardKeepsPositivesAndZeroesTheRestOnEveryPath() {
        for (int n : SIZES) {
            int inOff = random.nextInt(4), outOff = random.nextInt(4);
            float[] inp = inputs(inOff, n);
            float[] expected = padded(random, outOff, n, 2);
            float[] out0 = expected.clone();
            for (int i = 0; i < n; i++) expected[outOff + i] = inp[inOff + i] > 0f ? inp[inOff + i] : 0f;

            float[] dispatched = out0.clone();
            Activations.reluForward(dispatched, outOff, inp, inOff, n);
            assertSameBits(expected, dispatched, "reluForward n=" + n);
            float[] scalar = out0.clone();
            Activations.reluForwardScalar(scalar, outOff, inp, inOff, n);
            assertSameBits(expected, scalar, "reluForwardScalar n=" + n);
            if (VECTOR_MODULE) {
                float[] vector = out0.clone();
                VectorKernels.reluForward(vector, outOff, inp, inOff, n);
                assertSameBits(expected, vector, "VectorKernels.reluForward n=" + n);
            }
        }
        float[] special = SPECIAL.clone();
        Activations.reluForward(special, 0, special, 0, special.length); // in place
        assertEquals(0f, special[0], "NaN gives 0");
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(special[1]), "-0 gives +0");
        assertEquals(Float.POSITIVE_INFINITY, special[3]);
        assertEquals(Float.MIN_VALUE, special[5], "the smallest positive float passes");
    }

    @Test
    void reluBackwardGatesOnOutputGreaterThanZeroOnEveryPath() {
        for (int n : SIZES) {
            int dOff = random.nextInt(4), oOff = random.nextInt(4), gOff = random.nextInt(4);
            float[] dout = padded(random, dOff, n, 2);
            float[] out = inputs(oOff, n);
            for (int i = 1; i < n; i += 4) out[oOff + i] = 0f; // ReLU outputs are often exactly 0
            float[] expected = padded(random, gOff, n, 3);
            float[] dinp0 = expected.clone();
            for (int i = 0; i < n; i++) expected[gOff + i] = out[oOff + i] > 0f ? dout[dOff + i] : 0f;

            float[] dispatched = dinp0.clone();
            Activations.reluBackward(dispatched, gOff, dout, dOff, out, oOff, n);
            assertSameBits(expected, dispatched, "reluBackward n=" + n);
            float[] scalar = dinp0.clone();
            Activations.reluBackwardScalar(scalar, gOff, dout, dOff, out, oOff, n);
            assertSameBits(expected, scalar, "reluBackwardScalar n=" + n);
            if (VECTOR_MODULE) {
                float[] vector = dinp0.clone();
                VectorKernels.reluBackward(vector, gOff, dout, dOff, out, oOff, n);
                assertSameBits(expected, vector, "VectorKernels.reluBackward n=" + n);
            }
        }
    }

    @Test
    void reluBackwardLooksAtTheOutputNotTheGradient() {
        float[] out = {0f, -0f, 2f, Float.MIN_VALUE, 0f, 0f, 0f, 0f, 3f};
        float[] grad = {5f, 5f, -7f, 1f, 5f, 5f, 5f, 5f, -1f};
        Activations.reluBackward(grad, 0, grad, 0, out, 0, out.length); // dinp aliases dout
        assertSameBits(new float[] {0f, 0f, -7f, 1f, 0f, 0f, 0f, 0f, -1f}, grad, "gradient passes where out > 0 only");
    }

    @Test
    void sigmoidIsFiniteAndCorrectAtTheExtremes() {
        assertEquals(1f, Activations.sigmoid(100f));
        float tiny = Activations.sigmoid(-100f); // e^-100 ≈ 3.7e-44: a subnormal float, not 0 and not NaN
        assertTrue(tiny > 0f && Math.abs(tiny - Math.exp(-100)) <= Float.MIN_VALUE, "sigmoid(-100) = " + tiny);
        assertEquals(0f, Activations.sigmoid(-1000f));
        assertEquals(1f, Activations.sigmoid(1000f));
        assertEquals(0.5f, Activations.sigmoid(0f));
        float[] x = {-100f, 100f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        float[] s = new float[4];
        Activations.sigmoidForward(s, 0, x, 0, 4);
        for (float v : s) assertTrue(Float.isFinite(v) && v >= 0f && v <= 1f, "sigmoid stays in [0, 1]: " + v);
    }

    @Test
    void sigmoidAndTanhMatchDoublePrecision() {
        for (int n : SIZES) {
            int off = random.nextInt(4);
            float[] x = padded(random, off, n, 2);
            for (int i = 0; i < n; i++) x[off + i] *= 20f; // [-20, 20): both tails and the middle
            float[] dout = padded(random, off, n, 2);
            float[] s = new float[off + n], t = new float[off + n], ds = new float[off + n], dt = new float[off + n];
            Activations.sigmoidForward(s, off, x, off, n);
            Activations.tanhForward(t, off, x, off, n);
            Activations.sigmoidBackward(ds, off, dout, off, s, off, n);
            Activations.tanhBackward(dt, off, dout, off, t, off, n);
            for (int i = off; i < off + n; i++) {
                double sig = 1 / (1 + Math.exp(-(double) x[i]));
                double th = Math.tanh(x[i]);
                assertClose(sig, s[i], sig, ULP1, "sigmoid(" + x[i] + ")");
                assertClose(th, t[i], Math.abs(th), ULP1, "tanh(" + x[i] + ")");
                // backward from the float forward output, as the kernel is specified
                double dsig = dout[i] * (double) s[i] * (1 - (double) s[i]);
                double dth = dout[i] * (1 - (double) t[i] * t[i]);
                assertClose(dsig, ds[i], Math.abs(dout[i] * s[i]), 2 * ULP1, "sigmoid' at " + x[i]);
                assertClose(dth, dt[i], Math.abs(dout[i]) * (1 + t[i] * t[i]), 2 * ULP1, "tanh' at " + x[i]);
            }
        }
        float[] big = {100f, -100f};
        Activations.tanhForward(big, 0, big, 0, 2);
        assertSameBits(new float[] {1f, -1f}, big, "tanh(±100) = ±1");
    }
}
