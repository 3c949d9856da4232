package io.shadowsync.cli;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.EmulatedLink;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.ShardedEmbeddingServer;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.engine.Job;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.sim.Costs;
import io.shadowsync.sim.Measure;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.ps.PsShardSpec;
import io.shadowsync.net.ps.RemoteEmbeddingStore;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The measurements of {@code shadowsync calibrate}: what the pieces of one job cost on this machine, each repeated and
 * summarized as a {@link Measure} (median and interquartile half-range), in seconds of one thread.
 */
final class Calibration {
    private final PrintWriter err;
    private final int reps;

    Calibration(PrintWriter err, int reps) {
        this.err = err;
        this.reps = reps;
    }

    /** Everything, for the job t describes (its flags as parsed; changed here to a one-trainer job without network). */
    Costs measure(TrainCommand t, long examples) throws Exception {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        JobCommand.Plan plan = t.plan(err, true);
        long[][] shapes = plan.modelSpec().embeddingShapes();
        int dim = shapes.length == 0 ? 1 : (int) shapes[0][1];
        double rowsPerStep = rowsPerStep(plan.train(), plan.batchSize(), shapes.length);
        note("distinct embedding rows per step: %.1f", rowsPerStep);
        Costs.JobStep step = jobStep(t, plan, examples);
        note("the job's worker step (one trainer, %d worker(s), %d shard(s), link %s): %.3f ms wall (± %.3f), CPU %.3f ms (workers %.3f ms)",
                step.workers(), step.psShards(), step.link(), step.wall().median() * 1e3, step.wall().spread() * 1e3, step.cpu().median() * 1e3,
                step.workerCpu().median() * 1e3);
        double[] eps1 = trainRuns(t, 1, examples);
        double[] steps = new double[eps1.length];
        for (int i = 0; i < steps.length; i++) steps[i] = plan.batchSize() / eps1[i];
        Measure computeStep = Measure.of(steps);
        note("compute-only step (one worker, one local store, no network; for reference): %.3f ms (± %.3f)", computeStep.median() * 1e3,
                computeStep.spread() * 1e3);
        int cores = Runtime.getRuntime().availableProcessors();
        Measure[] ps = inProcessServer(dim);
        Measure[] grpc = grpcServer(dim);
        Map<String, Measure> enc = new LinkedHashMap<>(), dec = new LinkedHashMap<>();
        for (String c : List.of("fp16", "int8", "topk:0.01")) {
            Measure[] m = codec(Codec.named(c));
            enc.put(c, m[0]);
            dec.put(c, m[1]);
        }
        Measure hop = ringHop();
        Measure apply = denseApply();
        Measure round = roundLocal();
        Measure wakeup = wakeup();
        Costs.Machine machine = new Costs.Machine(cores, System.getProperty("java.vm.name") + " " + Runtime.version(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                load, Instant.now().toString());
        return new Costs(step, computeStep, rowsPerStep, ps[0], ps[1], ps[2], ps[3], grpc[0], grpc[1], grpc[2], grpc[3], enc, dec, hop, round, apply,
                wakeup, machine);
    }

    private void note(String format, Object... args) {
        err.println("shadowsync calibrate: " + String.format(java.util.Locale.ROOT, format, args));
        err.flush();
    }

    /**
     * The job's own worker step: reps runs (after an untimed warm-up run) of the job as train would run it (its
     * workers, shards, emulated link, input) as one trainer without sync; per worker step, the wall time (the
     * engine's examples/s), the process's CPU time while the workers ran (its rate over the window in which worker
     * threads were seen, times the wall time of a step; the model's set-up and the evaluation are outside it) and the
     * worker threads' CPU time (both sampled every 10 ms, the workers by thread name: trainer-0/worker-i).
     */
    private Costs.JobStep jobStep(TrainCommand t, JobCommand.Plan given, long examples) throws Exception {
        t.trainers = 1;
        t.sync = "none";
        t.examples = examples;
        JobCommand.Plan plan = t.plan(new PrintWriter(java.io.Writer.nullWriter()), true);
        int workers = plan.job().trainer().workers();
        double[] wall = new double[reps], cpu = new double[reps], own = new double[reps];
        for (int i = -1; i < reps; i++) {
            WorkerCpu sampler = new WorkerCpu();
            sampler.start();
            var r = new Job(plan.modelSpec(), t.seed, plan.opt(), plan.embOpt(), plan.train(), plan.job()).run();
            double workerSeconds = sampler.stop();
            if (i < 0) continue;
            double steps = (double) r.examples() / plan.batchSize();
            wall[i] = workers * plan.batchSize() / r.examplesPerSecond();
            own[i] = workerSeconds / steps;
            cpu[i] = Math.max(own[i], sampler.processRate() * wall[i] / workers);
        }
        return new Costs.JobStep(Measure.of(wall), Measure.of(cpu), Measure.of(own), workers, plan.job().psShards(), plan.job().link());
    }

    /** The CPU time of the job's worker threads, sampled by name every 10 ms until stopped (each thread's last sample). */
    private static final class WorkerCpu {
        private final java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        private final Map<Long, Long> last = new java.util.concurrent.ConcurrentHashMap<>();
        private final com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        /** Process CPU and wall nanoseconds at the first and the last sample that saw a worker thread. */
        private long cpuFirst = -1, nanosFirst, cpuLast, nanosLast;
        private volatile boolean running = true;
        private Thread thread;

        void start() {
            thread = Thread.ofPlatform().daemon().name("calibrate-cpu-sampler").start(() -> {
                while (running) {
                    sample();
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        private void sample() {
            boolean seen = false;
            for (java.lang.management.ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (ti == null || !ti.getThreadName().matches("trainer-\\d+/worker-\\d+")) continue;
                long c = mx.getThreadCpuTime(ti.getThreadId());
                if (c > 0) last.merge(ti.getThreadId(), c, Math::max);
                seen = true;
            }
            if (!seen) return;
            long cpu = os.getProcessCpuTime(), now = System.nanoTime();
            if (cpuFirst < 0) {
                cpuFirst = cpu;
                nanosFirst = now;
            }
            cpuLast = cpu;
            nanosLast = now;
        }

        /** Cores the process kept busy while its workers ran (0 when seen for less than two samples). */
        double processRate() {
            return nanosLast > nanosFirst ? (double) (cpuLast - cpuFirst) / (nanosLast - nanosFirst) : 0;
        }

        /** Seconds of the worker threads' CPU seen. */
        double stop() throws InterruptedException {
            running = false;
            thread.join();
            long sum = 0;
            for (long c : last.values()) sum += c;
            return sum / 1e9;
        }
    }

    /** Examples/s of reps runs of the job as one trainer with w workers, no sync, one local table store, no network (after one warm-up run). */
    private double[] trainRuns(TrainCommand t, int w, long examples) throws Exception {
        t.trainers = 1;
        t.workers = w;
        t.sync = "none";
        t.psShards = 1;
        t.netBandwidth = "inf";
        t.netLatency = "0";
        t.codec = "none";
        t.examples = examples;
        t.inMemory = true;
        JobCommand.Plan plan = t.plan(new PrintWriter(java.io.Writer.nullWriter()), true);
        double[] eps = new double[reps];
        for (int i = -1; i < reps; i++) {
            Job job = new Job(plan.modelSpec(), t.seed, plan.opt(), plan.embOpt(), plan.train(), plan.job());
            double e = job.run().examplesPerSecond();
            if (i >= 0) eps[i] = e;
        }
        return eps;
    }

    /** Distinct categorical values per field per batch (what a step pulls), summed over fields, mean of up to 50 batches. */
    private static double rowsPerStep(DataSource data, int batch, int tables) throws java.io.IOException {
        if (tables == 0) return 0;
        long sum = 0;
        int batches = 0;
        try (ExampleReader r = data.open()) {
            Batch b = new Batch(batch, data.schema());
            while (batches < 50 && r.readInto(b) && b.size > 0) {
                int nc = b.numCat;
                if (nc == 0) {
                    sum += b.sparseOffsets[b.size];
                } else {
                    for (int f = 0; f < nc; f++) {
                        Set<Integer> seen = new HashSet<>();
                        for (int i = 0; i < b.size; i++) seen.add(b.cat[i * nc + f]);
                        sum += seen.size();
                    }
                }
                batches++;
            }
        }
        return batches == 0 ? 0 : (double) sum / batches;
    }

    /** Seconds per call of op at k ids: the per-call part (at 1 id) and the per-row part (the slope to 512 ids). */
    private interface Call {
        void run(int[] ids, int k) throws Exception;
    }

    private Measure[] perCallAndRow(Call op, int calls) throws Exception {
        int big = 512;
        int[] ids = new int[big];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < big; i++) ids[i] = r.nextInt(100_000);
        double[] one = new double[reps], row = new double[reps];
        for (int i = -1; i < reps; i++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) op.run(ids, 1);
            double a = (System.nanoTime() - t0) / 1e9 / calls;
            t0 = System.nanoTime();
            for (int c = 0; c < calls / 8; c++) op.run(ids, big);
            double b = (System.nanoTime() - t0) / 1e9 / (calls / 8);
            if (i < 0) continue;
            one[i] = a;
            row[i] = Math.max(0, (b - a) / (big - 1));
        }
        return new Measure[] {Measure.of(one), Measure.of(row)};
    }

    private Measure[] storeCosts(EmbeddingStore store, int dim, int calls) throws Exception {
        float[] buf = new float[512 * dim];
        Measure[] pull = perCallAndRow((ids, k) -> store.pull(0, ids, 0, k, buf, 0), calls);
        Measure[] push = perCallAndRow((ids, k) -> {
            store.push(0, ids, 0, k, buf, 0);
            store.flush();
        }, calls);
        return new Measure[] {pull[0], pull[1], push[0], push[1]};
    }

    /** The in-process sharded embedding server (one table of 100,000 rows of the job's dimension, ideal link). */
    private Measure[] inProcessServer(int dim) throws Exception {
        ShardedEmbeddingServer server = new ShardedEmbeddingServer(new long[][] {{100_000, dim}}, new float[] {0.01f}, 1,
                new EmbeddingOptimizerSpec("sgd", 1e-9), 1, LinkModel.NONE);
        Measure[] m = storeCosts(server.client(EmulatedLink.ideal()), dim, 20_000);
        note("in-process server: pull %.2f us/call + %.1f ns/row, push %.2f us/call + %.1f ns/row", m[0].median() * 1e6, m[1].median() * 1e9,
                m[2].median() * 1e6, m[3].median() * 1e9);
        return m;
    }

    /** The same table on one parameter-server node over loopback gRPC (127.0.0.1, a free port; closed after). */
    private Measure[] grpcServer(int dim) throws Exception {
        Transport loopback = new Transport(NetConfig.LOOPBACK.withCallDeadline(Duration.ofSeconds(30)));
        PsShardSpec spec = new PsShardSpec(new long[][] {{100_000, dim}}, new float[] {0.01f}, 1, new EmbeddingOptimizerSpec("sgd", 1e-9),
                new float[1], null, 0, 1).forShard(0);
        try (PsServer ps = PsServer.start(loopback, 0, spec);
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(loopback, List.of(new HostPort("127.0.0.1", ps.port())))) {
            Measure[] m = storeCosts(store, dim, 2_000);
            note("gRPC loopback server: pull %.1f us/call + %.1f ns/row, push %.1f us/call + %.1f ns/row", m[0].median() * 1e6, m[1].median() * 1e9,
                    m[2].median() * 1e6, m[3].median() * 1e9);
            return m;
        }
    }

    /** A codec's encode and decode-add per float, over 1M floats. */
    private Measure[] codec(Codec c) {
        int n = 1 << 20;
        float[] x = new float[n], y = new float[n];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        double[] e = new double[reps], d = new double[reps];
        Codec.Encoder enc = c.encoder(3);
        for (int i = -1; i < reps; i++) {
            long t0 = System.nanoTime();
            byte[] m = enc.encode(x, 0, n);
            long t1 = System.nanoTime();
            enc.codec().decodeAdd(java.nio.ByteBuffer.wrap(m), y, 0, n);
            long t2 = System.nanoTime();
            if (i < 0) continue;
            e[i] = (t1 - t0) / 1e9 / n;
            d[i] = (t2 - t1) / 1e9 / n;
        }
        Measure[] out = {Measure.of(e), Measure.of(d)};
        note("%s: encode %.2f ns/float, decode %.2f ns/float", c.name(), out[0].median() * 1e9, out[1].median() * 1e9);
        return out;
    }

    /** The in-process ring allreduce of 2 ranks (2 hops of half the vector each per rank): seconds per float per hop. */
    private Measure ringHop() throws Exception {
        int n = 1 << 20;
        var ranks = InProcessCollectives.create(2, LinkModel.NONE);
        float[][] v = {new float[n], new float[n]};
        double[] s = new double[reps];
        for (int i = -1; i < reps; i++) {
            long t0 = System.nanoTime();
            Thread other = Thread.ofPlatform().name("calibrate-ring-1").start(() -> {
                try {
                    ranks[1].allReduce(v[1], 0, n, io.shadowsync.comm.Collective.ReduceOp.SUM);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            ranks[0].allReduce(v[0], 0, n, io.shadowsync.comm.Collective.ReduceOp.SUM);
            other.join();
            if (i >= 0) s[i] = (System.nanoTime() - t0) / 1e9 / n; // 2 hops of n/2 floats per rank
        }
        for (var c : ranks) c.close();
        Measure m = Measure.of(s);
        note("ring hop: %.2f ns/float", m.median() * 1e9);
        return m;
    }

    /** The dense server taking a pushed change, per float. */
    private Measure denseApply() throws Exception {
        int n = 1 << 20;
        InProcessDenseServer server = new InProcessDenseServer(new float[n], 1, LinkModel.NONE);
        float[] d = new float[n];
        double[] s = new double[reps];
        for (int i = -1; i < reps; i++) {
            long t0 = System.nanoTime();
            server.pushDelta(d);
            if (i >= 0) s[i] = (System.nanoTime() - t0) / 1e9 / n;
        }
        return Measure.of(s);
    }

    /** How much later than its deadline a thread waiting out an emulated 200 us delay runs again (median of 200 waits a repetition). */
    private Measure wakeup() throws InterruptedException {
        double[] s = new double[reps];
        for (int i = -1; i < reps; i++) {
            double[] late = new double[200];
            for (int k = 0; k < late.length; k++) {
                long deadline = System.nanoTime() + 200_000;
                EmulatedLink.awaitDeadline(deadline);
                late[k] = (System.nanoTime() - deadline) / 1e9;
            }
            if (i >= 0) s[i] = Measure.of(late).median();
        }
        Measure m = Measure.of(s);
        note("wake-up after an emulated delay: %.1f us late", m.median() * 1e6);
        return m;
    }

    /** A round's local work per float: snapshot the replica, then write back the change (target − snapshot). */
    private Measure roundLocal() {
        int n = 1 << 20;
        float[] w = new float[n], snap = new float[n], target = new float[n];
        double[] s = new double[reps];
        for (int i = -1; i < reps; i++) {
            long t0 = System.nanoTime();
            System.arraycopy(w, 0, snap, 0, n);
            for (int j = 0; j < n; j++) w[j] += target[j] - snap[j];
            if (i >= 0) s[i] = (System.nanoTime() - t0) / 1e9 / n;
        }
        return Measure.of(s);
    }
}
