package io.shadowsync.nn;

/** Squared error {@code ℓ(x, y) = (x − y)²}, as PyTorch's {@code MSELoss} (whose mean is over the batch). */
public final class Mse {
    private Mse() {}

    // returns Σ_i (pred[i] − target[i])²
    public static double forward(float[] pred, int pOff, float[] target, int tOff, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double e = (double) pred[pOff + i] - target[tOff + i];
            total += e * e;
        }
        return total;
    }

    /** Gradient of {@code scale · Σ ℓ}: {@code dpred = 2·scale·(pred − target)}; scale = 1/B gives the mean loss. */
    // dpred[n] = 2 · scale · (pred[n] − target[n])
    public static void backward(float[] dpred, int dOff, float[] pred, int pOff, float[] target, int tOff, int n, float scale) {
        float s2 = 2f * scale;
        for (int i = 0; i < n; i++) dpred[dOff + i] = s2 * (pred[pOff + i] - target[tOff + i]);
    }
}
