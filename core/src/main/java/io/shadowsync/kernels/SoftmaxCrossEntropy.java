package io.shadowsync.kernels;

/**
 * Softmax followed by cross-entropy against integer class labels, fused for stability.
 * Shapes: logits, probs, dlogits are row-major {@code [B×C]}; labels {@code [B]} in [0, C).
 */
public final class SoftmaxCrossEntropy {
    private SoftmaxCrossEntropy() {}

    /**
     * Writes the row-wise softmax of logits into probs and returns the summed loss
     * {@code Σ_b −log probs[b, labels[b]]} (in double, unscaled). Log-sum-exp with the row max subtracted.
     */
    public static double forward(float[] probs, float[] logits, int[] labels, int batch, int classes) {
        double total = 0;
        for (int b = 0; b < batch; b++) {
            int o = b * classes;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                float e = (float) Math.exp(logits[o + c] - max);
                probs[o + c] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int c = 0; c < classes; c++) probs[o + c] *= inv;
            total += -(logits[o + labels[b]] - max - Math.log(sum));
        }
        return total;
    }

    /** {@code dlogits[b,c] = scale · (probs[b,c] − [c == labels[b]])}; scale is usually 1/B. */
    public static void backward(float[] dlogits, float[] probs, int[] labels, int batch, int classes, float scale) {
        for (int b = 0; b < batch; b++) {
            int o = b * classes;
            for (int c = 0; c < classes; c++) dlogits[o + c] = scale * probs[o + c];
            dlogits[o + labels[b]] -= scale;
        }
    }
}
