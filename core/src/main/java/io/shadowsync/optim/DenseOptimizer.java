package io.shadowsync.optim;

/**
 * Applies a gradient to dense parameters in place.
 *
 * <p>Sharing contract: one instance per parameter replica, holding that replica's optimizer state (momentum,
 * accumulators). {@link #step} is called concurrently by all Hogwild workers of the replica, <b>without
 * locks</b>: reads and writes of parameters and state race on purpose (Recht et al., 2011); each element's
 * update is computed from whatever values it reads.
 */
public interface DenseOptimizer {
    /** params[i] ← update(params[i], grad[i], state) for i in [0, n). */
    void step(float[] params, float[] grad, int n);

    /** The optimizer's state arrays (for checkpoints): live arrays, not copies; empty for plain SGD. */
    float[][] state();

    /**
     * The optimizer's step counter, for one whose update depends on it (Adam's bias correction): a checkpoint saves it
     * beside {@link #state()}. 0 for the others.
     */
    default long steps() {
        return 0;
    }

    /** Sets the step counter when restoring a checkpoint, before any worker steps; ignored by optimizers without one. */
    default void restoreSteps(long steps) {}
}
