package io.shadowsync.engine.feed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.JobState;

/**
 * Batches for in-memory data without a reader thread: worker w owns the contiguous shard
 * {@code [w·n/W, (w+1)·n/W)} of the n examples (as the PyTorch peer splits its data) and copies its next batch
 * out of it in bulk, cycling through the shard for as many epochs, or examples, as its share of the budget.
 * A batch never spans the end of the shard. On few cores this leaves every core to the workers.
 *
 * <p>Sharing contract: each worker touches only its own {@link Cursor}; the source is read-only.
 *
 * <p>Checkpoints: a worker's whole state — its place in the shard, the epoch, the shuffled order — follows from the
 * number of examples delivered to it, so that number is its position; {@link #restore} replays the cursor's moves
 * (and reshuffles) up to it without copying any data.
 */
public final class ShardFeeder implements BatchSupply {
    private final InMemorySource source;
    /** Whether this feeder reports the lines skipped while the source was loaded (see {@link #skippedLines}). */
    private final boolean reportsLoadSkips;
    private final Cursor[] cursors;
    private volatile boolean stopRequested;
    private volatile int epoch = 1;

    /** One worker's position; a separate object per worker so workers never share a cache line. */
    private static final class Cursor {
        final int lo, hi;
        final long quota;
        /** Two batches, handed out in turn: a worker may hold one while it takes the next ahead ({@link GatedSupply#peek}). */
        final Batch[] batches;
        int turn;
        final int[] order;
        final java.util.SplittableRandom random;
        int pos;
        /** Read by {@link #position()} while the worker rests: the pause's lock orders it after the worker's writes. */
        long delivered;

        Cursor(int lo, int hi, long quota, Batch[] batches, long shuffleSeed, boolean shuffle) {
            this.lo = lo;
            this.hi = hi;
            this.quota = quota;
            this.batches = batches;
            this.pos = lo;
            this.order = shuffle ? new int[hi - lo] : null;
            this.random = shuffle ? new java.util.SplittableRandom(shuffleSeed) : null;
            if (shuffle) {
                for (int i = 0; i < order.length; i++) order[i] = lo + i;
                reshuffle();
            }
        }

        /** Fisher–Yates over the shard: a new order for every epoch. */
        void reshuffle() {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
    }

    /**
     * @param exampleBudget total examples over all workers (split evenly), or ≤ 0 for {@code epochs} passes over each shard
     */
    public ShardFeeder(InMemorySource source, int workers, int batchSize, long exampleBudget, int epochs) {
        this(source, 0, source.size(), workers, batchSize, exampleBudget, epochs, false, 0, true);
    }

    /**
     * Workers share the examples {@code [from, to)} of source (a trainer's part of the data). With shuffle, each
     * worker visits its shard in a new seeded random order every epoch; without, in file order.
     */
    public ShardFeeder(InMemorySource source, int from, int to, int workers, int batchSize, long exampleBudget, int epochs,
                       boolean shuffle, long seed) {
        this(source, from, to, workers, batchSize, exampleBudget, epochs, shuffle, seed, true);
    }

    /**
     * As above; {@code reportsLoadSkips} says whether {@link #skippedLines} reports the lines skipped while the source
     * was loaded: one feeder per loaded source must, the others not (several trainers sharing one loaded source, or a
     * copy filled by a streamed pass that counted them already), so that a malformed line counts once.
     */
    public ShardFeeder(InMemorySource source, int from, int to, int workers, int batchSize, long exampleBudget, int epochs,
                       boolean shuffle, long seed, boolean reportsLoadSkips) {
        if (workers < 1 || batchSize < 1) throw new IllegalArgumentException("need at least one worker and a positive batch size");
        if (from < 0 || to > source.size() || to - from < workers) throw new IllegalArgumentException((to - from) + " examples cannot be split over " + workers + " workers");
        this.source = source;
        this.reportsLoadSkips = reportsLoadSkips;
        this.cursors = new Cursor[workers];
        int n = to - from;
        for (int w = 0; w < workers; w++) {
            int lo = from + (int) ((long) n * w / workers), hi = from + (int) ((long) n * (w + 1) / workers);
            long quota = exampleBudget > 0 ? exampleBudget / workers + (w < exampleBudget % workers ? 1 : 0) : (long) epochs * (hi - lo);
            cursors[w] = new Cursor(lo, hi, quota,
                    new Batch[] {new Batch(batchSize, source.schema()), new Batch(batchSize, source.schema())}, seed * 0x9E3779B97F4A7C15L + w, shuffle);
        }
    }

    @Override
    public Batch take(int worker) {
        Cursor c = cursors[worker];
        if (stopRequested || c.delivered >= c.quota) return END;
        wrapAtEnd(c);
        Batch b = c.batches[c.turn ^= 1];
        b.clear();
        int n = (int) Math.min(Math.min(b.capacity, c.quota - c.delivered), c.hi - c.pos);
        if (c.order == null) {
            source.copyInto(c.pos, n, b);
        } else {
            for (int i = 0; i < n; i++) source.copyInto(c.order[c.pos - c.lo + i], 1, b);
        }
        c.pos += n;
        c.delivered += n;
        return b;
    }

    /** Moves worker w's cursor over its next batch as {@link #take} would, copying nothing: the batches it holds stay as they are. */
    @Override
    public boolean skip(int worker) {
        Cursor c = cursors[worker];
        if (stopRequested || c.delivered >= c.quota) return false;
        advance(c, c.quota);
        return true;
    }

    /** One batch's move of c's cursor (at most a batch, up to limit delivered, not past the shard's end). */
    private void advance(Cursor c, long limit) {
        wrapAtEnd(c);
        int n = (int) Math.min(Math.min(c.batches[0].capacity, limit - c.delivered), c.hi - c.pos);
        c.pos += n;
        c.delivered += n;
    }

    /** At the end of the shard: back to its start, in a new order, and a new epoch. */
    private void wrapAtEnd(Cursor c) {
        if (c.pos == c.hi) {
            c.pos = c.lo;
            if (c.order != null) c.reshuffle();
            int e = (int) (c.delivered / (c.hi - c.lo)) + 1;
            if (e > epoch) epoch = e;
        }
    }

    @Override
    public JobState.DataPosition position() {
        long[] d = new long[cursors.length];
        for (int w = 0; w < d.length; w++) d[w] = cursors[w].delivered;
        return new JobState.ShardPosition(d);
    }

    @Override
    public JobState.DataPosition positionAt(long[] taken) {
        if (taken.length != cursors.length) throw new IllegalArgumentException("counts for " + taken.length + " workers, this supply has " + cursors.length);
        return new JobState.ShardPosition(taken.clone());
    }

    /**
     * Moves every worker's cursor to where it was after delivering the position's count, batch by batch as
     * {@link #take} moved it (the same batch sizes, wraps and reshuffles), without copying examples.
     */
    @Override
    public void restore(JobState.DataPosition position) {
        if (!(position instanceof JobState.ShardPosition p)) {
            throw new IllegalArgumentException("in-memory data resumes from a shard position, not " + position.getClass().getSimpleName()
                    + " (was the checkpoint written with streamed data?)");
        }
        if (p.delivered().length != cursors.length) {
            throw new IllegalArgumentException("the position is for " + p.delivered().length + " workers, this trainer has " + cursors.length);
        }
        for (int w = 0; w < cursors.length; w++) {
            Cursor c = cursors[w];
            long target = p.delivered()[w];
            if (c.delivered != 0) throw new IllegalStateException("restore a position before the workers start");
            if (target < 0) throw new IllegalArgumentException("worker " + w + " cannot have taken " + target + " examples");
            while (c.delivered < target) advance(c, target);
        }
    }

    /** Whether b is one of worker w's batches (what a supply that hands out others as well asks before recycling). */
    boolean owns(int worker, Batch b) {
        Batch[] mine = cursors[worker].batches;
        return b == mine[0] || b == mine[1];
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
        return reportsLoadSkips ? source.skippedWhileLoading() : 0;
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
