package io.shadowsync.engine.feed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.engine.JobState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The reader side of a trainer: one thread streams the data source (epoch after epoch, up to an example
 * budget), deals examples out to W workers ({@link DataSplit}) and hands each worker full batches through a
 * bounded queue. Batches are pooled: a worker returns each batch after use, so nothing is allocated per batch.
 *
 * <p>Sharing contract: a {@link Batch} is owned by one thread at a time and moves between the reader and a
 * worker only through {@link BlockingQueue}s (safe publication). The end of data is one {@link #END} marker per
 * worker. A reader failure is kept in {@link #failure()} and the workers are sent END, so nobody hangs.
 *
 * <p>Checkpoints ({@link #position()}, {@link #restore}): each worker counts the examples it has taken; the reader
 * notes, at the start of every epoch, the split's state and how many examples it had dealt to each worker. A position
 * is the newest epoch start that no worker is still behind, plus the counts; a resumed reader restarts that epoch
 * with that split state (the random split draws from a generator seeded per epoch for this reason), re-reads it and
 * drops, per worker, the examples that worker had already taken. Every worker's batches then continue exactly where
 * they stopped, so with one worker a resumed run trains on the same batches as one never stopped.
 *
 * <p>A batch never spans the end of an epoch: each worker's last batch of an epoch may be short.
 */
public final class BatchFeeder implements BatchSupply, Runnable {

    private final DataSource source;
    private final int workers;
    private final long exampleBudget;
    private final int epochs;
    private final DataSplit split;
    private final long seed;
    private final int batchSize;
    /** The random split's generator, reseeded at every epoch's start (reader thread only). */
    private SplittableRandom random;
    private final List<BlockingQueue<Batch>> full;
    private final List<BlockingQueue<Batch>> free;
    private final Batch[] filling;
    private final Batch staging;
    private final int[] stratumNext = new int[256];
    private volatile Throwable failure;
    private volatile boolean stopRequested;
    private volatile long examplesRead;
    private volatile long skippedLines;
    private volatile int epochsStarted;
    /** Per worker: examples in the batches it has taken (written by that worker, read while it rests). */
    private final AtomicLongArray consumed;
    /** Per worker: examples dealt to it so far (reader thread only). */
    private final long[] assigned;
    /** Per worker: examples to drop before dealing it any, on a resumed run (reader thread only). */
    private final long[] skip;
    /** The starts of the epochs a checkpoint may still restart, oldest first; guarded by itself. */
    private final ArrayList<EpochStart> epochStarts = new ArrayList<>();
    private JobState.StreamPosition resumeFrom;
    private volatile boolean readerStarted;
    /** Asked at the end of every epoch but the last whether to stop streaming (the rest is replayed elsewhere); or null. */
    private final Handover handover;

    /** Ends the streaming early: what a supply that replays the data from memory after a pass plugs in ({@link CachedFeeder}). */
    interface Handover {
        /**
         * Called by the reader thread after a whole pass, when more examples are wanted; true ends the streaming (the
         * workers get {@link #END} after the batches already dealt).
         *
         * @param pass     the pass just read, from 0
         * @param read     examples read so far, all passes
         * @param dealt    per worker, examples dealt to it so far (including those a resumed run dropped)
         * @param unskipped per worker, examples a resumed run was still to drop: taken before its checkpoint, beyond this pass
         */
        boolean after(int pass, long read, long[] dealt, long[] unskipped);
    }

    /**
     * @param exampleBudget total examples to deliver (over all epochs), or ≤ 0 for "epochs full passes"
     * @param epochs        full passes over the source when there is no example budget
     * @param queueDepth    full batches buffered per worker
     */
    public BatchFeeder(DataSource source, int workers, int batchSize, long exampleBudget, int epochs,
                       DataSplit split, long seed, int queueDepth) {
        this(source, workers, batchSize, exampleBudget, epochs, split, seed, queueDepth, null);
    }

    BatchFeeder(DataSource source, int workers, int batchSize, long exampleBudget, int epochs, DataSplit split, long seed,
                int queueDepth, Handover handover) {
        if (workers <= 0) throw new IllegalArgumentException("workers must be positive, got " + workers);
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (exampleBudget <= 0 && epochs <= 0) throw new IllegalArgumentException("need an example budget or at least one epoch");
        if (queueDepth <= 0) throw new IllegalArgumentException("queue depth must be positive, got " + queueDepth);
        this.source = source;
        this.workers = workers;
        this.exampleBudget = exampleBudget;
        this.epochs = epochs;
        this.split = split;
        this.seed = seed;
        this.batchSize = batchSize;
        this.handover = handover;
        this.consumed = new AtomicLongArray(workers);
        this.assigned = new long[workers];
        this.skip = new long[workers];
        DataSchema schema = source.schema();
        this.full = new ArrayList<>(workers);
        this.free = new ArrayList<>(workers);
        this.filling = new Batch[workers];
        for (int w = 0; w < workers; w++) {
            // pool: queueDepth queued + the one being filled + the one the worker holds. Backpressure comes from
            // the pool running dry; the full queue holds the whole pool plus END, so handing over never blocks.
            int pool = queueDepth + 2;
            full.add(new ArrayBlockingQueue<>(pool + 1));
            free.add(new ArrayBlockingQueue<>(pool));
            for (int i = 0; i < pool; i++) free.get(w).add(new Batch(batchSize, schema));
        }
        this.staging = new Batch(1, schema);
    }

    /** Worker w's next batch, or {@link #END}. Blocks while the reader is behind. */
    @Override
    public Batch take(int worker) throws InterruptedException {
        Batch b = full.get(worker).take();
        if (b != END) consumed.setRelease(worker, consumed.getPlain(worker) + b.size);
        return b;
    }

    /** Gives a used batch back to the reader's pool. */
    @Override
    public void recycle(int worker, Batch b) {
        if (b != END) {
            b.clear();
            free.get(worker).offer(b);
        }
    }

    /** Asks the reader to stop early (shutdown or a failure elsewhere); workers then receive END. */
    @Override
    public void stop() {
        stopRequested = true;
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    public long examplesRead() {
        return examplesRead;
    }

    @Override
    public long skippedLines() {
        return skippedLines;
    }

    @Override
    public int epochsStarted() {
        return epochsStarted;
    }

    @Override
    public Runnable readerTask() {
        return this;
    }

    @Override
    public JobState.DataPosition position() {
        long[] taken = new long[workers];
        for (int w = 0; w < workers; w++) taken[w] = consumed.get(w);
        return positionAt(taken);
    }

    /** Valid for counts up to two batches behind what each worker has taken: epoch starts are kept that long (see noteEpochStart). */
    @Override
    public JobState.DataPosition positionAt(long[] taken) {
        if (taken.length != workers) throw new IllegalArgumentException("counts for " + taken.length + " workers, this feeder has " + workers);
        taken = taken.clone();
        EpochStart start;
        synchronized (epochStarts) {
            // the oldest is always at or behind every worker: younger ones replace it only once they are
            start = epochStarts.isEmpty() ? new EpochStart(0, 0, 0, 0, new long[workers], new int[stratumNext.length]) : epochStarts.get(0);
            for (EpochStart e : epochStarts) {
                if (atOrBehind(e.assigned(), taken)) start = e;
            }
        }
        return new JobState.StreamPosition(start.epoch(), start.index(), start.read(), start.skipped(),
                start.assigned().clone(), start.strata().clone(), taken);
    }

    /** The reader's state at the start of an epoch: the split's counter and strata, examples read, dealt and skipped. */
    private record EpochStart(int epoch, long index, long read, long skipped, long[] assigned, int[] strata) {}

    private static boolean atOrBehind(long[] assignedAtStart, long[] taken) {
        for (int w = 0; w < taken.length; w++) {
            if (assignedAtStart[w] > taken[w]) return false;
        }
        return true;
    }

    @Override
    public void restore(JobState.DataPosition position) {
        if (!(position instanceof JobState.StreamPosition p)) {
            throw new IllegalArgumentException("a streamed source resumes from a stream position, not " + position.getClass().getSimpleName()
                    + " (was the checkpoint written with the data in memory?)");
        }
        if (readerStarted) throw new IllegalStateException("restore a position before the reader starts");
        if (p.assigned().length != workers || p.consumed().length != workers || p.strata().length != stratumNext.length) {
            throw new IllegalArgumentException("the position is for " + p.consumed().length + " workers, this trainer has " + workers);
        }
        for (int w = 0; w < workers; w++) {
            if (p.consumed()[w] < p.assigned()[w]) {
                throw new IllegalArgumentException("worker " + w + " took " + p.consumed()[w] + " examples, fewer than the "
                        + p.assigned()[w] + " dealt to it before epoch " + p.epoch());
            }
            assigned[w] = p.assigned()[w];
            skip[w] = p.consumed()[w] - p.assigned()[w];
            consumed.set(w, p.consumed()[w]);
        }
        System.arraycopy(p.strata(), 0, stratumNext, 0, stratumNext.length);
        synchronized (epochStarts) {
            epochStarts.clear();
            epochStarts.add(new EpochStart(p.epoch(), p.index(), p.read(), p.skippedLines(), p.assigned().clone(), p.strata().clone()));
        }
        resumeFrom = p;
        epochsStarted = p.epoch() + 1;
        examplesRead = p.read();
        skippedLines = p.skippedLines();
    }

    /** Notes the start of an epoch; forgets the starts that no checkpoint can restart any more (every worker is past the next). */
    private void noteEpochStart(int epoch, long index, long read, long skipped) {
        EpochStart e = new EpochStart(epoch, index, read, skipped, assigned.clone(), stratumNext.clone());
        // a start is forgotten only once every worker has applied the batches up to the next one: a worker may be two
        // batches behind what it has taken (the batch in hand and the one taken ahead, GatedSupply.peek), and a
        // progress mark (positionAt) counts applied ones
        long[] taken = new long[workers];
        for (int w = 0; w < workers; w++) taken[w] = Math.max(0, consumed.get(w) - 2L * batchSize);
        synchronized (epochStarts) {
            epochStarts.add(e);
            while (epochStarts.size() > 1 && atOrBehind(epochStarts.get(1).assigned(), taken)) epochStarts.remove(0);
        }
    }

    @Override
    public void run() {
        readerStarted = true;
        try {
            feed();
        } catch (Throwable t) {
            failure = t;
        } finally {
            finish();
        }
    }

    private void feed() throws IOException, InterruptedException {
        JobState.StreamPosition from = resumeFrom;
        long read = from == null ? 0 : from.read();
        long skippedBefore = from == null ? 0 : from.skippedLines();
        long rr = from == null ? 0 : from.index();
        for (int epoch = from == null ? 0 : from.epoch(); exampleBudget > 0 || epoch < epochs; epoch++) {
            epochsStarted = epoch + 1;
            random = new SplittableRandom((seed ^ 0x5DEECE66DL) + 0x9E3779B97F4A7C15L * epoch);
            noteEpochStart(epoch, rr, read, skippedBefore);
            long readThisEpoch = 0;
            try (ExampleReader reader = source.open()) {
                while (!stopRequested && (exampleBudget <= 0 || read < exampleBudget)) {
                    // parse into a one-example staging batch first: the split may depend on the label
                    staging.clear();
                    if (!reader.readInto(staging)) break;
                    int w = pick(rr++, staging.labels[0]);
                    if (skip[w] > 0) {
                        // trained before the checkpoint this run resumed from: counted, not dealt out again
                        skip[w]--;
                        assigned[w]++;
                        read++;
                        readThisEpoch++;
                        continue;
                    }
                    Batch b = filling(w);
                    if (b == null) return; // stopped while waiting for a free batch
                    b.appendFrom(staging, 0);
                    assigned[w]++;
                    read++;
                    readThisEpoch++;
                    if ((read & 1023) == 0) {
                        examplesRead = read;
                        skippedLines = skippedBefore + reader.skippedLines();
                    }
                    if (b.isFull()) {
                        hand(w, b);
                        filling[w] = null;
                    }
                }
                skippedBefore += reader.skippedLines();
                skippedLines = skippedBefore;
            }
            examplesRead = read;
            if (stopRequested || (exampleBudget > 0 && read >= exampleBudget)) return;
            if (readThisEpoch == 0) {
                throw new io.shadowsync.data.DataException(source.describe(), 0, "no examples in the data (every line was skipped or the source is empty)");
            }
            // a batch never spans the end of an epoch (as a ShardFeeder's never spans its shard's end): one worker's
            // batches are the same streamed, kept in memory or loaded with --in-memory
            for (int w = 0; w < workers; w++) {
                Batch b = filling[w];
                if (b != null && b.size > 0) {
                    hand(w, b);
                    filling[w] = null;
                }
            }
            if (handover != null && (exampleBudget > 0 || epoch + 1 < epochs) && handover.after(epoch, read, assigned.clone(), skip.clone())) return;
        }
    }

    /** The worker that gets example number index, whose label is label. */
    private int pick(long index, float label) {
        if (workers == 1) return 0;
        return switch (split) {
            case ROUND_ROBIN -> (int) (index % workers);
            case RANDOM -> random.nextInt(workers);
            case STRATIFIED -> {
                int k = (int) label;
                if (k != label || k < 0 || k >= stratumNext.length) yield (int) (index % workers); // regression target
                int w = stratumNext[k];
                stratumNext[k] = w + 1 == workers ? 0 : w + 1;
                yield w;
            }
        };
    }

    private Batch filling(int w) throws InterruptedException {
        Batch b = filling[w];
        while (b == null) {
            b = free.get(w).poll(100, TimeUnit.MILLISECONDS);
            if (stopRequested) return null;
            filling[w] = b;
        }
        return b;
    }

    /** Queues a full batch for worker w. Never blocks: the full queue holds the whole pool plus END. */
    private void hand(int w, Batch b) {
        if (!full.get(w).offer(b)) throw new IllegalStateException("batch queue of worker " + w + " overflowed");
    }

    private void finish() {
        boolean abort = stopRequested || failure != null;
        for (int w = 0; w < workers; w++) {
            Batch b = filling[w];
            if (abort) full.get(w).clear(); // stop promptly: drop what the worker has not taken yet
            else if (b != null && b.size > 0) hand(w, b);
            full.get(w).offer(END);
        }
    }
}
