package io.shadowsync.engine;

import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.DenseOptimizer;

/**
 * One trainer: a reader thread (or, for in-memory data, the workers themselves) feeding W Hogwild worker threads that train the trainer's local replica
 * ({@code model.dense()}) and its embedding tables. Threads are named {@code trainer-R/reader} and
 * {@code trainer-R/worker-i}.
 *
 * <p>With one worker, the round-robin or random split and a fixed seed, a run is bit-for-bit repeatable:
 * the reader deals examples in file order and a single worker applies them in that order.
 */
public final class Trainer {
    private final int rank;
    private final Model model;
    private final EmbeddingStore embeddings;
    private final DenseOptimizer optimizer;
    private final TrainerConfig config;
    private final BatchSupply feeder;
    private final WorkerStats[] stats;
    private final TrainWindow window;
    private volatile long startNanos;
    private volatile Throwable workerFailure;

    public Trainer(int rank, Model model, EmbeddingStore embeddings, DenseOptimizer optimizer, DataSource train,
                   TrainerConfig config) {
        this.rank = rank;
        this.model = model;
        this.embeddings = embeddings;
        this.optimizer = optimizer;
        this.config = config;
        this.feeder = train instanceof InMemorySource mem
                ? new ShardFeeder(mem, config.workers(), config.batchSize(), config.examples(), config.epochs())
                : new BatchFeeder(train, config.workers(), config.batchSize(), config.examples(),
                        config.epochs(), config.split(), config.seed(), config.queueDepth());
        this.stats = new WorkerStats[config.workers()];
        for (int i = 0; i < stats.length; i++) stats[i] = new WorkerStats();
        this.window = new TrainWindow(config.workers(), config.trainWindow(), config.batchSize());
    }

    /**
     * Trains until the data or the example budget runs out. Rethrows, as {@link TrainingException}, the
     * first failure of the reader (bad data) or of a worker; the replica keeps whatever was trained so far.
     */
    public TrainResult run() throws InterruptedException {
        String prefix = "trainer-" + rank + "/";
        Runnable readerTask = feeder.readerTask();
        Thread reader = readerTask == null ? null : new Thread(readerTask, prefix + "reader");
        if (reader != null) reader.setDaemon(true);
        Thread[] threads = new Thread[config.workers()];
        for (int i = 0; i < threads.length; i++) {
            Worker w = new Worker(i, model, optimizer, embeddings, feeder, config.batchSize(), stats[i], window, () -> { });
            threads[i] = new Thread(() -> runGuarded(w), prefix + "worker-" + i);
            threads[i].setDaemon(true);
        }
        startNanos = System.nanoTime();
        if (reader != null) reader.start();
        for (Thread t : threads) t.start();
        try {
            for (Thread t : threads) t.join();
            if (reader != null) reader.join();
        } catch (InterruptedException e) {
            feeder.stop();
            for (Thread t : threads) t.interrupt();
            throw e;
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        Throwable failure = feeder.failure() != null ? feeder.failure() : workerFailure;
        if (failure != null) throw new TrainingException(failure);
        return result(seconds);
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
        return new Progress(ex, loss, labels, elapsed, feeder.epochsStarted());
    }

    /** The training loss over the most recent examples (see {@link TrainerConfig#trainWindow()}). */
    public TrainWindow.Snapshot window() {
        return window.snapshot();
    }

    /** Cumulative counters; the loss over an interval is the difference of two snapshots. */
    public record Progress(long examples, double lossSum, double labelSum, double seconds, int epoch) {}

    public int rank() {
        return rank;
    }

    public Model model() {
        return model;
    }

    public EmbeddingStore embeddings() {
        return embeddings;
    }

    private TrainResult result(double seconds) {
        long[] per = new long[stats.length];
        long ex = 0, nonFinite = 0, busy = 0, wait = 0;
        double loss = 0;
        for (int i = 0; i < stats.length; i++) {
            per[i] = stats[i].examples();
            ex += per[i];
            nonFinite += stats[i].nonFinite();
            loss += stats[i].lossSum();
            busy += stats[i].busyNanos();
            wait += stats[i].waitNanos();
        }
        double waitFraction = busy + wait == 0 ? 0 : (double) wait / (busy + wait);
        return new TrainResult(ex, seconds, per, feeder.skippedLines(), nonFinite, ex == 0 ? Double.NaN : loss / ex, waitFraction,
                window.snapshot());
    }
}
