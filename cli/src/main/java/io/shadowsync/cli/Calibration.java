package io.shadowsync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The measurements of {@code shadowsync calibrate}: what the pieces of one job cost on this machine, each repeated and
 * summarized as a {@link Measure} (median and interquartile half-range), in seconds of one thread.
 */
final class Calibration {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PrintWriter err;
    private final int reps;

    Calibration(PrintWriter err, int reps) {
        this.err = err;
        this.reps = reps;
    }

    /** Everything, for the job t describes (its flags as parsed; changed here to a one-trainer job without network). */
    Costs measure(TrainCommand t, List<String> jobArgs, long examples, boolean launch) throws Exception {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        JobCommand.Plan plan = t.plan(err, true);
        long[][] shapes = plan.modelSpec().embeddingShapes();
        int dim = shapes.length == 0 ? 1 : (int) shapes[0][1];
        double rowsPerStep = rowsPerStep(plan.train(), plan.batchSize(), shapes.length);
        note("distinct embedding rows per step: %.1f", rowsPerStep);
        Costs.JobStep step = jobStep(jobArgs, plan, examples);
        note("the job's worker step (one trainer, %d worker(s), %d shard(s), link %s): %.3f ms wall (± %.3f), CPU %.3f ms (workers %.3f ms); "
                        + "the process's own CPU %.3f cores (± %.3f)", step.workers(), step.psShards(), step.link(), step.wall().median() * 1e3,
                step.wall().spread() * 1e3, step.cpu().median() * 1e3, step.workerCpu().median() * 1e3, step.processCpu().median(),
                step.processCpu().spread());
        if (step.stepCv() != null) note("a worker step's time varies by %.2f of its mean (coefficient of variation, ± %.2f)", step.stepCv().median(), step.stepCv().spread());
        Costs.Launched launched = launch ? launched(jobArgs, plan, examples, step.processCpu().median()) : null;
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
                wakeup, machine, launched);
    }

    private void note(String format, Object... args) {
        err.println("shadowsync calibrate: " + String.format(java.util.Locale.ROOT, format, args));
        err.flush();
    }

    /** The flags calibrate gives the job's runs itself (the user's are dropped). */
    private static final Set<String> OWN_FLAGS = Set.of("--trainers", "--sync", "--examples", "--epochs", "--metrics", "--log-every", "--run-dir",
            "--eval-every", "--metrics-port", "--dashboard", "--no-progress", "--save", "--summary-json", "--checkpoint-dir", "--resume");

    /** Where the steady state begins in a run: as scripts/sim-validate.sh measures, the last 60 % of each trainer's metrics records. */
    static final double STEADY_FROM = 0.4;

    /**
     * The job's own worker step, from reps pairs of runs of the job as train runs it (its workers, shards, emulated
     * link, input), each in a JVM of its own with the sync off, as one and as two trainers, measured in their steady
     * state (each trainer's last 60 % of its metrics records, so the JVM's start and the warm-up are outside, as when
     * a job is measured): the examples/s, the process's CPU rate and its worker threads' (sampled every 20 ms). A
     * process's CPU rate is R = P + c·S at S worker steps a second: c the CPU a step costs (its worker, reader, server
     * calls, garbage) and P what the process burns whatever its trainers do (the JIT, the metrics, timers); the two
     * runs give both. The step's wall time is the one-trainer run's.
     */
    private Costs.JobStep jobStep(List<String> jobArgs, JobCommand.Plan plan, long examplesPerTrainer) throws Exception {
        int workers = plan.job().trainer().workers();
        double batch = plan.batchSize();
        double[] wall = new double[reps], cpu = new double[reps], own = new double[reps], process = new double[reps], cv = new double[reps];
        for (int i = 0; i < reps; i++) {
            Steady one = childRun(jobArgs, 1, examplesPerTrainer), two = childRun(jobArgs, 2, examplesPerTrainer);
            cv[i] = one.stepCv(batch, workers);
            double s1 = one.examplesPerSec / batch, s2 = two.examplesPerSec / batch;
            note("run %d: 1 trainer %.0f examples/s, %.3f cores (workers %.3f); 2 trainers %.0f examples/s, %.3f cores (workers %.3f)", i + 1,
                    one.examplesPerSec, one.cpu, one.workerCpu, two.examplesPerSec, two.cpu, two.workerCpu);
            wall[i] = workers * batch / one.examplesPerSec;
            own[i] = (one.workerCpu + two.workerCpu) / (s1 + s2);
            double[] split = split(s1, one.cpu, s2, two.cpu, own[i]);
            if (split[1] == 0) {
                note("run %d: the two runs do not separate the process's own CPU from the steps' (%.0f and %.0f steps/s); all of it is counted as the steps'",
                        i + 1, s1, s2);
            }
            cpu[i] = split[0];
            process[i] = split[1];
        }
        Measure c = Measure.of(cpu), w = Measure.of(own);
        if (w.median() > c.median()) w = new Measure(c.median(), w.spread());
        double[] cvs = java.util.Arrays.stream(cv).filter(Double::isFinite).toArray();
        Measure stepCv = cvs.length == 0 ? null : Measure.of(cvs);
        if (stepCv == null) note("the runs were too short to measure how a step's time varies (fewer than 10 metrics intervals in the steady state)");
        return new Costs.JobStep(Measure.of(wall), c, w, Measure.of(process), workers, plan.job().psShards(), plan.job().link(), stepCv);
    }

    /**
     * The line R = P + c·S through a process's CPU rates R1 and R2 (cores) at S1 and S2 steps a second: {c, P}, the
     * CPU a step costs and the process's own. A step costs at least its workers' own CPU: a slope below it (noise: a
     * loaded host) is raised to it and P is the two runs' mean of R − c·S. Where the runs do not separate the two (two
     * trainers less than 1.1 times as fast as one: the cores were short; P below 0) all of the CPU is the steps':
     * {max(worker, (R1 + R2) / (S1 + S2)), 0}.
     */
    static double[] split(double s1, double r1, double s2, double r2, double worker) {
        double c = Math.max(worker, (r2 - r1) / (s2 - s1)), p = (r1 - c * s1 + r2 - c * s2) / 2;
        if (s2 > 1.1 * s1 && p >= 0) return new double[] {c, p};
        return new double[] {Math.max(worker, (r1 + r2) / (s1 + s2)), 0};
    }

    /**
     * The job as {@code launch --local 1} runs it (one trainer process, the job's server processes, rows over loopback;
     * no emulated link), reps times, in its steady state: per worker step of the trainer, its wall time, the trainer
     * process's CPU and its workers' (the process's own CPU, processCpu cores as the train runs measured it, taken
     * out), and the server processes' CPU, all of it (a server JVM's own CPU is not a trainer JVM's: 2 servers used
     * less than 2 × processCpu on the validation's job; one run cannot tell it from their rows' work, so it is counted
     * as the steps').
     */
    private Costs.Launched launched(List<String> jobArgs, JobCommand.Plan plan, long examplesPerTrainer, double processCpu) throws Exception {
        int workers = plan.job().trainer().workers(), shards = plan.job().psShards();
        double batch = plan.batchSize();
        double[] wall = new double[reps], cpu = new double[reps], own = new double[reps], server = new double[reps];
        Set<String> drop = new HashSet<>(OWN_FLAGS);
        drop.addAll(List.of("--net-bandwidth", "--net-latency"));
        for (int i = 0; i < reps; i++) {
            List<String> args = new ArrayList<>(List.of("launch", "--local", "1"));
            args.addAll(TrainFlags.without(jobArgs, drop));
            args.addAll(List.of("--examples", String.valueOf(examplesPerTrainer)));
            Steady r = childRun(args, 1);
            double steps = r.examplesPerSec / batch;
            wall[i] = workers * batch / r.examplesPerSec;
            own[i] = r.workerCpu / steps;
            cpu[i] = Math.max(own[i], (r.cpu - processCpu) / steps);
            server[i] = r.serverCpu / steps;
            note("launched run %d: 1 trainer process %.0f examples/s, %.3f cores (workers %.3f); %d server process(es) %.3f cores", i + 1,
                    r.examplesPerSec, r.cpu, r.workerCpu, shards, r.serverCpu);
        }
        Costs.Launched l = new Costs.Launched(Measure.of(wall), Measure.of(cpu), Measure.of(own), Measure.of(server), shards);
        note("the launched step (1 trainer process, %d server process(es)): %.3f ms wall (± %.3f), trainer CPU %.3f ms (workers %.3f ms), "
                + "servers' CPU %.3f ms", shards, l.wall().median() * 1e3, l.wall().spread() * 1e3, l.cpu().median() * 1e3,
                l.workerCpu().median() * 1e3, l.serverCpu().median() * 1e3);
        return l;
    }

    /**
     * A run's steady state: examples/s (all trainers), the CPU of its trainer processes and of their worker threads,
     * and of its server processes (cores).
     */
    record Steady(double examplesPerSec, double cpu, double workerCpu, double serverCpu, double intervalMean, double intervalVariance) {
        /**
         * How much one worker step's time varies (its coefficient of variation), from how the examples trainer 0
         * trained in its metrics intervals vary: steps in an interval of a renewal process with mean step μ and
         * coefficient c have variance ≈ (T/μ)·c² = mean·c², plus the counting's own, about 1/6 a worker (an interval
         * that cuts a step); so c² = (variance − W/6) / mean, in steps. NaN where the run had too few intervals.
         */
        double stepCv(double batch, int workers) {
            double mean = intervalMean / batch, var = intervalVariance / (batch * batch);
            if (!(mean > 0)) return Double.NaN;
            return Math.sqrt(Math.max(0, var - workers / 6.0) / mean);
        }
    }

    /** The job as {@code shadowsync train} runs it with the given trainers (sync none, examples a trainer) in a JVM of its own. */
    private Steady childRun(List<String> jobArgs, int trainers, long examplesPerTrainer) throws Exception {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(TrainFlags.without(jobArgs, OWN_FLAGS));
        args.addAll(List.of("--trainers", String.valueOf(trainers), "--sync", "none", "--examples", String.valueOf(examplesPerTrainer * trainers)));
        return childRun(args, trainers);
    }

    /**
     * shadowsync args (train or launch; calibrate adds its metrics, a model file of its own and no progress) in a JVM
     * of its own, sampled every 20 ms: the CPU time (the OS's count) of that process and every process it starts, by
     * role (a trainer: train or trainer; a server: ps), and the trainers' worker threads' (on Linux, from
     * /proc/PID/task, whose names the JVM sets; elsewhere all of a trainer's CPU counts as its workers'); over the window
     * of the steady state in the trainers' metrics records.
     */
    private Steady childRun(List<String> given, int trainers) throws Exception {
        Path dir = Files.createTempDirectory("shadowsync-calibrate");
        Path metrics = dir.resolve("metrics.jsonl"), log = dir.resolve("stderr.txt"), model = dir.resolve("model");
        try {
            List<String> args = new ArrayList<>(given);
            args.addAll(List.of("--metrics", metrics.toString(), "--log-every", "0.1", "--no-progress", "--save", model.toString()));
            Process p = new ProcessBuilder(ChildJvm.command(ChildJvm.inheritedOptions(), args)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(log.toFile()).start();
            List<double[]> samples = new ArrayList<>(); // wall ms since the epoch, trainers' CPU s, their workers' s, servers' s
            Map<Long, Double> cpuOf = new java.util.HashMap<>(); // per process its last count: one that ended keeps it
            Map<Long, String> roleOf = new java.util.HashMap<>();
            Map<String, Long> workerTicks = new java.util.HashMap<>();
            try {
                while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
                    double now = System.currentTimeMillis();
                    double workersCpu = 0;
                    List<ProcessHandle> all = new ArrayList<>(List.of(p.toHandle()));
                    p.toHandle().descendants().forEach(all::add);
                    for (ProcessHandle h : all) {
                        // asked again until it has one: a child seen between its fork and its exec shows the launcher's command line
                        String role = roleOf.get(h.pid());
                        if (role == null || role.isEmpty()) roleOf.put(h.pid(), role = role(h));
                        if (role.isEmpty()) continue;
                        var total = h.info().totalCpuDuration();
                        if (total.isPresent()) cpuOf.merge(h.pid(), total.get().toNanos() / 1e9, Math::max);
                        if (role.equals("trainer")) workersCpu += workerCpu(h.pid(), workerTicks);
                    }
                    double trainerCpu = 0, serverCpu = 0;
                    for (var e : cpuOf.entrySet()) {
                        if (roleOf.get(e.getKey()).equals("trainer")) trainerCpu += e.getValue();
                        else serverCpu += e.getValue();
                    }
                    samples.add(new double[] {now, trainerCpu, workersCpu, serverCpu});
                }
            } finally {
                if (p.isAlive()) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor();
                }
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(log);
                throw new IllegalStateException("calibrate: the job's run (shadowsync " + String.join(" ", given) + ") failed (exit " + p.exitValue() + "): "
                        + String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size())));
            }
            return steady(dir, samples, trainers);
        } finally {
            try (var ls = Files.list(dir)) {
                for (Path f : (Iterable<Path>) ls::iterator) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    /** A shadowsync process's role: "trainer" (train, trainer), "server" (ps), or "" (another: the launcher). */
    private static String role(ProcessHandle h) {
        String[] args = h.info().arguments().orElse(new String[0]);
        for (int i = 0; i + 1 < args.length; i++) {
            if (!args[i].equals(Main.class.getName())) continue;
            return switch (args[i + 1]) {
                case "train", "trainer" -> "trainer";
                case "ps" -> "server";
                default -> "";
            };
        }
        return "";
    }

    /**
     * Seconds of CPU of the worker threads (trainer-T/worker-W) of process pid so far, those that ended included (ticksOf
     * holds each one's last count); NaN where /proc is not there.
     */
    private static double workerCpu(long pid, Map<String, Long> ticksOf) {
        Path tasks = Path.of("/proc", String.valueOf(pid), "task");
        if (!Files.isDirectory(tasks)) return Double.NaN;
        try (var ls = Files.list(tasks)) {
            for (Path t : (Iterable<Path>) ls::iterator) {
                String stat;
                try {
                    stat = Files.readString(t.resolve("stat"));
                } catch (java.io.IOException gone) {
                    continue; // the thread ended
                }
                int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                if (open < 0 || close < open || !stat.substring(open + 1, close).matches("trainer-\\d+/w.*")) continue;
                String[] f = stat.substring(close + 2).split(" ");
                ticksOf.merge(t.getFileName().toString(), Long.parseLong(f[11]) + Long.parseLong(f[12]), Math::max); // utime, stime
            }
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
        long ticks = 0;
        for (long k : ticksOf.values()) ticks += k;
        return ticks / 100.0; // USER_HZ: /proc counts in hundredths of a second
    }

    /**
     * The steady window of a run (each trainer's records in the metrics files in dir, from STEADY_FROM of its time on)
     * and the CPU the samples saw in it.
     */
    private static Steady steady(Path dir, List<double[]> samples, int trainers) throws java.io.IOException {
        Map<Integer, List<JsonNode>> by = new java.util.TreeMap<>();
        List<String> lines = new ArrayList<>();
        try (var ls = Files.list(dir)) {
            for (Path f : (Iterable<Path>) ls::iterator) if (f.getFileName().toString().endsWith(".jsonl")) lines.addAll(Files.readAllLines(f));
        }
        for (String line : lines) {
            if (line.isBlank()) continue;
            JsonNode r = JSON.readTree(line);
            if (!r.path("type").asText("train").equals("train") || !r.has("trainer") || r.path("final").asBoolean()) continue;
            by.computeIfAbsent(r.get("trainer").asInt(), k -> new ArrayList<>()).add(r);
        }
        double eps = 0, from = Double.NaN, to = Double.NaN;
        for (List<JsonNode> rs : by.values()) {
            JsonNode end = rs.get(rs.size() - 1), mid = null;
            for (JsonNode r : rs) {
                if (r.get("seconds").asDouble() >= STEADY_FROM * end.get("seconds").asDouble()) {
                    mid = r;
                    break;
                }
            }
            double span = end.get("seconds").asDouble() - mid.get("seconds").asDouble();
            if (span > 0) eps += (end.get("examples").asDouble() - mid.get("examples").asDouble()) / span;
            if (Double.isNaN(from)) {
                from = mid.get("time").asDouble();
                to = end.get("time").asDouble();
            }
        }
        if (by.size() < trainers || !(to - from >= 200) || samples.size() < 2 || !(eps > 0)) {
            throw new IllegalStateException("calibrate: a run of " + trainers + " trainer(s) was too short to measure its steady state; "
                    + "raise --calibrate-examples");
        }
        double seconds = (to - from) / 1e3;
        double cpu = (at(samples, to, 1) - at(samples, from, 1)) / seconds, workers = (at(samples, to, 2) - at(samples, from, 2)) / seconds;
        double servers = (at(samples, to, 3) - at(samples, from, 3)) / seconds;
        double[] spread = intervals(by.values().iterator().next());
        return new Steady(eps, cpu, Double.isNaN(workers) ? cpu : Math.min(cpu, workers), servers, spread[0], spread[1]);
    }

    /**
     * The examples a trainer trained in each metrics interval of its steady state: their mean, and the variance of
     * each interval's examples about what its length at the mean rate would hold (the metrics timer's intervals vary by
     * about half a step on a loaded host; the count is not scaled, which would scale its rounding too); NaN for fewer
     * than 10 intervals.
     */
    static double[] intervals(List<JsonNode> rs) {
        double end = rs.get(rs.size() - 1).get("seconds").asDouble();
        List<JsonNode> steady = new ArrayList<>();
        for (JsonNode r : rs) if (r.get("seconds").asDouble() >= STEADY_FROM * end) steady.add(r);
        int k = steady.size() - 1;
        if (k < 10) return new double[] {Double.NaN, Double.NaN};
        double[] dt = new double[k], dx = new double[k];
        double sumT = 0, sumX = 0;
        for (int i = 0; i < k; i++) {
            dt[i] = steady.get(i + 1).get("seconds").asDouble() - steady.get(i).get("seconds").asDouble();
            dx[i] = steady.get(i + 1).get("examples").asDouble() - steady.get(i).get("examples").asDouble();
            sumT += dt[i];
            sumX += dx[i];
        }
        double rate = sumX / sumT, var = 0;
        for (int i = 0; i < k; i++) var += (dx[i] - rate * dt[i]) * (dx[i] - rate * dt[i]) / (k - 1);
        return new double[] {sumX / k, var};
    }

    /** Column k of the samples at time t (linear between the samples around it, the first or last outside them). */
    private static double at(List<double[]> samples, double t, int k) {
        if (t <= samples.get(0)[0]) return samples.get(0)[k];
        for (int i = 1; i < samples.size(); i++) {
            double[] a = samples.get(i - 1), b = samples.get(i);
            if (t <= b[0]) return b[0] > a[0] ? a[k] + (b[k] - a[k]) * (t - a[0]) / (b[0] - a[0]) : b[k];
        }
        return samples.get(samples.size() - 1)[k];
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
