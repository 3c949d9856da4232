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
        startNanos = System.nanoTime();
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
        long ex = 0;
        double loss = 0, labels = 0;
        for (WorkerStats s : stats) {
            ex += s.examples();
            loss += s.lossSum();
            labels += s.labelSum();
        }
        long start = startNanos;
        double elapsed = start == 0 ? 0 : (System.nanoTime() - start) / 1e9;
        return new Progress(ex, loss, labels, elapsed, feeder.epochsStarted(), syncStats.rounds());
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
        long[] per = new long[stats.length];
        long ex = 0, trained = 0, nonFinite = 0, busy = 0, wait = 0, syncWait = 0;
        double loss = 0;
        for (int i = 0; i < stats.length; i++) {
            per[i] = stats[i].examples();
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
