package io.shadowsync.kernels;

/**
 * Element-wise activations, forward and backward, on {@code float[]} with offsets.
 * Backward kernels take the forward <em>output</em> (ReLU: out &gt; 0; sigmoid: s(1−s); tanh: 1−t²) so the
 * input need not be kept. {@code dinp} may alias {@code dout}, and {@code out} may alias {@code inp}.
 *
 * <p>ReLU runs on the Vector API when {@link Vec#simdDescription()} says so (a compare and a blend, bit-identical
 * to the scalar loop, NaN and −0 included: both give +0). Sigmoid and tanh stay scalar on purpose: they are
 * computed in double with {@link Math#exp}/{@link Math#tanh}, which gives the same bits on every machine,
 * while the Vector API's EXP/TANH are intrinsics only where the JDK ships its SVML stubs (x86) and a slow
 * per-lane fallback elsewhere, with platform-dependent rounding; and they run on a model's few output units
 * (DLRM: 128×1 per batch), where they cost nothing next to the gemms.
 */
public final class Activations {
    private Activations() {}

    // out[n] = inp[n] > 0 ? inp[n] : 0 (NaN gives 0)
    public static void reluForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        if (Vec.SIMD) VectorKernels.reluForward(out, outOff, inp, inpOff, n);
        else reluForwardScalar(out, outOff, inp, inpOff, n);
    }

    static void reluForwardScalar(float[] out, int outOff, float[] inp, int inpOff, int n) {
        for (int i = 0; i < n; i++) {
            float v = inp[inpOff + i];
            out[outOff + i] = v > 0f ? v : 0f;
        }
    }

    // dinp[n] = dout[n] · [out[n] > 0]
    public static void reluBackward(float[] dinp, int dinpOff, float[] dout, int doutOff, float[] out, int outOff, int n) {
        if (Vec.SIMD) VectorKernels.reluBackward(dinp, dinpOff, dout, doutOff, out, outOff, n);
        else reluBackwardScalar(dinp, dinpOff, dout, doutOff, out, outOff, n);
    }

    static void reluBackwardScalar(float[] dinp, int dinpOff, float[] dout, int doutOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) dinp[dinpOff + i] = out[outOff + i] > 0f ? dout[doutOff + i] : 0f;
    }

    // out[n] = 1 / (1 + exp(-inp[n])), computed without overflow for large |inp|
    public static void sigmoidForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = sigmoid(inp[inpOff + i]);
    }

    // dinp[n] = dout[n] · out[n] · (1 − out[n])
    public static void sigmoidBackward(float[] dinp, int dinpOff, float[] dout, int doutOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            float s = out[outOff + i];
            dinp[dinpOff + i] = dout[doutOff + i] * s * (1f - s);
        }
    }

    // out[n] = tanh(inp[n])
    public static void tanhForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = (float) Math.tanh(inp[inpOff + i]);
    }

    // dinp[n] = dout[n] · (1 − out[n]²)
    public static void tanhBackward(float[] dinp, int dinpOff, float[] dout, int doutOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            float t = out[outOff + i];
            dinp[dinpOff + i] = dout[doutOff + i] * (1f - t * t);
        }
    }

    /** Numerically stable logistic function. */
    public static float sigmoid(float x) {
        if (x >= 0f) {
            return (float) (1.0 / (1.0 + Math.exp(-x)));
        }
        double e = Math.exp(x);
        return (float) (e / (1.0 + e));
    }
}
