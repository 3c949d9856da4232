package io.shadowsync.engine;

import io.shadowsync.comm.Collective;
import io.shadowsync.data.DataSource;
import io.shadowsync.engine.feed.BatchSupply;
import io.shadowsync.engine.feed.Takeover;
import io.shadowsync.engine.step.AsyncPsStep;
import io.shadowsync.engine.step.HogwildStep;
import io.shadowsync.engine.step.SlowStep;
import io.shadowsync.engine.step.StepRule;
import io.shadowsync.metrics.CallStats;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.RowBytes;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.NonFiniteException;
import io.shadowsync.sync.SyncAlgorithm;
import io.shadowsync.sync.SyncContext;
import io.shadowsync.sync.SyncSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * A training job, or the part of it that runs in this process: N trainers (each a set of threads with its own dense
 * replica) around a {@link Cluster} that holds the shared state — embedding tables on parameter-server shards, the
 * dense server for EASGD and asynchronous SGD, and the collectives. The embedded default runs all N trainers in
 * this JVM over an {@link InProcessCluster}; a process of a multi-process job runs one trainer over a networked
 * cluster. Every replica starts from the same initial parameters (the seeded initialization, the same in every
 * process). The final model is trainer 0's replica after the last synchronization (for asynchronous SGD: the
 * server's parameters; for EASGD: the center once every trainer has pushed its last round), with the server's
 * embedding tables.
 *
 * <p>Checkpoints: {@link #pause} brings every thread of an in-process job to rest between steps and rounds (see
 * {@link PauseGate}), {@link Paused#state()} hands out the state to write, and {@link #restore} puts a state back into
 * a job before it runs. Workers rest before taking their next batch (Hogwild, asynchronous SGD), all at the same
 * step (synchronous SGD), or with their trainer at its next round (foreground); sync threads rest between rounds, at
 * the same round when their algorithm is collective.
 */
public final class Job {
    private final JobConfig config;
    private final int[] ranks;
    private final Model[] models;
    private final Trainer[] trainers;
    private final Cluster cluster;
    private final EmbeddingStore tables;
    private final boolean ownsCluster;
    private final PauseGate gate;
    /** Per trainer here: the optimizer of its replica, or null (asynchronous SGD: the server's optimizer). */
    private final DenseOptimizer[] optimizers;
    /** Per trainer here: its sync algorithm (the state of BMUF), or null. */
    private final SyncAlgorithm[] algorithms;
    /** Per trainer here: the same behind its pause point, or null. */
    private final GatedAlgorithm[] gated;
    /** Per trainer here: its workers' own models (asynchronous SGD), or null. */
    private final Model[][] workerModels;
    private final OptimizerSpec optimizerSpec;
    /** Per trainer here: its progress mark around its sync algorithm, or null (see {@link #progressMark}). */
    private final ProgressMark[] marks;
    /** Per trainer here, per worker: the examples taken before this run (a joiner's start, see {@link #startFrom}). */
    private final long[][] starts;
    private volatile boolean running;
    /** Sentences for the user about a pointless configuration (see {@link AlgorithmDescriptor#note}); usually none. */
    private final List<String> notes;
    /** The first failure of any trainer here; it releases every blocking point of the job (see {@link FailureSignal}). */
    private final FailureSignal failures = new FailureSignal();
    /** Per trainer here: its workers' embedding-store calls, and its calls to the dense server (see {@link #serverCalls}). */
    private final CallStats[] tableCalls, denseCalls;

    /** The embedded default: the whole job in this JVM, over an {@link InProcessCluster}. */
    public Job(ModelSpec spec, long seed, OptimizerSpec optimizer, EmbeddingOptimizerSpec embOptimizer, DataSource train, JobConfig config) {
        this(spec, seed, optimizer, embOptimizer, train, config, null, allRanks(config.trainers()));
    }

    /**
     * The trainers {@code ranks} of a job whose shared state is {@code cluster} (null: an {@link InProcessCluster}
     * built here for all N trainers, in which case ranks must be all of them).
     */
    public Job(ModelSpec spec, long seed, OptimizerSpec optimizer, EmbeddingOptimizerSpec embOptimizer, DataSource train,
               JobConfig config, Cluster cluster, int[] ranks) {
        this.config = config;
        this.ranks = ranks.clone();
        int n = config.trainers(), w = config.trainer().workers();
        if (ranks.length == 0) throw new IllegalArgumentException("a job part needs at least one trainer");
        if (train instanceof io.shadowsync.data.OwnShare && ranks.length > 1) {
            throw new IllegalArgumentException("an OwnShare is one trainer's data: give each trainer process its own, not " + ranks.length + " trainers one");
        }
        for (int r : ranks) {
            if (r < 0 || r >= n) throw new IllegalArgumentException("trainer rank " + r + " is not in 0.." + (n - 1));
        }
        SyncSpec sync = config.sync();
        AlgorithmDescriptor algo = sync.descriptor();
        String note = algo.note(sync, n);
        notes = note == null ? List.of() : List.of(note);
        ownsCluster = cluster == null;
        // refuse a job that cannot fit the heap before allocating any of it (an OutOfMemoryError halfway through
        // building says nothing of which setting to lower)
        JobMemory.of(spec, train.schema(), optimizer, embOptimizer, config, ranks.length, cluster == null).check(Runtime.getRuntime().maxMemory());
        Model first = spec.build();
        first.initDense(seed);
        float[] initial = first.dense().data();
        int size = initial.length;
        if (cluster == null) {
            if (ranks.length != n) throw new IllegalArgumentException("an in-process job runs all " + n + " trainers here");
            long[][] shapes = first.embeddingShapes();
            float[] initStd = new float[shapes.length];
            for (int k = 0; k < shapes.length; k++) initStd[k] = first.embeddingInitStd(k);
            InProcessCluster local = new InProcessCluster(shapes, initStd, seed, initial, optimizer, embOptimizer, config);
            cluster = local;
            tables = local.tables();
        } else {
            if (cluster.trainers() != n) throw new IllegalArgumentException("the cluster has " + cluster.trainers() + " trainers, the job " + n);
            tables = cluster.embeddings(ranks[0]);
        }
        this.cluster = cluster;
        models = new Model[ranks.length];
        trainers = new Trainer[ranks.length];
        optimizers = new DenseOptimizer[ranks.length];
        algorithms = new SyncAlgorithm[ranks.length];
        gated = new GatedAlgorithm[ranks.length];
        workerModels = new Model[ranks.length][];
        marks = new ProgressMark[ranks.length];
        starts = new long[ranks.length][];
        tableCalls = new CallStats[ranks.length];
        denseCalls = new CallStats[ranks.length];
        for (int i = 0; i < ranks.length; i++) {
            tableCalls[i] = new CallStats();
            denseCalls[i] = new CallStats();
        }
        optimizerSpec = optimizer;
        gate = newGate(ranks, w, sync);
        for (int i = 0; i < ranks.length; i++) {
            int t = ranks[i];
            Model model = i == 0 ? first : spec.build();
            if (i > 0) System.arraycopy(initial, 0, model.dense().data(), 0, size);
            models[i] = model;
            optimizers[i] = algo.serverOptimizer() ? null : optimizer.dense(size);
            algorithms[i] = algo.rounds() == null ? null : algo.create(new SyncContext(sync, n, initial,
                    algo.trainerGroup() ? cluster.trainerGroup(t) : null, algo.rounds().center() ? new TimedDenseServer(cluster.denseServer(t, true), denseCalls[i]) : null,
                    config.codec(), seed));
            if (sync.mode() == SyncSpec.Mode.ASYNC_PS) {
                workerModels[i] = new Model[w];
                for (int k = 0; k < w; k++) {
                    workerModels[i][k] = spec.build();
                    System.arraycopy(initial, 0, workerModels[i][k].dense().data(), 0, size);
                }
            }
            starts[i] = new long[w];
            trainers[i] = newTrainer(i, BatchSupply.ofTrainer(train, config.trainer(), t, n), !ownsCluster); // marks: elastic processes
        }
        PauseGate g = gate;
        Cluster c = cluster;
        failures.onFailure(() -> {
            g.abort(); // let resting threads go on to their end
            c.abort(failures.first()); // wake everything blocked in a collective or a server call, here and, through them, in the peers
        });
    }

    /**
     * The same trainers going on with other data: the same replicas, optimizers, sync algorithms (their state, such as
     * BMUF's global model and momentum) and cluster, with new threads, each trainer taking its batches from its
     * supply. An elastic job's survivors train a departed trainer's share this way ({@link Takeover}).
     */
    private Job(Job from, BatchSupply[] supplies) {
        this.config = from.config;
        this.ranks = from.ranks;
        this.models = from.models;
        this.cluster = from.cluster;
        this.tables = from.tables;
        this.ownsCluster = false; // the first part owns it
        this.optimizers = from.optimizers;
        this.optimizerSpec = from.optimizerSpec;
        this.algorithms = from.algorithms;
        this.workerModels = from.workerModels;
        this.notes = from.notes;
        this.tableCalls = from.tableCalls;
        this.denseCalls = from.denseCalls;
        int n = ranks.length;
        if (supplies.length != n) throw new IllegalArgumentException(supplies.length + " supplies for " + n + " trainers");
        this.trainers = new Trainer[n];
        this.gated = new GatedAlgorithm[n];
        this.marks = new ProgressMark[n];
        this.starts = new long[n][config.trainer().workers()];
        this.gate = newGate(ranks, config.trainer().workers(), config.sync());
        for (int i = 0; i < n; i++) trainers[i] = newTrainer(i, supplies[i], false);
        PauseGate g = gate;
        Cluster c = cluster;
        failures.onFailure(() -> {
            g.abort();
            c.abort(failures.first());
        });
    }

    /**
     * This job's trainers going on with more data once {@link #run} has returned: {@code supplies[i]} for the i-th
     * trainer run here (see {@link Takeover#supply}). Run the returned job; its result counts the new data only.
     */
    public Job continueWith(BatchSupply... supplies) {
        if (!running) throw new IllegalStateException("run the job before continuing it");
        return new Job(this, supplies);
    }

    /** The i-th trainer run here, over supply, with its step rule and sync threads; mark: keep its progress mark. */
    private Trainer newTrainer(int i, BatchSupply supply, boolean mark) {
        SyncSpec sync = config.sync();
        int t = ranks[i], n = config.trainers(), w = config.trainer().workers();
        float[] params = models[i].dense().data();
        SyncStats stats = new SyncStats();
        HogwildStep hogwild = new HogwildStep(optimizers[i] != null ? optimizers[i] : optimizerSpec.dense(params.length));
        SyncAlgorithm algorithm = algorithms[i];
        if (algorithm != null) algorithm = gated[i] = new GatedAlgorithm(algorithm, gate, syncParticipant(i));
        if (algorithm != null && mark) algorithm = marks[i] = new ProgressMark(algorithm, () -> trainers[i].appliedPosition(starts[i]));
        StepRule rule = hogwild;
        SyncAlgorithm shadow = null, finisher = null;
        // one trainer has nobody to average with: MA (and BMUF without momentum) would only spin (see notes())
        boolean pointless = sync.descriptor().idleAlone(sync, n);
        switch (sync.mode()) {
            case SHADOW -> shadow = pointless ? null : algorithm;
            case FOREGROUND -> {
                rule = new ForegroundStep(hogwild, sync.syncEvery(), w, algorithm, params, stats, failures);
                finisher = algorithm;
            }
            case SYNC_SGD -> {
                Collective[] mine = new Collective[w];
                for (int k = 0; k < w; k++) mine[k] = cluster.workerGroup(t, k);
                rule = new SyncSgdStep(mine, optimizers[i], params, stats);
            }
            case ASYNC_PS -> rule = new AsyncPsStep(new TimedDenseServer(cluster.denseServer(t, false), denseCalls[i]), config.codec(), w, t);
            case NONE -> { }
        }
        if (config.slow() != null && config.slow().trainer() == t) rule = new SlowStep(rule, config.slow());
        if (shadow == null && finisher == null) gate.exit(syncParticipant(i));
        if (sync.mode() == SyncSpec.Mode.FOREGROUND) {
            for (int k = 0; k < w; k++) gate.exit(i * w + k); // they rest with their trainer, at its next round
        } else {
            supply = new GatedSupply(supply, gate, i * w);
        }
        return new Trainer(t, models[i], workerModels[i], new TimedEmbeddingStore(cluster.embeddings(t), tableCalls[i]), rule, supply,
                config.trainer(), shadow, finisher, sync.syncIntervalMs(), sync.syncCpu(), stats, failures);
    }

    /**
     * A trainer joining a running elastic job goes on with its share where the trainer before it for the same index
     * left it: from that one's progress mark ({@link #progressMark}). Before the job runs; for the first trainer run here.
     */
    public void startFrom(JobState.DataPosition mark) {
        if (running) throw new IllegalStateException("start a job part from a mark before it runs");
        trainers[0].restore(mark, JobState.Totals.zero(config.trainer().workers()), false);
        starts[0] = mark.perWorker();
    }

    /**
     * The progress mark of the first trainer run here (a multi-process job runs one): where its data stood, counting
     * the batches its workers had applied, when its last completed sync round took its snapshot (without rounds: now).
     * A trainer that takes over its share if it leaves starts from there. Null before its first round. Any thread.
     */
    public JobState.DataPosition progressMark() {
        if (marks[0] != null) return marks[0].mark();
        if (algorithms[0] != null) return null; // a continuation: its supply keeps no position
        return trainers[0].appliedPosition(starts[0]);
    }

    /**
     * The pause gate of the trainers run here: participants {@code i·W + k} are the workers of the i-th trainer,
     * {@code T·W + i} its sync thread (or its foreground rounds). Synchronous-SGD workers step together; the rounds
     * of a collective algorithm (MA, BMUF) run together; the rest are independent.
     */
    private static PauseGate newGate(int[] ranks, int w, SyncSpec sync) {
        int t = ranks.length;
        String[] names = new String[t * w + t];
        int[] group = new int[names.length];
        for (int i = 0; i < t; i++) {
            for (int k = 0; k < w; k++) names[i * w + k] = "trainer-" + ranks[i] + "/worker-" + k;
            names[t * w + i] = sync.mode() == SyncSpec.Mode.FOREGROUND ? "trainer-" + ranks[i] + " (foreground round)" : "trainer-" + ranks[i] + "/sync";
            group[t * w + i] = 1;
        }
        AlgorithmDescriptor algo = sync.descriptor();
        return new PauseGate(names, group, new boolean[] {algo.workerGroup(), algo.trainerGroup()});
    }

    private int syncParticipant(int i) {
        return trainers.length * config.trainer().workers() + i;
    }

    private static int[] allRanks(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /**
     * Runs every trainer to the end (and the last synchronization). The first failure of any trainer — bad data, a
     * worker, a round, a sync thread — ends the whole job at once: every blocking point is released (see {@link
     * FailureSignal}), every thread ends, and this throws that first failure as a {@link TrainingException}.
     */
    public JobResult run() throws InterruptedException {
        if (running) throw new IllegalStateException("a job runs once");
        running = true;
        int n = trainers.length;
        TrainResult[] results = new TrainResult[n];
        Thread[] threads = new Thread[n];
        TrainingException[] thrown = new TrainingException[n];
        for (int t = 0; t < n; t++) {
            int tt = t;
            threads[t] = new Thread(() -> {
                try {
                    results[tt] = trainers[tt].run();
                } catch (TrainingException e) {
                    failures.fail(e); // the cause; the others' failures may only be its echo
                    thrown[tt] = e;
                } catch (Throwable e) {
                    failures.fail(e);
                } finally {
                    leaveGate(tt);
                }
            }, "trainer-" + ranks[t]);
            threads[t].setDaemon(true);
            threads[t].start();
        }
        try {
            for (Thread th : threads) th.join(); // each trainer bounds its own wait once the job has failed
        } catch (InterruptedException e) {
            failures.fail(e);
            for (Thread th : threads) th.interrupt();
            throw e;
        }
        Throwable f = failures.first();
        if (f != null) {
            TrainingException e = new TrainingException(f);
            for (TrainingException te : thrown) {
                if (te != null) for (Throwable s : te.getSuppressed()) e.addSuppressed(s); // threads left behind
            }
            throw e;
        }
        // asynchronous SGD's model is the server's, EASGD's the center: take it once every trainer has pushed its last
        // gradient or round (here when the whole job ran in this process; a multi-process job calls pullServerModel
        // once every trainer has ended)
        if (modelOnServer() && ranks.length == config.trainers()) pullServerModel();
        // the final model must be finite: it is what gets evaluated, saved and checkpointed (a replica that went non-finite
        // without a round to refuse it, e.g. one trainer or none, or a diverged server model)
        float[] fin = models[0].dense().data();
        int bad = NonFiniteException.firstNonFinite(fin, fin.length);
        if (bad >= 0) {
            throw new TrainingException(new NonFiniteException("trainer " + ranks[0] + "'s final model went non-finite (parameter "
                    + bad + " is " + fin[bad] + "); it is not saved"));
        }
        if (ownsCluster) cluster.close();
        long examples = 0, syncWait = 0, allTime = 0;
        double seconds = 0;
        long[] rounds = new long[n], bytes = new long[n];
        double[] roundMs = new double[n], ratio = new double[n], cpuShare = new double[n];
        for (int t = 0; t < n; t++) {
            examples += results[t].examples();
            seconds = Math.max(seconds, results[t].seconds());
            rounds[t] = trainers[t].syncRounds();
            roundMs[t] = trainers[t].meanRoundMillis();
            bytes[t] = trainers[t].syncBytes();
            ratio[t] = trainers[t].syncStats().compressionRatio();
            cpuShare[t] = trainers[t].syncStats().cpuShare();
        }
        double waitSum = 0;
        for (TrainResult r : results) waitSum += r.readerWaitFraction() + r.syncWaitFraction();
        return new JobResult(examples, seconds, results, rounds, roundMs, bytes, waitSum / n, ratio, cpuShare, rowBytes());
    }

    /** The row traffic of this process's trainers' stores (each store once), or null when none counts any. */
    private long[] rowBytes() {
        long[] sum = null;
        Set<RowBytes> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int r : ranks) {
            RowBytes b = cluster.embeddings(r).rowBytes();
            if (b == null || !seen.add(b)) continue;
            sum = RowBytes.add(sum == null ? new long[RowBytes.FIELDS] : sum, b.snapshot());
        }
        return sum;
    }

    /**
     * Ends the job at once with cause, from any thread (a supervisor aborting it): as the first failure of one of its
     * trainers would, every blocking point is released, every thread ends, and {@link #run} throws cause as a
     * {@link TrainingException}. Once the job has failed, later causes are dropped.
     */
    public void fail(Throwable cause) {
        failures.fail(java.util.Objects.requireNonNull(cause, "a cause"));
    }

    /**
     * Ends the job early, as if its data had run out: every worker finishes the batch in hand (a paused job goes on
     * first), then the trainers take their last synchronization and {@link #run} returns. A checkpoint taken before
     * keeps the rest of the budget for a resumed run.
     */
    public void stop() {
        for (Trainer t : trainers) t.stop();
    }

    /** Trainer i's threads have ended (or never will run again): nobody waits for them at a pause. */
    private void leaveGate(int i) {
        int w = config.trainer().workers();
        for (int k = 0; k < w; k++) gate.exit(i * w + k);
        gate.exit(syncParticipant(i));
    }

    /**
     * Brings every thread of the job to rest between its steps and rounds and returns the pause; its
     * {@link Paused#state()} is the job's state, whole, until {@link Paused#close()} lets the threads go on. Training
     * stops meanwhile (a checkpoint writer reads the live arrays while it holds the pause). A job that has ended, or
     * not yet started, is at rest at once.
     *
     * @throws TimeoutException      when some thread did not come to rest within the timeout (named in the message);
     *                               the job then goes on
     * @throws IllegalStateException for a part of a multi-process job (its collectives span processes: use
     *                               {@link #beginPause} and {@link #finishPause}), or a job that failed
     */
    public Paused pause(Duration timeout) throws InterruptedException, TimeoutException {
        if (!ownsCluster) {
            throw new IllegalStateException("a part of a multi-process job pauses with the other processes: beginPause, agree, finishPause");
        }
        gate.pause(timeout.toNanos());
        flushAtRest();
        return new Paused();
    }

    /**
     * Phase one of a pause agreed across the processes of a job: asks this process's threads to rest and returns, per
     * lockstep group of the {@link PauseGate} (0: synchronous-SGD workers, 1: collective sync rounds), the most
     * operations any of them has begun here. The processes exchange these counts and pass the largest of each group,
     * over all processes, to {@link #finishPause}: every rank of a collective then stops after the same operation,
     * so none waits forever for a peer that has already come to rest. Call {@link #finishPause} or
     * {@link #cancelPause} next.
     */
    public long[] beginPause() {
        return gate.raise();
    }

    /** Phase two: this process's threads come to rest after {@code agreed[g]} operations of each lockstep group g. */
    public Paused finishPause(long[] agreed, Duration timeout) throws InterruptedException, TimeoutException {
        gate.awaitRest(agreed, timeout.toNanos());
        flushAtRest();
        return new Paused();
    }

    /**
     * With every thread at rest: waits until the embedding pushes still in flight (a remote store acknowledges a
     * step's pushes in the background) are applied, so that the servers' shards hold every step the data position
     * counts. A push that failed ends the pause (the job goes on, and the worker that made it fails at its next step).
     */
    private void flushAtRest() {
        try {
            for (int t : ranks) cluster.embeddings(t).flush();
        } catch (RuntimeException e) {
            gate.release();
            throw new IllegalStateException("embedding pushes in flight did not reach the parameter servers: " + e.getMessage(), e);
        }
    }

    /** Withdraws a pause begun with {@link #beginPause} (the exchange of counts failed): the threads go on. */
    public void cancelPause() {
        gate.release();
    }

    /** A job at rest; {@link #close()} lets it go on. Not thread-safe: one holder. */
    public final class Paused implements AutoCloseable {
        private boolean open = true;

        private Paused() {}

        /** The job's state: live arrays that hold still until {@link #close()}; see {@link JobState}. */
        public JobState state() {
            if (!open) throw new IllegalStateException("the pause is over: the job has gone on training");
            List<JobState.TrainerState> ts = new ArrayList<>(trainers.length);
            long examples = 0;
            for (int i = 0; i < trainers.length; i++) {
                Trainer tr = trainers[i];
                DenseOptimizer opt = optimizers[i];
                JobState.DataPosition pos = tr.position();
                examples += pos.examples();
                boolean pending = config.sync().mode() == SyncSpec.Mode.FOREGROUND && gated[i] != null && gated[i].pendingRound();
                ts.add(new JobState.TrainerState(ranks[i], models[i].dense().data(), opt == null ? new float[0][] : opt.state(),
                        opt == null ? 0 : opt.steps(), syncState(algorithms[i]), pos, tr.totals(), pending));
            }
            if (!ownsCluster) return new JobState(examples, ts, List.of(), null); // the servers hold the rest
            InProcessCluster local = (InProcessCluster) cluster;
            return new JobState(examples, ts, local.embeddingShards(), local.denseServerState());
        }

        /** Lets the job go on training. */
        @Override
        public void close() {
            if (open) {
                open = false;
                gate.release();
            }
        }
    }

    /** The checkpoint state of a trainer's sync algorithm (live arrays; see {@link SyncAlgorithm#state()}), or none. */
    private static float[][] syncState(SyncAlgorithm a) {
        return a == null ? new float[0][] : a.state();
    }

    /**
     * Puts a checkpoint's state into this job before it runs: every trainer's replica, optimizer and sync state, data
     * position and counters, the embedding shards and the dense server. The job must have the checkpoint's shape (the
     * same model, optimizers, synchronization, trainers, workers and shards); a difference is refused with a sentence
     * naming it, possibly after part of the state was copied: build a new job before trying another state. A part of
     * a multi-process job takes the state of its own trainers only, without shards or dense server: the parameter
     * servers restore theirs.
     */
    public void restore(JobState state) {
        if (running) throw new IllegalStateException("restore a checkpoint before the job runs");
        if (!ownsCluster && (!state.embeddingShards().isEmpty() || state.server() != null)) {
            throw new IllegalArgumentException("a part of a multi-process job restores its trainers only; the parameter servers restore the tables and the dense server");
        }
        if (state.trainers().size() != trainers.length) {
            throw new IllegalArgumentException("the checkpoint holds " + state.trainers().size() + " trainer(s), this job runs " + trainers.length);
        }
        for (int i = 0; i < trainers.length; i++) {
            JobState.TrainerState t = state.trainers().get(i);
            if (t.rank() != ranks[i]) throw new IllegalArgumentException("the checkpoint's trainer " + i + " has rank " + t.rank() + ", this job's " + ranks[i]);
            String who = "trainer " + ranks[i];
            InProcessCluster.copyInto(who + " dense parameters", t.params(), models[i].dense().data());
            DenseOptimizer opt = optimizers[i];
            restoreOptimizer(who + " optimizer", opt == null ? new float[0][] : opt.state(), t.optimizer(), opt, t.optimizerSteps());
            float[][] sync = syncState(algorithms[i]);
            if (sync.length != t.sync().length) {
                throw new IllegalArgumentException(who + ": the checkpoint holds " + t.sync().length + " sync state array(s), this job's algorithm "
                        + sync.length + " (a lossy --compress can add one: resume with the codec the checkpoint was written under)");
            }
            for (int k = 0; k < sync.length; k++) InProcessCluster.copyInto(who + " sync state " + k, t.sync()[k], sync[k]);
            if (t.pendingRound() && config.sync().mode() != SyncSpec.Mode.FOREGROUND) {
                throw new IllegalArgumentException(who + ": the checkpoint was taken before a foreground round, this job does not synchronize in the foreground");
            }
            trainers[i].restore(t.position(), t.totals(), t.pendingRound());
        }
        if (!ownsCluster) {
            if (config.sync().mode() == SyncSpec.Mode.ASYNC_PS) pullIntoWorkers(); // the servers were restored first
            return;
        }
        InProcessCluster local = (InProcessCluster) cluster;
        local.restoreEmbeddings(state.embeddingShards());
        local.restoreDenseServer(state.server());
        if (state.server() != null && config.sync().mode() == SyncSpec.Mode.ASYNC_PS) {
            // each worker of asynchronous SGD computes on the parameters it last pulled: the server's
            for (Model[] wm : workerModels) {
                if (wm == null) continue;
                for (Model m : wm) System.arraycopy(state.server().values(), 0, m.dense().data(), 0, m.dense().size());
            }
        }
    }

    /** Asynchronous SGD in a multi-process job: each worker starts from the restored server's parameters. */
    private void pullIntoWorkers() {
        try {
            for (int i = 0; i < ranks.length; i++) {
                if (workerModels[i] == null) continue;
                for (Model m : workerModels[i]) cluster.denseServer(ranks[i], false).pull(m.dense().data());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pulling the restored server's parameters", e);
        }
    }

    /** Copies a checkpoint's optimizer state arrays into live ones (and its step counter). */
    static void restoreOptimizer(String what, float[][] live, float[][] saved, DenseOptimizer opt, long steps) {
        if (live.length != saved.length) {
            throw new IllegalArgumentException(what + ": the checkpoint holds " + saved.length + " state array(s), this job's optimizer " + live.length);
        }
        for (int k = 0; k < live.length; k++) InProcessCluster.copyInto(what + " state " + k, saved[k], live[k]);
        if (opt != null) opt.restoreSteps(steps);
    }

    /**
     * Whether the final dense model is the dense server's rather than a replica's: asynchronous SGD's parameters, or
     * EASGD's center (the global model; the replicas only orbit it). {@link #pullServerModel} takes it.
     */
    public boolean modelOnServer() {
        return config.sync().descriptor().modelOnServer();
    }

    /**
     * Copies the dense server's values (asynchronous SGD's parameters, EASGD's center) into the final model. Call it
     * once every trainer of the job has ended, so that the last pushes of all of them are in it.
     */
    public void pullServerModel() throws InterruptedException {
        boolean center = !config.sync().descriptor().serverOptimizer();
        cluster.denseServer(ranks[0], center).pull(models[0].dense().data());
    }

    /**
     * What the user should know about this job's configuration, one sentence each: e.g. that one trainer with a
     * collective algorithm has nobody to synchronize with (the CLI prints these on stderr). Usually empty.
     */
    public List<String> notes() {
        return notes;
    }

    /** The final model: the replica of the first trainer run here (trainer 0 in an in-process job). */
    public Model model() {
        return models[0];
    }

    /** The dense replica of the i-th trainer run here (the live array: read it once the job has ended). */
    float[] replica(int i) {
        return models[i].dense().data();
    }

    /** The shared state this job part runs over. */
    Cluster cluster() {
        return cluster;
    }

    /** The ranks of the trainers this job part runs. */
    public int[] ranks() {
        return ranks.clone();
    }

    /**
     * The calls the i-th trainer run here has made to the parameter servers so far, with their latencies: its workers'
     * embedding-store calls (pulls, pushes, step ends; {@code dense} false) or its calls to the dense server (the
     * EASGD center, asynchronous SGD's parameters; {@code dense} true). A continued job ({@link #continueWith}) goes
     * on counting into the same.
     */
    public CallStats serverCalls(int i, boolean dense) {
        return dense ? denseCalls[i] : tableCalls[i];
    }

    /** The elastic group of the trainers when they are elastic (multi-process), else null: see {@link Cluster#elasticGroup}. */
    public io.shadowsync.comm.ElasticGroup elasticGroup() {
        return cluster.elasticGroup();
    }

    /** The embedding tables (the parameter server's; in-process, read through an ideal link). */
    public EmbeddingStore tables() {
        return tables;
    }

    public Trainer trainer(int t) {
        return trainers[t];
    }

    public int trainers() {
        return trainers.length;
    }

    /** Progress summed over all trainers. */
    public Trainer.Progress progress() {
        long ex = 0, rounds = 0;
        double loss = 0, labels = 0, seconds = 0;
        int epoch = 0;
        for (Trainer t : trainers) {
            Trainer.Progress p = t.progress();
            ex += p.examples();
            loss += p.lossSum();
            labels += p.labelSum();
            seconds = Math.max(seconds, p.seconds());
            epoch = Math.max(epoch, p.epoch());
            rounds += p.syncRounds();
        }
        return new Trainer.Progress(ex, loss, labels, seconds, epoch, rounds);
    }
}
