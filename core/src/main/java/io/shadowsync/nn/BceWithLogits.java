package io.shadowsync.nn;

import io.shadowsync.kernels.Activations;

/**
 * Binary cross-entropy on logits, {@code ℓ(x, y) = max(x, 0) − x·y + log(1 + e^{−|x|})}, which never
 * overflows and equals {@code −y·log σ(x) − (1−y)·log(1 − σ(x))}. Labels are 0/1 (soft labels in [0, 1] work too).
 */
public final class BceWithLogits {
    private BceWithLogits() {}

    /** Writes σ(logits) into probs and returns the summed loss over n examples (double). */
    // probs[n] = σ(logits[n]); returns Σ ℓ(logits[i], labels[i])
    public static double forward(float[] probs, int pOff, float[] logits, int lOff, float[] labels, int yOff, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            float x = logits[lOff + i];
            float y = labels[yOff + i];
            probs[pOff + i] = Activations.sigmoid(x);
            total += Math.max(x, 0f) - (double) x * y + Math.log1p(Math.exp(-Math.abs(x)));
        }
        return total;
    }

    /** Gradient of {@code scale · Σ ℓ}: {@code dlogits = scale · (σ(x) − y)}; scale = 1/B gives the mean loss. */
    // dlogits[n] = scale · (probs[n] − labels[n])
    public static void backward(float[] dlogits, int dOff, float[] probs, int pOff, float[] labels, int yOff, int n, float scale) {
        for (int i = 0; i < n; i++) dlogits[dOff + i] = scale * (probs[pOff + i] - labels[yOff + i]);
    }
}
