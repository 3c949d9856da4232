package io.shadowsync.nn;

import io.shadowsync.kernels.Activations;

/**
 * Binary cross-entropy on logits, {@code ℓ(x, y) = max(x, 0) − x·y + log(1 + e^{−|x|})}, which never
 * overflows and equals {@code −y·log σ(x) − (1−y)·log(1 − σ(x))}. Labels are 0/1 (soft labels in [0, 1] work too).
 */
public final class BceWithLogits {
    private BceWithLogits() {}

    /**
     * Writes σ(logits) into probs and returns the summed loss over n examples (double). One {@code e^{−|x|}}
     * serves both: σ(x) is {@code 1/(1+e)} for x ≥ 0 and {@code e/(1+e)} below (the same bits as
     * {@link Activations#sigmoid}), and {@code log(1 + e)} is taken with {@link Math#log}, an intrinsic, rather
     * than the pure-Java {@code log1p}: 1 + e rounds e by at most 2^−53 in absolute terms, far below what a
     * summed loss can show.
     */
    // probs[n] = σ(logits[n]); returns Σ ℓ(logits[i], labels[i])
    public static double forward(float[] probs, int pOff, float[] logits, int lOff, float[] labels, int yOff, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            float x = logits[lOff + i];
            float y = labels[yOff + i];
            double e = Math.exp(-Math.abs(x));
            double onePlus = 1.0 + e;
            probs[pOff + i] = (float) (x >= 0f ? 1.0 / onePlus : e / onePlus);
            total += Math.max(x, 0f) - (double) x * y + Math.log(onePlus);
        }
        return total;
    }

    /** Gradient of {@code scale · Σ ℓ}: {@code dlogits = scale · (σ(x) − y)}; scale = 1/B gives the mean loss. */
    // dlogits[n] = scale · (probs[n] − labels[n])
    public static void backward(float[] dlogits, int dOff, float[] probs, int pOff, float[] labels, int yOff, int n, float scale) {
        for (int i = 0; i < n; i++) dlogits[dOff + i] = scale * (probs[pOff + i] - labels[yOff + i]);
    }
}
