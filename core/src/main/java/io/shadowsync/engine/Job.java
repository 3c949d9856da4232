package io.shadowsync.engine;

import io.shadowsync.comm.Collective;
import io.shadowsync.data.DataSource;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.BlockMomentum;
import io.shadowsync.sync.ElasticAveraging;
import io.shadowsync.sync.ModelAveraging;
import io.shadowsync.sync.SyncAlgorithm;
import io.shadowsync.sync.SyncSpec;

/**
 * A training job, or the part of it that runs in this process: N trainers (each a set of threads with its own dense
 * replica) around a {@link Cluster} that holds the shared state — embedding tables on parameter-server shards, the
 * dense server for EASGD and asynchronous SGD, and the collectives. The embedded default runs all N trainers in
 * this JVM over an {@link InProcessCluster}; a process of a multi-process job runs one trainer over a networked
 * cluster. Every replica starts from the same initial parameters (the seeded initialization, the same in every
 * process). The final model is trainer 0's replica after the last synchronization (for asynchronous SGD: the
 * server's parameters), with the server's embedding tables.
 */
public final class Job {
    private final JobConfig config;
    private final int[] ranks;
    private final Model[] models;
    private final Trainer[] trainers;
    private final Cluster cluster;
    private final EmbeddingStore tables;
    private final boolean ownsCluster;

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
        for (int r : ranks) {
            if (r < 0 || r >= n) throw new IllegalArgumentException("trainer rank " + r + " is not in 0.." + (n - 1));
        }
        SyncSpec sync = config.sync();
        ownsCluster = cluster == null;
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
        for (int i = 0; i < ranks.length; i++) {
            int t = ranks[i];
            Model model = i == 0 ? first : spec.build();
            if (i > 0) System.arraycopy(initial, 0, model.dense().data(), 0, size);
            models[i] = model;
            float[] params = model.dense().data();
            SyncStats stats = new SyncStats();
            HogwildStep hogwild = new HogwildStep(optimizer.dense(size));
            SyncAlgorithm algorithm = switch (sync.base()) {
                case "ma" -> new ModelAveraging(cluster.trainerGroup(t), size);
                case "bmuf" -> new BlockMomentum(cluster.trainerGroup(t), initial, sync.momentumFor(n), sync.bmufBlockLr(), sync.nesterov());
                case "easgd" -> new ElasticAveraging(cluster.denseServer(t, true), size, sync.alphaFor(n));
                default -> null;
            };
            StepRule rule = hogwild;
            Model[] workerModels = null;
            SyncAlgorithm shadow = null, finisher = null;
            // one trainer has nobody to average with: MA (and BMUF without momentum) would only spin
            boolean pointless = n == 1 && (sync.base().equals("ma") || (sync.base().equals("bmuf") && sync.momentumFor(n) == 0));
            switch (sync.mode()) {
                case SHADOW -> shadow = pointless ? null : algorithm;
                case FOREGROUND -> {
                    rule = new ForegroundStep(hogwild, sync.syncEvery(), w, algorithm, params, stats);
                    finisher = algorithm;
                }
                case SYNC_SGD -> {
                    Collective[] mine = new Collective[w];
                    for (int k = 0; k < w; k++) mine[k] = cluster.workerGroup(t, k);
                    rule = new SyncSgdStep(mine, optimizer.dense(size), params, stats);
                }
                case ASYNC_PS -> {
                    rule = new AsyncPsStep(cluster.denseServer(t, false));
                    workerModels = new Model[w];
                    for (int k = 0; k < w; k++) {
                        workerModels[k] = spec.build();
                        System.arraycopy(initial, 0, workerModels[k].dense().data(), 0, size);
                    }
                }
                case NONE -> { }
            }
            trainers[i] = new Trainer(t, model, workerModels, cluster.embeddings(t), rule, Trainer.supply(train, config.trainer(), t, n),
                    config.trainer(), shadow, finisher, sync.syncIntervalMs(), stats);
        }
    }

    private static int[] allRanks(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /** Runs every trainer to the end (and the last synchronization); the first failure ends the whole job. */
    public JobResult run() throws InterruptedException {
        int n = trainers.length;
        TrainResult[] results = new TrainResult[n];
        Throwable[] failures = new Throwable[n];
        Thread[] threads = new Thread[n];
        for (int t = 0; t < n; t++) {
            int tt = t;
            threads[t] = new Thread(() -> {
                try {
                    results[tt] = trainers[tt].run();
                } catch (Throwable e) {
                    failures[tt] = e;
                    abort(); // wake trainers blocked in collectives with this one
                }
            }, "trainer-" + t);
            threads[t].setDaemon(true);
            threads[t].start();
        }
        try {
            for (Thread th : threads) th.join();
        } catch (InterruptedException e) {
            abort();
            for (Thread th : threads) th.interrupt();
            throw e;
        }
        for (Throwable f : failures) {
            if (f instanceof TrainingException te) throw te;
            if (f != null) throw new TrainingException(f);
        }
        // asynchronous SGD's model is the server's: take it once every trainer has pushed its last gradient (here
        // when the whole job ran in this process; a multi-process job calls pullServerModel after its final barrier)
        if (config.sync().mode() == SyncSpec.Mode.ASYNC_PS && ranks.length == config.trainers()) pullServerModel();
        if (ownsCluster) cluster.close();
        long examples = 0, syncWait = 0, allTime = 0;
        double seconds = 0;
        long[] rounds = new long[n], bytes = new long[n];
        double[] roundMs = new double[n];
        for (int t = 0; t < n; t++) {
            examples += results[t].examples();
            seconds = Math.max(seconds, results[t].seconds());
            rounds[t] = trainers[t].syncStats().rounds();
            roundMs[t] = trainers[t].syncStats().meanRoundMillis();
            bytes[t] = trainers[t].syncStats().bytesSent();
        }
        double waitSum = 0;
        for (TrainResult r : results) waitSum += r.syncWaitFraction();
        return new JobResult(examples, seconds, results, rounds, roundMs, bytes, waitSum / n);
    }

    private void abort() {
        for (Trainer t : trainers) t.stop();
        cluster.abort();
    }

    /** Asynchronous SGD: copies the server's dense parameters into the final model. */
    public void pullServerModel() throws InterruptedException {
        cluster.denseServer(ranks[0], false).pull(models[0].dense().data());
    }

    /** The final model: the replica of the first trainer run here (trainer 0 in an in-process job). */
    public Model model() {
        return models[0];
    }

    /** The ranks of the trainers this job part runs. */
    public int[] ranks() {
        return ranks.clone();
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
