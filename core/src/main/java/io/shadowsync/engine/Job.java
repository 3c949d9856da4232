package io.shadowsync.engine;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.comm.EmulatedLink;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.ShardedEmbeddingServer;
import io.shadowsync.data.DataSource;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.BlockMomentum;
import io.shadowsync.sync.ElasticAveraging;
import io.shadowsync.sync.ModelAveraging;
import io.shadowsync.sync.SyncAlgorithm;
import io.shadowsync.sync.SyncSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole training job in one JVM — the embedded default: N trainers (each a set of threads with its own dense
 * replica), embedding tables on an in-process sharded parameter server shared by all trainers, the dense sync
 * server for EASGD and asynchronous SGD, and in-process collectives, all over emulated links when a
 * {@link io.shadowsync.comm.LinkModel} is given. Every replica starts from the same initial parameters (trainer 0's
 * seeded initialization). The final model is trainer 0's replica after the last synchronization (for
 * asynchronous SGD: the server's parameters), with the server's embedding tables.
 */
public final class Job {
    private final JobConfig config;
    private final Model[] models;
    private final Trainer[] trainers;
    private final EmbeddingStore tables;
    private final List<Collective> collectives = new ArrayList<>();
    private final DenseParameterServer denseServer;

    public Job(ModelSpec spec, long seed, OptimizerSpec optimizer, EmbeddingOptimizerSpec embOptimizer, DataSource train, JobConfig config) {
        this.config = config;
        int n = config.trainers(), w = config.trainer().workers();
        SyncSpec sync = config.sync();
        models = new Model[n];
        models[0] = spec.build();
        models[0].initDense(seed);
        float[] initial = models[0].dense().data();
        for (int t = 1; t < n; t++) {
            models[t] = spec.build();
            System.arraycopy(initial, 0, models[t].dense().data(), 0, initial.length);
        }
        int size = initial.length;

        // Two emulated links per trainer: one for parameter-server traffic on the workers' critical path (embedding
        // rows; dense parameters of asynchronous SGD), one for background synchronization (collectives, the EASGD
        // center), as when sync runs on its own NIC or traffic class. Each link serializes its own messages.
        EmulatedLink[] links = new EmulatedLink[n];
        EmulatedLink[] syncLinks = new EmulatedLink[n];
        for (int t = 0; t < n; t++) {
            links[t] = new EmulatedLink(config.link());
            syncLinks[t] = new EmulatedLink(config.link());
        }
        long[][] shapes = models[0].embeddingShapes();
        float[] initStd = new float[shapes.length];
        for (int k = 0; k < shapes.length; k++) initStd[k] = models[0].embeddingInitStd(k);
        EmbeddingStore[] stores = new EmbeddingStore[n];
        if (config.link().isIdeal() && config.psShards() == 1) {
            // one process, no network to emulate: the trainers share one Hogwild table store directly
            LocalEmbeddingStore local = new LocalEmbeddingStore(shapes, initStd, seed, embOptimizer);
            java.util.Arrays.fill(stores, local);
            tables = local;
        } else {
            ShardedEmbeddingServer server = new ShardedEmbeddingServer(shapes, initStd, seed, embOptimizer, config.psShards(), config.link());
            for (int t = 0; t < n; t++) stores[t] = server.client(links[t]);
            tables = server.client(new EmulatedLink(io.shadowsync.comm.LinkModel.NONE));
        }

        boolean needsServer = sync.mode() == SyncSpec.Mode.ASYNC_PS || sync.base().equals("easgd");
        denseServer = needsServer
                ? new InProcessDenseServer(initial, Math.min(config.psShards(), size), sync.mode() == SyncSpec.Mode.ASYNC_PS ? optimizer : null, config.link())
                : null;
        Collective[] trainerRanks = null;
        if ((sync.mode() == SyncSpec.Mode.SHADOW || sync.mode() == SyncSpec.Mode.FOREGROUND) && !sync.base().equals("easgd")) {
            trainerRanks = InProcessCollectives.create(n, config.link());
            collectives.addAll(List.of(trainerRanks));
        }
        Collective[] workerRanks = null;
        if (sync.mode() == SyncSpec.Mode.SYNC_SGD) {
            workerRanks = InProcessCollectives.create(n * w, config.link());
            collectives.addAll(List.of(workerRanks));
        }

        trainers = new Trainer[n];
        for (int t = 0; t < n; t++) {
            float[] params = models[t].dense().data();
            SyncStats stats = new SyncStats();
            HogwildStep hogwild = new HogwildStep(optimizer.dense(size));
            SyncAlgorithm algorithm = switch (sync.base()) {
                case "ma" -> new ModelAveraging(trainerRanks[t], size);
                case "bmuf" -> new BlockMomentum(trainerRanks[t], initial, sync.momentumFor(n), sync.bmufBlockLr(), sync.nesterov());
                case "easgd" -> new ElasticAveraging(((InProcessDenseServer) denseServer).client(syncLinks[t]), size, sync.alphaFor(n));
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
                    System.arraycopy(workerRanks, t * w, mine, 0, w);
                    rule = new SyncSgdStep(mine, optimizer.dense(size), params, stats);
                }
                case ASYNC_PS -> {
                    rule = new AsyncPsStep(((InProcessDenseServer) denseServer).client(links[t]));
                    workerModels = new Model[w];
                    for (int i = 0; i < w; i++) {
                        workerModels[i] = spec.build();
                        System.arraycopy(initial, 0, workerModels[i].dense().data(), 0, size);
                    }
                }
                case NONE -> { }
            }
            trainers[t] = new Trainer(t, models[t], workerModels, stores[t], rule, Trainer.supply(train, config.trainer(), t, n),
                    config.trainer(), shadow, finisher, sync.syncIntervalMs(), stats);
        }
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
        if (config.sync().mode() == SyncSpec.Mode.ASYNC_PS) denseServer.pull(models[0].dense().data());
        closeCollectives();
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
        closeCollectives();
    }

    private void closeCollectives() {
        for (Collective c : collectives) c.close();
    }

    /** The final model: trainer 0's replica. */
    public Model model() {
        return models[0];
    }

    /** The embedding tables (the parameter server's, read through an ideal link). */
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
