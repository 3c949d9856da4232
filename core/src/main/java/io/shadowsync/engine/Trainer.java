package io.shadowsync.engine;

import io.shadowsync.data.DataSource;
import io.shadowsync.engine.feed.BatchSupply;
import io.shadowsync.engine.step.HogwildStep;
import io.shadowsync.engine.step.StepRule;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.sync.SyncAlgorithm;
import java.util.ArrayList;
import java.util.List;

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
    private final double syncCpu;
    private final SyncStats syncStats;
    private volatile boolean training = true;
    private volatile long startNanos;
    /** The job's failure signal (this trainer's own when it runs alone). */
    private final FailureSignal failures;
    /** The counters of the run(s) before the checkpoint this one resumed from; zero for a fresh run. */
    private volatile JobState.Totals base;
    /** Resumed from a foreground pause taken before a round: take that round before the workers go on. */
    private volatile boolean pendingRound;

    /** A single Hogwild trainer with no synchronization (the plain single-trainer job). */
    public Trainer(int rank, Model model, EmbeddingStore embeddings, DenseOptimizer optimizer, DataSource train, TrainerConfig config) {
        this(rank, model, null, embeddings, new HogwildStep(optimizer), BatchSupply.ofTrainer(train, config, 0, 1), config, null, null, 0, 1,
                new SyncStats(), new FailureSignal());
    }

    /**
     * The general trainer.
     *
     * @param workerModels per-worker models when workers must not share the replica (asynchronous PS), else null
     * @param shadow       the algorithm the sync thread loops in the background, or null for no sync thread
     * @param finisher     the algorithm whose rounds this trainer keeps joining after its workers finish
     *                     (foreground collectives), or null
     * @param syncIntervalMs the shadow's fixed pause between rounds, or 0 to pace itself by syncCpu
     * @param syncCpu        the shadow's share of its trainer's CPU when it paces itself (1: no pacing; see {@link SyncPacer#cpuShare})
     * @param failures     the job's failure signal: any failure of this trainer fails it, and its failure ends this trainer
     */
    Trainer(int rank, Model model, Model[] workerModels, EmbeddingStore embeddings, StepRule rule, BatchSupply feeder,
            TrainerConfig config, SyncAlgorithm shadow, SyncAlgorithm finisher, long syncIntervalMs, double syncCpu, SyncStats syncStats,
            FailureSignal failures) {
        this.failures = failures;
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
        this.syncCpu = syncCpu;
        this.stats = new WorkerStats[config.workers()];
        for (int i = 0; i < stats.length; i++) stats[i] = new WorkerStats();
        this.window = new TrainWindow(config.workers(), config.trainWindow(), config.batchSize());
        this.base = JobState.Totals.zero(config.workers());
    }

    /**
     * Trains until the data or the example budget runs out, then finishes synchronization. Rethrows, as
     * {@link TrainingException}, the first failure of the job (for a trainer of a {@link Job}, that of any trainer):
     * the reader's (bad data), a worker's, a round's or the sync thread's. A failure ends the trainer at once — its
     * feeder stops, its workers and sync thread are woken from whatever they wait on and end — and the replica keeps
     * whatever was trained so far. A thread that still has not ended {@value #ABORT_GRACE_SECONDS} s after the failure
     * is left behind (daemon) and named in the exception.
     */
    public TrainResult run() throws InterruptedException {
        String prefix = "trainer-" + rank + "/";
        Runnable readerTask = feeder.readerTask();
        TrainerCpu[] cpu = new TrainerCpu[1]; // set below, before any of these threads starts
        Thread reader = readerTask == null ? null : new Thread(() -> {
            try {
                readerTask.run();
            } finally {
                cpu[0].ended();
            }
            Throwable f = feeder.failure();
            if (f != null) failures.fail(f);
        }, prefix + "reader");
        if (reader != null) reader.setDaemon(true);
        Thread[] threads = new Thread[config.workers()];
        for (int i = 0; i < threads.length; i++) {
            Model m = workerModels != null ? workerModels[i] : model;
            Worker w = new Worker(rank, i, m, rule, embeddings, feeder, config.batchSize(), config.recomputeEvery(), config.maxNonFinite(), stats[i], window);
            threads[i] = new Thread(() -> runGuarded(w, cpu[0]), prefix + "worker-" + i);
            threads[i].setDaemon(true);
        }
        Thread[] counted = java.util.Arrays.copyOf(threads, threads.length + 1);
        counted[threads.length] = reader;
        cpu[0] = new TrainerCpu(counted);
        SyncLoop loop = shadow == null ? null : new SyncLoop(shadow, model.dense().data(), () -> training, pacer(cpu[0]), syncStats, failures);
        Thread sync = loop == null ? null : new Thread(loop, prefix + "sync");
        if (sync != null) sync.setDaemon(true);
        failures.onFailure(() -> {
            feeder.stop();
            rule.abort();
            for (Thread t : threads) t.interrupt();
            if (sync != null) sync.interrupt();
        });
        List<String> stuck = new ArrayList<>();
        try {
            SyncAlgorithm first = shadow != null ? shadow : finisher;
            if (first != null) first.prepare(model.dense().data()); // a trainer joining a running job takes its model first
            startNanos = System.nanoTime();
            if (pendingRound) {
                // the round this trainer's workers had reached when the checkpoint was taken: theirs come after it
                long t0 = System.nanoTime();
                finisher.round(model.dense().data(), true);
                syncStats.recordRound(System.nanoTime() - t0, finisher.bytesSent(), finisher.rawBytesSent());
            }
            if (reader != null) reader.start();
            if (sync != null) sync.start();
            for (Thread t : threads) t.start();
            for (Thread t : threads) awaitEnd(t, stuck);
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            training = false;
            awaitEnd(reader, stuck);
            syncStats.recordTrainerCpu(cpu[0].getAsLong());
            if (finisher != null && !failures.failed()) {
                new SyncLoop(finisher, model.dense().data(), () -> false, SyncPacer.NONE, syncStats, failures).run();
            }
            awaitEnd(sync, stuck);
            if (!failures.failed()) return result(seconds);
        } catch (InterruptedException e) {
            failures.fail(e);
            throw e;
        } catch (RuntimeException | Error e) {
            failures.fail(e); // a failure on this thread (the first round, the finishing rounds): end the others too
        }
        TrainingException e = new TrainingException(failures.first());
        if (!stuck.isEmpty()) {
            e.addSuppressed(new IllegalStateException(String.join(", ", stuck) + " did not end within "
                    + ABORT_GRACE_SECONDS + " s of the failure and was left behind"));
        }
        throw e;
    }

    /**
     * The shadow's pacing: a fixed interval when one is set, else its share of the trainer's CPU (against cpu, the
     * workers' and the reader's), waiting for the workers to step.
     */
    private SyncPacer pacer(TrainerCpu cpu) {
        if (syncIntervalMs > 0) return SyncPacer.fixed(syncIntervalMs * 1_000_000L);
        if (syncCpu >= 1) return SyncPacer.NONE;
        return SyncPacer.cpuShare(syncCpu, () -> {
            long steps = 0;
            for (WorkerStats s : stats) steps += s.batches();
            return steps;
        }, cpu, cpu::resting, () -> training);
    }

    /** How long a thread may take to end once the job has failed before it is left behind. */
    static final long ABORT_GRACE_SECONDS = 20;

    /**
     * Waits for thread t to end; once the job has failed, at most {@link #ABORT_GRACE_SECONDS} more (then its name
     * goes into stuck). Returns at once for null.
     */
    private void awaitEnd(Thread t, List<String> stuck) throws InterruptedException {
        if (t == null) return;
        long deadline = 0;
        while (t.isAlive()) {
            t.join(100);
            if (!failures.failed() || !t.isAlive()) continue;
            if (deadline == 0) deadline = System.nanoTime() + ABORT_GRACE_SECONDS * 1_000_000_000L;
            else if (System.nanoTime() - deadline > 0) {
                stuck.add(t.getName());
                return;
            }
        }
    }

    private void runGuarded(Worker w, TrainerCpu cpu) {
        try {
            w.run();
        } catch (Throwable t) {
            failures.fail(t);
        } finally {
            cpu.ended();
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
