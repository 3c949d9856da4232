package io.shadowsync.kernels;

/**
 * Softmax followed by cross-entropy against integer class labels, fused for stability.
 * Shapes: logits, probs, dlogits are row-major {@code [B×C]}; labels {@code [B]} in [0, C).
 *
 * <p>Nothing is allocated; each row is read three times (max, exp and sum, normalise), which for the class
 * counts we have (C ≤ a few hundred) stays in L1. {@code exp} runs in double through {@link Math#exp}, so
 * the probabilities are the same on every machine. Sharing: writes only probs (forward) or dlogits
 * (backward); the caller owns both.
 */
public final class SoftmaxCrossEntropy {
    private SoftmaxCrossEntropy() {}

    /**
     * Writes the row-wise softmax of logits into probs and returns the summed loss
     * {@code Σ_b −log probs[b, labels[b]]} (in double, unscaled). Log-sum-exp with the row max subtracted,
     * so logits of any finite size give finite probabilities and a finite loss. probs may alias logits.
     *
     * @throws IllegalArgumentException if a label is outside [0, classes): read as is, it would silently
     *         pick a logit of the next row
     */
    public static double forward(float[] probs, float[] logits, int[] labels, int batch, int classes) {
        double total = 0;
        for (int b = 0; b < batch; b++) {
            int o = b * classes;
            int label = checkedLabel(labels, b, classes);
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            // read the label's logit before probs (which may alias logits) overwrites it
            double labelShifted = (double) logits[o + label] - max;
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                float e = (float) Math.exp((double) logits[o + c] - max); // in double: the float subtraction would round the exponent
                probs[o + c] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int c = 0; c < classes; c++) probs[o + c] *= inv;
            total += Math.log(sum) - labelShifted;
        }
        return total;
    }

    /**
     * {@code dlogits[b,c] = scale · (probs[b,c] − [c == labels[b]])}; scale is usually 1/B. dlogits may alias
     * probs (the gradient then overwrites the probabilities in place).
     *
     * @throws IllegalArgumentException if a label is outside [0, classes)
     */
    public static void backward(float[] dlogits, float[] probs, int[] labels, int batch, int classes, float scale) {
        for (int b = 0; b < batch; b++) {
            int o = b * classes;
            int label = checkedLabel(labels, b, classes);
            for (int c = 0; c < classes; c++) dlogits[o + c] = scale * probs[o + c];
            dlogits[o + label] -= scale;
        }
    }

    private static int checkedLabel(int[] labels, int b, int classes) {
        int label = labels[b];
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " of row " + b + " is outside [0, " + classes + ")");
        }
        return label;
    }
}
