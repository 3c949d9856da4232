package io.shadowsync.cli;

import io.shadowsync.cli.report.Report;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.sim.Costs;
import io.shadowsync.sim.ScalingSimulation;
import io.shadowsync.sim.SimCluster;
import io.shadowsync.sim.SimJob;
import io.shadowsync.sim.SimResult;
import io.shadowsync.sim.Stragglers;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code shadowsync simulate JOB.yaml --costs costs.json --trainers 1,2,4,...}: the job's throughput, rounds and
 * staleness on N trainers, from a discrete-event simulation ({@link ScalingSimulation}) driven by calibrated costs.
 */
@Command(name = "simulate", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Predict a job's examples/s, scaling efficiency, sync rounds, staleness and bottleneck on 1 to 256 (or more) "
                + "trainers: a discrete-event simulation driven by the costs 'shadowsync calibrate' measured.",
                "The job is given as to 'train' (JOB.yaml and train's flags: --sync, --workers, --ps-shards, --compress ...). "
                        + "A table on stderr; the last line on stdout is JSON. See docs/simulator.md."})
public final class SimulateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--costs", required = true, paramLabel = "FILE", description = "The costs 'shadowsync calibrate' wrote.")
    Path costsFile;

    @Option(names = "--trainers", split = ",", paramLabel = "N", description = "Trainer counts to simulate (default: 1,2,4,8,16,32,64,128,256).")
    List<Integer> trainers = List.of(1, 2, 4, 8, 16, 32, 64, 128, 256);

    @Option(names = "--algorithms", split = ",", paramLabel = "ALGO", description = "Algorithms to simulate, or 'all' (every registered one but none) "
            + "(default: the job's --sync).")
    List<String> algorithms;

    @Option(names = "--bandwidth", paramLabel = "BW", description = "Every link's bandwidth, e.g. 10gbit (default: 10gbit).")
    String bandwidth = "10gbit";

    @Option(names = "--latency", paramLabel = "T", description = "Every link's one-way latency, e.g. 50us (default: 50us).")
    String latency = "50us";

    @Option(names = "--cores-per-host", paramLabel = "C", description = "Cores of a host, shared by its trainers' threads "
            + "and (in process, or with --servers-on-host) the servers' work (default: the calibrated machine's cores).")
    Double coresPerHost;

    @Option(names = "--trainers-per-host", paramLabel = "T", description = "Trainers sharing a host; 0: all on one host (default: 1).")
    int trainersPerHost = 1;

    @Option(names = "--in-process", description = "Servers in the trainers' JVM, their calls on the caller's thread, as 'train' with "
            + "--net-bandwidth/--net-latency runs them (default: servers on hosts of their own, over gRPC).")
    boolean inProcess;

    @Option(names = "--servers-on-host", description = "Servers over the network, but on the trainers' host, sharing its cores, as "
            + "'launch --local' runs them (needs --trainers-per-host 0).")
    boolean serversOnHost;

    @Option(names = "--quantum", paramLabel = "T", description = "How a host's cores are shared: 0, processor sharing (every running thread "
            + "gets its share at once); a scheduler quantum, e.g. 4ms, time slices (a run queue; a thread runs on a core until it is "
            + "through or has run T) (default: 0). See docs/simulator.md.")
    String quantum = "0";

    @Option(names = "--stragglers", paramLabel = "S", description = "How steps vary: none, lognormal:S or exp:F (default: lognormal with the "
            + "calibrated step's variation, step.step_cv; see docs/simulator.md).")
    String stragglers;

    @Option(names = "--steps", paramLabel = "K", description = "Worker steps simulated per worker, a fifth of them warm-up (default: 200, "
            + "fewer above 32 trainers, at least 5 rounds in the foreground).")
    Integer steps;

    @Option(names = "--sim-seed", paramLabel = "S", description = "Seed of the simulation (stragglers) (default: 1).")
    long simSeed = 1;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Also write the JSON summary to this file.")
    Path summaryJson;

    @Option(names = "--chart", paramLabel = "FILE", description = "Also draw examples/s against trainers, one line per algorithm, on "
            + "log-log axes (a straight line of slope 1 is linear scaling), as a PNG image to this file.")
    Path chart;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Unmatched
    List<String> job = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync simulate");
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        for (int n : trainers) {
            if (n < 1 || n > JobConfig.MAX_TRAINERS) throw new UsageException("--trainers: each count is 1 to " + JobConfig.MAX_TRAINERS + ", got " + n);
        }
        if (steps != null && steps < 10) throw new UsageException("--steps must be at least 10, got " + steps);
        if (trainersPerHost < 0) throw new UsageException("--trainers-per-host must be ≥ 0 (0: all on one host), got " + trainersPerHost);
        LinkModel link = LinkModel.parse(bandwidth, latency);
        new Outputs().input("--costs", costsFile).output("--summary-json", summaryJson).output("--chart", chart).check();
        Costs costs = CostsFile.read(costsFile);
        TrainCommand train = TrainFlags.parse(job, out, err);
        JobCommand.Plan plan = train.plan(new PrintWriter(java.io.Writer.nullWriter()), false);
        long[][] shapes = plan.modelSpec().embeddingShapes();
        JobConfig c = plan.job();
        long dense = plan.modelSpec().denseParameters();
        if (dense > Integer.MAX_VALUE) throw new UsageException("the model's " + dense + " dense parameters are more than the simulator takes (2^31 − 1)");
        SimJob base = new SimJob(c.sync(), c.trainer().workers(), plan.batchSize(), (int) dense, shapes.length,
                shapes.length == 0 ? 0 : (int) shapes[0][1], c.psShards(), c.codec());
        Stragglers st = stragglers != null ? Stragglers.parse(stragglers) : new Stragglers(Stragglers.Kind.LOGNORMAL, costs.step().variation());
        double cores = coresPerHost != null ? coresPerHost : costs.machine().cores();
        if (!(cores > 0)) throw new UsageException("--cores-per-host must be positive, got " + cores);
        if (serversOnHost && (inProcess || trainersPerHost != 0)) {
            throw new UsageException("--servers-on-host puts the servers over the network on the trainers' one host: use it without --in-process "
                    + "and with --trainers-per-host 0");
        }
        double slice;
        try {
            slice = LinkModel.parse("inf", quantum).latencySeconds(); // a duration, as --latency takes one
        } catch (IllegalArgumentException e) {
            throw new UsageException("--quantum: a duration such as 4ms or 0, got '" + quantum + "'");
        }
        SimCluster cluster = new SimCluster(link, cores, trainersPerHost, inProcess, st, serversOnHost, slice);
        List<Map<String, Object>> results = new ArrayList<>();
        err.println(String.format(Locale.ROOT, "shadowsync simulate: %s model, %,d dense floats, %d tables, batch %d, %d worker(s); links %s / %s; "
                        + "%.2f cores per host (%s), %s trainer(s) per host, servers %s; stragglers %s",
                plan.modelSpec().kind(), dense, shapes.length, plan.batchSize(), base.workers(), bandwidth, latency, cores,
                slice == 0 ? "processor sharing" : "time slices of " + String.format(Locale.ROOT, "%.4g", slice * 1e3).replaceAll("\\.?0+$", "") + " ms",
                trainersPerHost == 0 ? "all" : trainersPerHost, inProcess ? "in process" : serversOnHost ? "over the network, on the trainers' host"
                        : "over the network", st));
        double residual = ScalingSimulation.residual(base, costs, cluster);
        Costs.Launched l = inProcess ? null : costs.launch();
        err.println(String.format(Locale.ROOT, "shadowsync simulate: step %.3f ms wall, %.3f ms CPU (workers %.3f ms), %.3f cores a process as calibrated%s; "
                        + "%.3f ms a step not accounted for by the model at the calibrated configuration, added to every step",
                costs.step().wall().median() * 1e3, costs.step().cpu().median() * 1e3, costs.step().workerCpu().median() * 1e3,
                costs.step().processCpu().median(), l == null ? "" : String.format(Locale.ROOT, "; launched: step %.3f ms wall, %.3f ms CPU, servers %.3f ms CPU",
                        l.wall().median() * 1e3, l.cpu().median() * 1e3, l.serverCpu().median() * 1e3), residual * 1e3));
        err.println("| algorithm | trainers | examples/s | efficiency | rounds/s | staleness (rounds) | staleness (ms) | bytes/example | bottleneck |");
        err.println("|---|---|---|---|---|---|---|---|---|");
        for (String a : algorithmNames(plan.algorithm())) {
            SimJob j = base.with(a);
            double one = Double.NaN;
            for (int n : trainers) {
                int k = steps != null ? steps : Math.max(30, Math.min(200, 6400 / n));
                if (j.algorithm().foreground()) k = Math.max(k, 5 * j.sync().syncEvery());
                SimResult r = new ScalingSimulation(j, cluster, costs, n, simSeed, k).run();
                if (Double.isNaN(one)) one = r.examplesPerSec() / n; // efficiency against the smallest N simulated
                Map<String, Object> m = r.toMap(one);
                results.add(m);
                err.println(String.format(Locale.ROOT, "| %s | %d | %,.0f | %.2f | %.1f | %s | %s | %,.0f | %s |", a, n, r.examplesPerSec(),
                        r.examplesPerSec() / (n * one), r.roundsPerSec(), Double.isNaN(r.stalenessRounds()) ? "-" : String.format(Locale.ROOT, "%.1f", r.stalenessRounds()),
                        Double.isNaN(r.stalenessSeconds()) ? "-" : String.format(Locale.ROOT, "%.2f", r.stalenessSeconds() * 1e3), r.bytesPerExample(), r.bottleneck()));
                err.flush();
            }
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("costs", costsFile.toString());
        summary.put("bandwidth", bandwidth);
        summary.put("latency", latency);
        summary.put("cores_per_host", cores);
        summary.put("trainers_per_host", trainersPerHost);
        summary.put("quantum_seconds", slice);
        summary.put("servers", inProcess ? "in-process" : serversOnHost ? "network-on-host" : "network");
        summary.put("step_residual_seconds", residual);
        summary.put("stragglers", st.toString());
        summary.put("results", results);
        if (chart != null) {
            java.nio.ByteBuffer png = java.nio.ByteBuffer.wrap(chart(results, cores));
            io.shadowsync.ckpt.AtomicFiles.write(chart, ch -> {
                while (png.hasRemaining()) ch.write(png);
            });
            err.println("shadowsync simulate: wrote the chart to " + chart);
        }
        Json.emit(out, summaryJson, summary);
        return 0;
    }

    /** Examples/s against trainers, a line per algorithm in the order simulated, as a PNG image. */
    private byte[] chart(List<Map<String, Object>> results, double cores) {
        Map<String, List<double[]>> by = new LinkedHashMap<>();
        for (Map<String, Object> r : results) {
            by.computeIfAbsent((String) r.get("algorithm"), k -> new ArrayList<>())
                    .add(new double[] {((Number) r.get("trainers")).doubleValue(), ((Number) r.get("examples_per_sec")).doubleValue()});
        }
        List<Report.Line> lines = new ArrayList<>();
        by.forEach((a, pts) -> lines.add(new Report.Line(a, pts.stream().mapToDouble(p -> p[0]).toArray(),
                pts.stream().mapToDouble(p -> p[1]).toArray())));
        String title = String.format(Locale.ROOT, "Predicted examples/s (%s / %s links, %s cores a host)", bandwidth, latency,
                new java.text.DecimalFormat("0.##").format(cores));
        return Report.pngOf(new Report.Chart("simulate", title, "trainers", "examples/s", lines, false, true));
    }

    /** --algorithms as registered names: the job's own by default, 'all' for every one that synchronizes. */
    private List<String> algorithmNames(String jobs) {
        if (algorithms == null || algorithms.isEmpty()) return List.of(jobs);
        if (algorithms.size() == 1 && algorithms.get(0).equalsIgnoreCase("all")) {
            List<String> all = new ArrayList<>();
            for (AlgorithmDescriptor d : SyncAlgorithms.all()) if (d.mode() != SyncSpec.Mode.NONE) all.add(d.name());
            return all;
        }
        List<String> out = new ArrayList<>();
        for (String a : algorithms) {
            try {
                out.add(SyncAlgorithms.get(a).name());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--algorithms: " + e.getMessage());
            }
        }
        return out;
    }
}
