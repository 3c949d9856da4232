package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.data.InMemorySource;

/**
 * Batches for in-memory data without a reader thread: worker w owns the contiguous shard
 * {@code [w·n/W, (w+1)·n/W)} of the n examples (as the PyTorch peer splits its data) and copies its next batch
 * out of it in bulk, cycling through the shard for as many epochs, or examples, as its share of the budget.
 * A batch never spans the end of the shard. On few cores this leaves every core to the workers.
 *
 * <p>Sharing contract: each worker touches only its own {@link Cursor}; the source is read-only.
 */
public final class ShardFeeder implements BatchSupply {
    private final InMemorySource source;
    private final Cursor[] cursors;
    private volatile boolean stopRequested;
    private volatile int epoch = 1;

    /** One worker's position; a separate object per worker so workers never share a cache line. */
    private static final class Cursor {
        final int lo, hi;
        final long quota;
        final Batch batch;
        int pos;
        long delivered;

        Cursor(int lo, int hi, long quota, Batch batch) {
            this.lo = lo;
            this.hi = hi;
            this.quota = quota;
            this.batch = batch;
            this.pos = lo;
        }
    }

    /**
     * @param exampleBudget total examples over all workers (split evenly), or ≤ 0 for {@code epochs} passes over each shard
     */
    public ShardFeeder(InMemorySource source, int workers, int batchSize, long exampleBudget, int epochs) {
        if (workers < 1 || batchSize < 1) throw new IllegalArgumentException("need at least one worker and a positive batch size");
        if (source.size() < workers) throw new IllegalArgumentException(source.size() + " examples cannot be split over " + workers + " workers");
        this.source = source;
        this.cursors = new Cursor[workers];
        int n = source.size();
        for (int w = 0; w < workers; w++) {
            int lo = (int) ((long) n * w / workers), hi = (int) ((long) n * (w + 1) / workers);
            long quota = exampleBudget > 0 ? exampleBudget / workers + (w < exampleBudget % workers ? 1 : 0) : (long) epochs * (hi - lo);
            cursors[w] = new Cursor(lo, hi, quota, new Batch(batchSize, source.schema()));
        }
    }

    @Override
    public Batch take(int worker) {
        Cursor c = cursors[worker];
        if (stopRequested || c.delivered >= c.quota) return END;
        if (c.pos == c.hi) {
            c.pos = c.lo;
            int e = (int) (c.delivered / (c.hi - c.lo)) + 1;
            if (e > epoch) epoch = e;
        }
        Batch b = c.batch;
        b.clear();
        int n = (int) Math.min(Math.min(b.capacity, c.quota - c.delivered), c.hi - c.pos);
        source.copyInto(c.pos, n, b);
        c.pos += n;
        c.delivered += n;
        return b;
    }

    @Override
    public void recycle(int worker, Batch b) {
        // the worker's one batch is refilled by the next take
    }

    @Override
    public void stop() {
        stopRequested = true;
    }

    @Override
    public Throwable failure() {
        return null;
    }

    @Override
    public long skippedLines() {
        return source.skippedWhileLoading();
    }

    @Override
    public int epochsStarted() {
        return epoch;
    }

    @Override
    public Runnable readerTask() {
        return null;
    }
}
