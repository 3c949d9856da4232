package io.shadowsync.engine;

import io.shadowsync.engine.feed.DataSplit;

/**
 * How one trainer trains. Java users configure a job with {@code io.shadowsync.api.TrainingJob.builder()}, which
 * names every setting and fills in the defaults; this record is the engine's form of it.
 *
 * @param workers    Hogwild worker threads
 * @param batchSize  examples per mini-batch (per worker)
 * @param examples   total examples to train on (over all epochs); ≤ 0 means {@code epochs} full passes
 * @param epochs     full passes over the data when {@code examples} ≤ 0
 * @param split      how examples are dealt out to workers
 * @param seed       seeds the split (the model's initialization has its own seed)
 * @param queueDepth full batches buffered per worker between the reader and the worker
 * @param trainWindow number of most recent examples the sliding training metrics cover
 * @param shuffle    in-memory data: visit each worker's shard in a new random order every epoch
 * @param recomputeEvery activation checkpointing of the models' MLP stacks: keep every k-th hidden activation, recompute
 *                   the others in backward (1: keep all); the gradients are the same, only memory and time change
 * @param maxNonFinite the job stops (a {@code NonFiniteException}) when a worker has this many non-finite batches in a
 *                   row: the model has diverged; 0 never stops, only counts ({@value #DEFAULT_MAX_NON_FINITE})
 */
public record TrainerConfig(int workers, int batchSize, long examples, int epochs, DataSplit split, long seed, int queueDepth,
                            long trainWindow, boolean shuffle, int maxNonFinite, int recomputeEvery) {
    /** Consecutive non-finite batches of one worker that stop the job by default. */
    public static final int DEFAULT_MAX_NON_FINITE = 50;

    /** With the default limit of consecutive non-finite batches. */
    public TrainerConfig(int workers, int batchSize, long examples, int epochs, DataSplit split, long seed, int queueDepth,
                         long trainWindow, boolean shuffle) {
        this(workers, batchSize, examples, epochs, split, seed, queueDepth, trainWindow, shuffle, DEFAULT_MAX_NON_FINITE);
    }

    /** Keeping every hidden activation (no recomputation). */
    public TrainerConfig(int workers, int batchSize, long examples, int epochs, DataSplit split, long seed, int queueDepth,
                         long trainWindow, boolean shuffle, int maxNonFinite) {
        this(workers, batchSize, examples, epochs, split, seed, queueDepth, trainWindow, shuffle, maxNonFinite, 1);
    }
    /** The most Hogwild workers a trainer takes (each is a thread with its own workspace and batch pool). */
    public static final int MAX_WORKERS = 1024;

    public TrainerConfig {
        if (recomputeEvery < 1) throw new IllegalArgumentException("--recompute-every must be at least 1 (1: keep every activation), got " + recomputeEvery);
        if (maxNonFinite < 0) throw new IllegalArgumentException("--max-non-finite must be at least 0 (0: never stop), got " + maxNonFinite);
        if (workers < 1) throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        if (workers > MAX_WORKERS) throw new IllegalArgumentException("--workers must be at most " + MAX_WORKERS + " per trainer, got " + workers);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (examples <= 0 && epochs < 1) throw new IllegalArgumentException("give a positive example count or at least one epoch");
        if (queueDepth < 1) throw new IllegalArgumentException("queue depth must be at least 1, got " + queueDepth);
        if (trainWindow < 1) throw new IllegalArgumentException("the training-metrics window must cover at least 1 example, got " + trainWindow);
    }
}
