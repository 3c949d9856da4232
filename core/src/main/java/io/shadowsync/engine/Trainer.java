package io.shadowsync.engine;

import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.sync.SyncAlgorithm;

/**
 * One trainer: a reader thread (or, for in-memory data, the workers themselves) feeding W Hogwild worker threads
 * that train the trainer's local replica ({@code model.dense()}) and its embedding tables, and optionally a sync
 * thread (the shadow) that synchronizes the replica with other trainers in the background. Threads are named
 * {@code trainer-R/reader}, {@code trainer-R/worker-i}, {@code trainer-R/sync}.
 *
 * <p>With one worker, the round-robin split and a fixed seed, a single trainer's run is bit-for-bit repeatable:
 * examples are applied in file order by one thread.
 */
public final class Trainer {
    private final int rank;
    private final Model model;
    private final Model[] workerModels;
    private final EmbeddingStore embeddings;
    private final StepRule rule;
    private final TrainerConfig config;
    private final BatchSupply feeder;
    private final WorkerStats[] stats;
    private final TrainWindow window;
    private final SyncAlgorithm shadow;
    private final SyncAlgorithm finisher;
    private final long syncIntervalMs;
    private final SyncStats syncStats;
    private volatile boolean training = true;
    private volatile long startNanos;
    private volatile Throwable workerFailure;
    /** The counters of the run(s) before the checkpoint this one resumed from; zero for a fresh run. */
    private volatile JobState.Totals base;
    /** Resumed from a foreground pause taken before a round: take that round before the workers go on. */
    private volatile boolean pendingRound;

    /** A single Hogwild trainer with no synchronization (the plain single-trainer job). */
    public Trainer(int rank, Model model, EmbeddingStore embeddings, DenseOptimizer optimizer, DataSource train, TrainerConfig config) {
        this(rank, model, null, embeddings, new HogwildStep(optimizer), supply(train, config, 0, 1), config, null, null, 0, new SyncStats());
    }

    /**
     * The general trainer.
     *
     * @param workerModels per-worker models when workers must not share the replica (asynchronous PS), else null
     * @param shadow       the algorithm the sync thread loops in the background, or null for no sync thread
     * @param finisher     the algorithm whose rounds this trainer keeps joining after its workers finish
     *                     (foreground collectives), or null
     */
    Trainer(int rank, Model model, Model[] workerModels, EmbeddingStore embeddings, StepRule rule, BatchSupply feeder,
            TrainerConfig config, SyncAlgorithm shadow, SyncAlgorithm finisher, long syncIntervalMs, SyncStats syncStats) {
        this.syncStats = syncStats;
        this.rank = rank;
        this.model = model;
        this.workerModels = workerModels;
        this.embeddings = embeddings;
        this.rule = rule;
        this.config = config;
        this.feeder = feeder;
        this.shadow = shadow;
        this.finisher = finisher;
        this.syncIntervalMs = syncIntervalMs;
        this.stats = new WorkerStats[config.workers()];
        for (int i = 0; i < stats.length; i++) stats[i] = new WorkerStats();
        this.window = new TrainWindow(config.workers(), config.trainWindow(), config.batchSize());
        this.base = JobState.Totals.zero(config.workers());
    }

    /**
     * The batches of trainer {@code trainer} of {@code trainers}: its contiguous share of in-memory data, or every
     * {@code trainers}-th example of a streamed source; the example budget is shared evenly.
     */
    static BatchSupply supply(DataSource train, TrainerConfig c, int trainer, int trainers) {
        long budget = c.examples() <= 0 ? 0 : c.examples() / trainers + (trainer < c.examples() % trainers ? 1 : 0);
        if (train instanceof InMemorySource mem) {
            int lo = (int) ((long) mem.size() * trainer / trainers), hi = (int) ((long) mem.size() * (trainer + 1) / trainers);
            return new ShardFeeder(mem, lo, hi, c.workers(), c.batchSize(), budget, c.epochs(), c.shuffle(), c.seed() + 7919L * trainer);
        }
        DataSource mine = trainers == 1 ? train : new EveryNthSource(train, trainers, trainer);
        return new BatchFeeder(mine, c.workers(), c.batchSize(), budget, c.epochs(), c.split(), c.seed() + trainer, c.queueDepth());
    }

    /**
     * Trains until the data or the example budget runs out, then finishes synchronization. Rethrows, as
     * {@link TrainingException}, the first failure of the reader (bad data), a worker or the sync thread; the
     * replica keeps whatever was trained so far.
     */
    public TrainResult run() throws InterruptedException {
        String prefix = "trainer-" + rank + "/";
        Runnable readerTask = feeder.readerTask();
        Thread reader = readerTask == null ? null : new Thread(readerTask, prefix + "reader");
        if (reader != null) reader.setDaemon(true);
        Thread[] threads = new Thread[config.workers()];
        for (int i = 0; i < threads.length; i++) {
            Model m = workerModels != null ? workerModels[i] : model;
            Worker w = new Worker(i, m, rule, embeddings, feeder, config.batchSize(), stats[i], window);
            threads[i] = new Thread(() -> runGuarded(w), prefix + "worker-" + i);
            threads[i].setDaemon(true);
        }
        SyncLoop loop = shadow == null ? null : new SyncLoop(shadow, model.dense().data(), () -> training, syncIntervalMs, syncStats);
        Thread sync = loop == null ? null : new Thread(loop, prefix + "sync");
        if (sync != null) sync.setDaemon(true);
        SyncAlgorithm first = shadow != null ? shadow : finisher;
        if (first != null) first.prepare(model.dense().data()); // a trainer joining a running job takes its model first
        startNanos = System.nanoTime();
        if (pendingRound) {
            // the round this trainer's workers had reached when the checkpoint was taken: theirs come after it
            long t0 = System.nanoTime();
            finisher.round(model.dense().data(), true);
            syncStats.recordRound(System.nanoTime() - t0, finisher.bytesSent());
        }
        if (reader != null) reader.start();
        if (sync != null) sync.start();
        for (Thread t : threads) t.start();
        try {
            for (Thread t : threads) t.join();
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            training = false;
            if (reader != null) reader.join();
            if (finisher != null && workerFailure == null && feeder.failure() == null) {
                new SyncLoop(finisher, model.dense().data(), () -> false, 0, syncStats).run();
            }
            if (sync != null) {
                // a failed trainer must not keep the others' rounds going: interrupting its sync thread fails the
                // collective group, so every trainer ends instead of training on to the end for nothing
                if (workerFailure != null || feeder.failure() != null) sync.interrupt();
                sync.join();
            }
            Throwable failure = feeder.failure() != null ? feeder.failure() : workerFailure != null ? workerFailure : loop != null ? loop.failure() : null;
            if (failure != null) throw new TrainingException(failure);
            return result(seconds);
        } catch (InterruptedException e) {
            feeder.stop();
            for (Thread t : threads) t.interrupt();
            if (sync != null) sync.interrupt();
            throw e;
        }
    }

    private void runGuarded(Worker w) {
        try {
            w.run();
        } catch (Throwable t) {
            if (workerFailure == null) workerFailure = t;
            feeder.stop();
        }
    }

    /** Asks the reader to stop; workers finish the batch in hand and end. */
    public void stop() {
        feeder.stop();
    }

    /** A snapshot of progress for logs and progress bars (safe to call from any thread while running). */
    public Progress progress() {
        JobState.Totals b = base;
        long ex = b.examples();
        double loss = b.lossSum(), labels = b.labelSum();
        for (WorkerStats s : stats) {
            ex += s.examples();
            loss += s.lossSum();
            labels += s.labelSum();
        }
        return new Progress(ex, loss, labels, elapsed(), feeder.epochsStarted(), b.syncRounds() + syncStats.rounds());
    }

    /** Seconds trained so far, the runs before a resumed checkpoint included. */
    private double elapsed() {
        long start = startNanos;
        return base.seconds() + (start == 0 ? 0 : (System.nanoTime() - start) / 1e9);
    }

    /** Sync rounds so far, the runs before a resumed checkpoint included. */
    public long syncRounds() {
        return base.syncRounds() + syncStats.rounds();
    }

    /** Mean duration of a sync round, the runs before a resumed checkpoint included. */
    public double meanRoundMillis() {
        long r = syncRounds();
        return r == 0 ? 0 : (base.syncMillis() + syncStats.meanRoundMillis() * syncStats.rounds()) / r;
    }

    /** Bytes sent for synchronization, the runs before a resumed checkpoint included. */
    public long syncBytes() {
        return base.syncBytes() + syncStats.bytesSent();
    }

    /**
     * Where the workers are in the data counting only the batches they have applied, from {@code from} (what each worker
     * had taken before this run): an elastic trainer's progress (see {@link ProgressMark}). Safe while they run.
     */
    JobState.DataPosition appliedPosition(long[] from) {
        long[] a = from.clone();
        for (int w = 0; w < a.length; w++) a[w] += stats[w].examples();
        return feeder.positionAt(a);
    }

    /** Where the workers are in the data (read while the trainer rests: a paused job). */
    JobState.DataPosition position() {
        return feeder.position();
    }

    /**
     * Every counter so far, the runs before a resumed checkpoint included (read while the trainer rests). Examples
     * per worker are those of the data position: a foreground worker resting at its phaser has applied a batch that
     * its counters have not recorded yet (so its loss is not in the sums).
     */
    JobState.Totals totals() {
        JobState.Totals b = base;
        long[] per = feeder.position().perWorker();
        long trained = b.trained(), nonFinite = b.nonFinite(), busy = b.busyNanos(), wait = b.waitNanos(), syncWait = b.syncWaitNanos();
        double loss = b.lossSum(), labels = b.labelSum();
        for (int i = 0; i < stats.length; i++) {
            trained += stats[i].trainedExamples();
            nonFinite += stats[i].nonFinite();
            loss += stats[i].lossSum();
            labels += stats[i].labelSum();
            busy += stats[i].busyNanos();
            wait += stats[i].waitNanos();
            syncWait += stats[i].syncWaitNanos();
        }
        TrainWindow.Snapshot w = window.snapshot();
        return new JobState.Totals(per, trained, loss, labels, nonFinite, busy, wait, syncWait, elapsed(), syncRounds(),
                meanRoundMillis() * syncRounds(), syncBytes(), w.examples(), w.sumLoss(), w.sumLabels());
    }

    /**
     * Continues from a checkpoint: the data position (its examples are not handed out again) and the counters, so that
     * this run reports the whole run. The training window restarts from the saved window's sums, as one entry. Before
     * the trainer runs.
     */
    void restore(JobState.DataPosition position, JobState.Totals totals, boolean pendingRound) {
        if (startNanos != 0) throw new IllegalStateException("trainer " + rank + " is already running; restore before it runs");
        if (totals.workerExamples().length != stats.length) {
            throw new IllegalArgumentException("the checkpoint's trainer " + rank + " had " + totals.workerExamples().length
                    + " workers, this one has " + stats.length);
        }
        if (pendingRound && finisher == null) throw new IllegalArgumentException("trainer " + rank + " has no foreground round to take");
        feeder.restore(position);
        base = totals;
        this.pendingRound = pendingRound;
        if (totals.windowExamples() > 0) {
            window.record(0, totals.windowLoss(), (int) Math.min(Integer.MAX_VALUE, totals.windowExamples()), totals.windowLabels());
        }
    }

    /** The training loss over the most recent examples (see {@link TrainerConfig#trainWindow()}). */
    public TrainWindow.Snapshot window() {
        return window.snapshot();
    }

    /** Cumulative counters; the loss over an interval is the difference of two snapshots. */
    public record Progress(long examples, double lossSum, double labelSum, double seconds, int epoch, long syncRounds) {}

    public int rank() {
        return rank;
    }

    public Model model() {
        return model;
    }

    public EmbeddingStore embeddings() {
        return embeddings;
    }

    public SyncStats syncStats() {
        return syncStats;
    }

    private TrainResult result(double seconds) {
        JobState.Totals b = base;
        long[] per = new long[stats.length];
        long ex = 0, trained = b.trained(), nonFinite = b.nonFinite(), busy = b.busyNanos(), wait = b.waitNanos(), syncWait = b.syncWaitNanos();
        double loss = b.lossSum();
        seconds += b.seconds();
        for (int i = 0; i < stats.length; i++) {
            per[i] = b.workerExamples()[i] + stats[i].examples();
            ex += per[i];
            trained += stats[i].trainedExamples();
            nonFinite += stats[i].nonFinite();
            loss += stats[i].lossSum();
            busy += stats[i].busyNanos();
            wait += stats[i].waitNanos();
            syncWait += stats[i].syncWaitNanos();
        }
        long all = busy + wait + syncWait;
        return new TrainResult(ex, seconds, per, feeder.skippedLines(), nonFinite, trained == 0 ? Double.NaN : loss / trained,
                all == 0 ? 0 : (double) wait / all, all == 0 ? 0 : (double) syncWait / all, window.snapshot());
    }
}
