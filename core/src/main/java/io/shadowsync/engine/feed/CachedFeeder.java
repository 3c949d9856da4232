package io.shadowsync.engine.feed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.CachedSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.JobState;

/**
 * Batches for data kept in memory after its first pass ({@link CachedSource}): the first pass streams through a
 * {@link BatchFeeder}, whose reader thread parses the files, fills the copy and deals the examples out by the
 * {@link DataSplit}; from the second pass on every worker copies its own contiguous shard of the copy, as
 * {@link ShardFeeder} does for {@code --in-memory} data, and the reader thread has ended. When the copy is not there
 * after the first pass (it outgrew its bound, or fewer examples than workers) the reader streams on, as a plain
 * {@link BatchFeeder}.
 *
 * <p>Every pass hands out each example of the data once: the first by the split, the later ones as worker w's shard
 * {@code [w·n/W, (w+1)·n/W)} of the n examples, in file order. No batch spans the end of a pass. With one worker that
 * is the file order throughout: the same batches as streamed and as {@code --in-memory}; with more, a worker's
 * examples after the first pass are its shard's, as with {@code --in-memory}.
 *
 * <p>Sharing contract: worker w alone takes and recycles its batches; the replay's shards are made by the reader
 * thread before it sends the workers {@link #END} (the queue publishes them), and are read-only.
 *
 * <p>Checkpoints: a position is the streamed one ({@link JobState.StreamPosition}): the start of the pass the reader
 * began last, and what each worker has taken. Worker w takes {@code a[w]} examples from the stream (dealt to it by the
 * end of the pass the copy was completed in), then its shard's: a resumed run re-reads the data (refilling the copy),
 * drops what each worker had taken of that pass, and starts worker w's shard at {@code taken[w] − a[w]}, which a shard
 * follows from alone ({@link ShardFeeder#restore}).
 */
final class CachedFeeder implements BatchSupply {
    private final CachedSource source;
    private final int workers;
    private final int batchSize;
    private final long exampleBudget;
    private final int epochs;
    private final BatchFeeder stream;
    /** The shards, once the reader has handed over (published by the END it then sends). */
    private volatile ShardFeeder replay;
    /** Per worker, examples the stream dealt to it before the replay: set with replay. */
    private volatile long[] streamed;
    /** Passes read by the stream before the replay. */
    private volatile int streamedPasses;
    /** Per worker: whether it takes from the shards (that worker only). */
    private final boolean[] replaying;
    private volatile boolean stopRequested;

    CachedFeeder(CachedSource source, int workers, int batchSize, long exampleBudget, int epochs, DataSplit split, long seed,
                 int queueDepth) {
        this.source = source;
        this.workers = workers;
        this.batchSize = batchSize;
        this.exampleBudget = exampleBudget;
        this.epochs = epochs;
        this.replaying = new boolean[workers];
        this.stream = new BatchFeeder(source, workers, batchSize, exampleBudget, epochs, split, seed, queueDepth, this::handOver);
    }

    /** The reader's question after a pass: replay from the copy from now on, when it is there. */
    private boolean handOver(int pass, long read, long[] dealt, long[] unskipped) {
        InMemorySource copy = source.copy();
        if (copy == null || copy.size() < workers || stopRequested) return false;
        // the rest of the run, shared as ShardFeeder shares it: passes over every shard, or the rest of the budget
        ShardFeeder shards = exampleBudget > 0
                ? new ShardFeeder(copy, 0, copy.size(), workers, batchSize, exampleBudget - read, 0, false, 0, false)
                : new ShardFeeder(copy, 0, copy.size(), workers, batchSize, 0, epochs - pass - 1, false, 0, false); // the pass counted the skips
        // a resumed run: worker w had taken unskipped[w] examples past what this pass dealt it, all from its shard
        shards.restore(new JobState.ShardPosition(unskipped));
        streamed = dealt;
        streamedPasses = pass + 1;
        replay = shards;
        return true;
    }

    @Override
    public Batch take(int worker) throws InterruptedException {
        if (!replaying[worker]) {
            Batch b = stream.take(worker);
            ShardFeeder r = replay;
            if (b != END || r == null || stopRequested) return b;
            replaying[worker] = true;
        }
        return replay.take(worker);
    }

    @Override
    public boolean skip(int worker) throws InterruptedException {
        if (!replaying[worker]) {
            Batch b = stream.take(worker);
            if (b != END) {
                stream.recycle(worker, b);
                return true;
            }
            if (replay == null || stopRequested) return false;
            replaying[worker] = true;
        }
        return replay.skip(worker); // the shards' cursor moves; the batches the worker holds stay
    }

    @Override
    public void recycle(int worker, Batch b) {
        ShardFeeder r = replay;
        // a streamed batch may come back after the switch (the worker held it while taking its first shard batch)
        if (r == null || !r.owns(worker, b)) stream.recycle(worker, b);
    }

    @Override
    public void stop() {
        stopRequested = true;
        stream.stop();
        ShardFeeder r = replay;
        if (r != null) r.stop();
    }

    @Override
    public Throwable failure() {
        return stream.failure();
    }

    @Override
    public long skippedLines() {
        return stream.skippedLines();
    }

    @Override
    public int epochsStarted() {
        ShardFeeder r = replay;
        return r == null ? stream.epochsStarted() : streamedPasses + r.epochsStarted();
    }

    @Override
    public Runnable readerTask() {
        return stream.readerTask();
    }

    @Override
    public JobState.DataPosition position() {
        return stream.positionAt(taken(stream.position().perWorker()));
    }

    @Override
    public JobState.DataPosition positionAt(long[] taken) {
        return stream.positionAt(taken);
    }

    /**
     * What each worker has taken: from the stream, or, once it replays, the stream's share and its shard's (a resumed
     * worker's shard starts at what it had taken past the stream's share). Read while the workers rest, as
     * {@link ShardFeeder#position} is.
     */
    private long[] taken(long[] fromStream) {
        ShardFeeder r = replay;
        if (r == null) return fromStream;
        long[] fromShard = r.position().perWorker();
        long[] a = streamed;
        for (int w = 0; w < workers; w++) {
            if (replaying[w]) fromStream[w] = a[w] + fromShard[w];
        }
        return fromStream;
    }

    @Override
    public void restore(JobState.DataPosition position) {
        stream.restore(position);
    }
}
