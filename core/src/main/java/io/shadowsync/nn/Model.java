package io.shadowsync.nn;

import io.shadowsync.data.Batch;

/**
 * A trainable model: forward and backward of one mini-batch into a per-worker {@link Workspace}.
 *
 * <p>Dense parameters live in one {@link ParameterSet} (a trainer's local replica); embedding tables live in
 * an {@link EmbeddingStore}. A model object itself is stateless between calls apart from those two, so several
 * workers may call it at once, each with its own workspace (Hogwild).
 */
public interface Model {
    /** What this model is and how it was configured; enough to rebuild it ({@link ModelSpec#build}). */
    ModelSpec spec();

    /** The dense parameters this model reads and that {@link #forwardBackward} computes gradients for. */
    ParameterSet dense();

    /** Shapes of the embedding tables this model needs, as {rows, dim} per table (empty when none). */
    long[][] embeddingShapes();

    /** Standard deviation of the normal distribution embedding rows of table start from (0 = zeros). */
    float embeddingInitStd(int table);

    /** Seeded initialization of the dense parameters (Xavier/He as fits each layer). */
    void initDense(long seed);

    Workspace newWorkspace(int maxBatch);

    /**
     * A workspace that keeps every k-th hidden activation of the model's MLP stacks and recomputes the others in
     * backward (activation checkpointing: less memory, the same gradients, bit for bit; k = 1 keeps all). A model
     * without MLP stacks has nothing to recompute and ignores k.
     */
    default Workspace newWorkspace(int maxBatch, int recomputeEvery) {
        if (recomputeEvery < 1) throw new IllegalArgumentException("--recompute-every must be at least 1, got " + recomputeEvery);
        return newWorkspace(maxBatch);
    }

    /**
     * Forward and backward pass over batch: pulls the embedding rows it needs from emb, writes the gradient of
     * the loss summed over the batch's examples and divided by its {@link Batch#capacity} (the mean loss of a full
     * batch) into {@code ws.denseGrad()}, pushes the gradients (of the same loss) of the embedding rows it used into
     * emb, whose sparse optimizer applies them, fills
     * {@code ws.outputs()}, and returns the <em>summed</em> loss. It does not change the dense parameters: the
     * caller's optimizer applies {@code ws.denseGrad()}. The caller may hold the pushes back until after the call
     * (the engine's workers do, to skip a step whose loss or any gradient is not finite), so a model must not pull
     * a row after pushing it in the same call and expect to see the update.
     *
     * <p>Dividing by the capacity, not by the examples the batch holds, weighs every example alike: a partial batch (the
     * end of the data or of an example budget, which may hold a single example) takes a step as much smaller as it holds
     * fewer examples, instead of a full-sized step on the gradient of its few examples, which can throw a trained model
     * far off.
     */
    double forwardBackward(Batch batch, Workspace ws, EmbeddingStore emb);

    /**
     * Announces to emb, with {@link EmbeddingStore#prefetchNext}, the embedding rows a {@link #forwardBackward} of batch
     * will pull, the ids and order it will pull them in, so that a remote store fetches them while the step before
     * computes. {@code ws} is a workspace of this model that no step in progress uses. Models whose pulls depend on
     * what they compute announce nothing (the default).
     */
    default void announce(Batch batch, Workspace ws, EmbeddingStore emb) {
    }

    /** Forward only: fills {@code ws.outputs()} for the batch and returns the summed loss (0 when labels are absent). */
    double forward(Batch batch, Workspace ws, EmbeddingStore emb);

    /** Number of values {@link #forward} writes per example into {@code ws.outputs()} (1 for binary/regression, C for C classes). */
    int outputsPerExample();
}
