package io.shadowsync.engine.feed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.CachedSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.OwnShare;
import io.shadowsync.data.SplittableSource;
import io.shadowsync.engine.JobState;
import io.shadowsync.engine.TrainerConfig;

/**
 * Where a trainer's workers get their batches. Three kinds: {@link BatchFeeder} (a reader thread streams and
 * parses the source, for data of any size), {@link ShardFeeder} (in-memory data; each worker copies its own
 * shard, no reader thread) and {@link CachedFeeder} (data kept in memory after its first pass: streamed once, then
 * shards).
 *
 * <p>Contract: worker w alone calls {@link #take}(w) and {@link #recycle}(w, …); {@link #END} ends its work.
 */
public interface BatchSupply {
    /** Marker a worker receives when there is no more data for it. */
    Batch END = new Batch(1, 0, 0, false);

    /** Worker w's next batch, or {@link #END}. */
    Batch take(int worker) throws InterruptedException;

    /**
     * Worker w's next batch (or {@link #END}), taken ahead while it trains the one in hand, so that a remote store can
     * fetch its rows meanwhile; the next {@link #take}(w) returns it. Null when this supply does not look ahead (the
     * default) or a pause is asked for. A batch taken ahead is not trained yet: {@link #position} leaves it out.
     */
    default Batch peek(int worker) throws InterruptedException {
        return null;
    }

    /** Gives back a batch that worker w has finished with. */
    void recycle(int worker, Batch b);

    /**
     * Passes over worker w's next batch without handing it out (a survivor's filter skips the batches that are another
     * survivor's, {@link Takeover}): true when there was one, false at the end. It must leave alone the batches the
     * worker holds — the one it trains and the one it took ahead — which taking and recycling does for a supply with a
     * pool of batches; a supply that hands out a few buffers of its own in turn ({@link ShardFeeder}) moves its cursor
     * instead.
     */
    default boolean skip(int worker) throws InterruptedException {
        Batch b = take(worker);
        if (b == END) return false;
        recycle(worker, b);
        return true;
    }

    /** Asks for an early end: every worker receives END soon. */
    void stop();

    /** The failure that ended the supply early (bad data, I/O), or null. */
    Throwable failure();

    long skippedLines();

    /** The epoch being read, counting from 1. */
    int epochsStarted();

    /** A task to run on its own thread (the reader), or null when workers read for themselves. */
    Runnable readerTask();

    /**
     * Where the workers are in the data: what each has taken, and so trained on once it asks for its next batch.
     * Read it while the workers rest (a paused job): a worker writes its part as it takes a batch.
     */
    JobState.DataPosition position();

    /** Continues from a checkpoint's position: the examples it counts as taken are not handed out again. Before the trainer runs. */
    void restore(JobState.DataPosition position);

    /**
     * The position at which worker w has taken exactly its first {@code taken[w]} examples (each a count it has reached,
     * at most two batches behind what it has taken now): an elastic trainer's progress mark, counting only the batches its
     * workers have applied, which a trainer taking over its share {@link #restore}s. Safe while the workers run.
     */
    default JobState.DataPosition positionAt(long[] taken) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no position");
    }

    /**
     * The batches of trainer {@code trainer} of {@code trainers}: its contiguous share of in-memory data; of data kept in
     * memory after its first pass ({@link CachedSource}), its input split, streamed once and then replayed in shards; of a streamed
     * source asked to split ({@link #splits}), its input split, which it alone parses; of any other, every
     * {@code trainers}-th example; all of an {@link OwnShare}. The example budget is shared evenly.
     */
    static BatchSupply ofTrainer(DataSource train, TrainerConfig c, int trainer, int trainers) {
        long budget = c.examples() <= 0 ? 0 : c.examples() / trainers + (trainer < c.examples() % trainers ? 1 : 0);
        // data split already (a Spark barrier task's partition): all of it is this trainer's
        boolean own = train instanceof OwnShare;
        if (own) train = ((OwnShare) train).data();
        int parts = own ? 1 : trainers, part = own ? 0 : trainer;
        if (train instanceof InMemorySource mem) {
            int lo = (int) ((long) mem.size() * part / parts), hi = (int) ((long) mem.size() * (part + 1) / parts);
            // the source's skipped lines count once: its own trainer's, or trainer 0's of trainers that share it
            return new ShardFeeder(mem, lo, hi, c.workers(), c.batchSize(), budget, c.epochs(), c.shuffle(), c.seed() + 7919L * trainer,
                    own || trainer == 0);
        }
        DataSource mine = parts == 1 ? train
                : splits(train, parts) ? ((SplittableSource) train).share(part, parts) : new EveryNthSource(train, parts, part);
        if (mine instanceof CachedSource kept) {
            return new CachedFeeder(kept, c.workers(), c.batchSize(), budget, c.epochs(), c.split(), c.seed() + trainer, c.queueDepth());
        }
        return new BatchFeeder(mine, c.workers(), c.batchSize(), budget, c.epochs(), c.split(), c.seed() + trainer, c.queueDepth());
    }

    /**
     * Whether {@code trainers} trainers take input splits of {@code data} rather than every N-th example: of any
     * splittable source — text files ({@link io.shadowsync.data.TextFiles}, their cache, a single file's
     * {@link io.shadowsync.data.TextFileSource}) — that gives each of them some data
     * ({@link SplittableSource#splitsInto}: not one gzip file for two). {@link io.shadowsync.data.TextFiles#unsplit}
     * reads them every N-th instead (the CLI's {@code --no-input-splits}).
     */
    static boolean splits(DataSource data, int trainers) {
        return data instanceof SplittableSource s && s.splitsInto(trainers);
    }
}
