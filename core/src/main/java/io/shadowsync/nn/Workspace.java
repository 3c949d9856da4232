package io.shadowsync.nn;

/**
 * Per-worker scratch memory of a model: activations, gradients and index buffers for one mini-batch of at
 * most {@link #maxBatch()} examples, allocated once so the hot loop allocates nothing. Never shared between
 * threads.
 */
public interface Workspace {
    int maxBatch();

    /** Gradient of the mean batch loss with respect to the dense parameters, same layout as {@link Model#dense()}. */
    float[] denseGrad();

    /** Model outputs of the last forward pass: one score per example (probability for binary, else per class). */
    float[] outputs();

    /** Floats of the hidden activations kept for backward (the MLP stacks'; see {@code MlpStack.Scratch}); 0 when none. */
    default long activationFloats() {
        return 0;
    }
}
