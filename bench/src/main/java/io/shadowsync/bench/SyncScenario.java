package io.shadowsync.bench;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ShadowSync comparison on one machine: for N = 1, 2, 4, 8 trainers (one worker each) under an emulated
 * network, every sync algorithm's examples/s, worker wait fraction, sync rounds and final eval logloss/NE, as a
 * Markdown table (stdout) and JSON lines ({@code --json FILE}). Throughput is also given relative to {@code none}
 * (independent trainers) at the same N, which is what the shadow algorithms are meant to keep.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar io.shadowsync.bench.SyncScenario \
 *      [--trainers 1,2,4,8] [--algorithms none,s-ma,...] [--examples 200000] [--bandwidth 1gbit] [--latency 0.5ms]
 *      [--sync-every 1] [--sync-interval-ms 0] [--data DIR] [--json FILE]
 * </pre>
 * Every run trains the same DLRM (13 dense, 26 tables of 100,000 × 16, bottom 64, top 64, SGD 0.5, batch 128) on the
 * same in-memory synthetic data ({@code gen-data}, seed 1234), the total example budget split over the trainers.
 * Foreground algorithms synchronize every {@code --sync-every} steps (default 1: the paper's worst case).
 */
public final class SyncScenario {
    private SyncScenario() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        List<Integer> trainerCounts = ints(opt.getOrDefault("trainers", "1,2,4,8"));
        List<String> algorithms = List.of(opt.getOrDefault("algorithms", String.join(",", SyncAlgorithms.names())).split(","));
        long examples = Long.parseLong(opt.getOrDefault("examples", "200000"));
        int syncEvery = Integer.parseInt(opt.getOrDefault("sync-every", "1"));
        long interval = Long.parseLong(opt.getOrDefault("sync-interval-ms", "0"));
        LinkModel link = LinkModel.parse(opt.getOrDefault("bandwidth", "1gbit"), opt.getOrDefault("latency", "0.5ms"));
        Path data = Path.of(opt.getOrDefault("data", "/tmp/shadowsync-bench/synthetic"));
        Path json = opt.containsKey("json") ? Path.of(opt.get("json")) : null;

        if (!Files.isRegularFile(data.resolve("train.tsv"))) {
            System.err.println("sync scenario: generating synthetic CTR data in " + data);
            new SyntheticCtr(new SyntheticCtr.Config(200_000, 50_000, 1234)).generate(data);
        }
        InMemorySource train = InMemorySource.load(new CriteoTsvSource(data.resolve("train.tsv"), false));
        InMemorySource eval = InMemorySource.load(new CriteoTsvSource(data.resolve("eval.tsv"), false));
        DlrmSpec spec = DlrmSpec.criteo();

        // warm-up (JIT) with every algorithm once, small budget, not recorded: otherwise the first runs are slower
        for (String algorithm : algorithms) runOnce(spec, train, eval, algorithm, 2, 20_000, syncEvery, interval, link);

        List<Map<String, Object>> rows = new ArrayList<>();
        for (int n : trainerCounts) {
            double noneRate = Double.NaN;
            for (String algorithm : algorithms) {
                Outcome o = runOnce(spec, train, eval, algorithm, n, examples, syncEvery, interval, link);
                JobResult r = o.result();
                Metrics m = o.metrics();
                if (algorithm.equals(SyncAlgorithms.NONE)) noneRate = r.examplesPerSecond();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("trainers", n);
                row.put("algorithm", algorithm);
                row.put("examples", r.examples());
                row.put("examples_per_sec", Math.round(r.examplesPerSecond()));
                row.put("vs_none", noneRate > 0 ? round(r.examplesPerSecond() / noneRate, 3) : Double.NaN);
                row.put("worker_wait_fraction", round(r.workerWaitFraction(), 4));
                row.put("sync_rounds", r.syncRounds()[0]);
                row.put("mean_round_ms", round(r.meanRoundMillis()[0], 2));
                row.put("eval_logloss", round(m.logloss(), 4));
                row.put("eval_ne", round(m.ne(), 4));
                rows.add(row);
                System.err.println("sync scenario: " + row);
                if (json != null) Files.writeString(json, toJson(row) + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }
        }
        System.out.println(table(rows, link, syncEvery, interval, examples));
    }

    record Outcome(JobResult result, Metrics metrics) {}

    static Outcome runOnce(DlrmSpec spec, InMemorySource train, InMemorySource eval, String algorithm, int n, long examples,
                           int syncEvery, long intervalMs, LinkModel link) throws Exception {
        SyncSpec sync = new SyncSpec(algorithm, syncEvery, intervalMs, Double.NaN, 1.0, false, Double.NaN);
        TrainerConfig tc = new TrainerConfig(1, 128, examples, 1, DataSplit.ROUND_ROBIN, 1234, 4, 100_000, false);
        Job job = new Job(spec, 1234, OptimizerSpec.of("sgd", 0.5), new EmbeddingOptimizerSpec("sgd", 0.5), train,
                new JobConfig(n, tc, sync, Math.max(1, n / 2), link));
        JobResult r = job.run();
        return new Outcome(r, Evaluator.evaluate(job.model(), job.tables(), eval, 4096).metrics());
    }

    static String table(List<Map<String, Object>> rows, LinkModel link, int syncEvery, long intervalMs, long examples) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "DLRM, %,d examples per run, W = 1, emulated link %s, foreground every %d step(s), shadow rounds paced %d ms%n%n",
                examples, link.isIdeal() ? "none" : String.format(Locale.ROOT, "%.0f Mbit/s + %.2f ms", link.bytesPerSecond() * 8 / 1e6, link.latencySeconds() * 1e3), syncEvery, intervalMs));
        sb.append("| N | algorithm | examples/s | vs none | worker wait | sync rounds | mean round ms | eval logloss | eval NE |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> r : rows) {
            sb.append(String.format(Locale.ROOT, "| %d | %s | %,d | %.2f | %.3f | %d | %.2f | %.4f | %.4f |%n", r.get("trainers"), r.get("algorithm"),
                    (Long) r.get("examples_per_sec"), (Double) r.get("vs_none"), (Double) r.get("worker_wait_fraction"), (Long) r.get("sync_rounds"),
                    (Double) r.get("mean_round_ms"), (Double) r.get("eval_logloss"), (Double) r.get("eval_ne")));
        }
        return sb.toString();
    }

    private static String toJson(Map<String, Object> row) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : row.entrySet()) {
            if (sb.length() > 1) sb.append(',');
            sb.append('"').append(e.getKey()).append("\":");
            Object v = e.getValue();
            boolean number = v instanceof Number && !(v instanceof Double d && !Double.isFinite(d));
            sb.append(number ? v.toString() : "\"" + v + "\"");
        }
        return sb.append('}').toString();
    }

    private static double round(double v, int digits) {
        if (!Double.isFinite(v)) return v;
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static List<Integer> ints(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) out.add(Integer.parseInt(s.trim()));
        return out;
    }

    private static Map<String, String> parse(String[] args) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IOException("usage: SyncScenario [--key value]..., got '" + args[i] + "'");
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
