package io.shadowsync.nn;

import io.shadowsync.kernels.SoftmaxCrossEntropy;

/**
 * Multiclass loss: softmax then cross-entropy against class indices, through the fused kernel
 * {@link SoftmaxCrossEntropy}. Batches carry labels as floats; this layer checks that each one is a class index
 * and converts it into a preallocated {@code int[]}, so a bad label fails loudly instead of indexing garbage.
 * (Named with a {@code Loss} suffix so it does not shadow the kernel class.)
 */
public final class SoftmaxCrossEntropyLoss {
    private SoftmaxCrossEntropyLoss() {}

    /**
     * Converts labels[0..B) to class indices in intLabels, then writes softmax(logits) into probs and returns
     * the summed loss. Throws when a label is not an integer in [0, classes).
     */
    // probs[B×C] = softmax(logits[B×C]); returns Σ_b −log probs[b, labels[b]]
    public static double forward(float[] probs, float[] logits, float[] labels, int[] intLabels, int B, int classes) {
        for (int b = 0; b < B; b++) {
            float y = labels[b];
            int c = (int) y;
            if (c != y || c < 0 || c >= classes) {
                throw new IllegalArgumentException("example " + b + " of the batch has label " + y + ", not a class index in [0, " + classes + ")");
            }
            intLabels[b] = c;
        }
        return SoftmaxCrossEntropy.forward(probs, logits, intLabels, B, classes);
    }

    /** {@code dlogits = scale · (probs − onehot)}, with the labels {@link #forward} converted. */
    public static void backward(float[] dlogits, float[] probs, int[] intLabels, int B, int classes, float scale) {
        SoftmaxCrossEntropy.backward(dlogits, probs, intLabels, B, classes, scale);
    }
}
