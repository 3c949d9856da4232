package io.shadowsync.bench;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.SlowTrainer;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one slow trainer does to the others: for N trainers (W = 1), shadow and foreground synchronization, the
 * examples/s of the trainers other than the slow one — without a straggler, with trainer N−1 sleeping
 * {@code --slow-ms} per batch, and with it spinning that long on the CPU instead — medians over {@code --reps}
 * repetitions, interleaved so that drifts of a shared machine hit every variant alike. The ratio slowed/unslowed is
 * the figure to watch (the target is ≥ 0.90 in shadow mode). A sleeping straggler frees its core: on a machine with fewer cores
 * than threads the others then run faster than beside a trainer at full speed, which flatters the ratio; the spinning
 * one takes a full trainer's CPU share, so its ratio is the fair one there.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar io.shadowsync.bench.StragglerBench \
 *      [--trainers 2,3] [--algorithms s-ma,fr-ma] [--examples 20000] [--slow-ms 20] [--reps 3] [--sync-every 1]
 *      [--sync-interval-ms 10] [--bandwidth 1gbit] [--latency 0.5ms] [--data DIR]
 * </pre>
 * {@code --examples} is per trainer. The model and data are SyncScenario's (DLRM, 26 tables of 100,000 × 16, in-memory
 * synthetic CTR data, SGD 0.5, batch 128), the embedding tables on max(1, N/2) shards.
 */
public final class StragglerBench {
    private StragglerBench() {}

    /** Without a straggler, with one asleep, with one spinning. */
    enum Variant { NONE, SLEEP, SPIN }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        List<Integer> trainerCounts = new ArrayList<>();
        for (String s : opt.getOrDefault("trainers", "2,3").split(",")) trainerCounts.add(Integer.parseInt(s.trim()));
        List<String> algorithms = List.of(opt.getOrDefault("algorithms", "s-ma,fr-ma").split(","));
        long perTrainer = Long.parseLong(opt.getOrDefault("examples", "20000"));
        long slowMs = Long.parseLong(opt.getOrDefault("slow-ms", "20"));
        int reps = Integer.parseInt(opt.getOrDefault("reps", "3"));
        int syncEvery = Integer.parseInt(opt.getOrDefault("sync-every", "1"));
        long interval = Long.parseLong(opt.getOrDefault("sync-interval-ms", "10"));
        LinkModel link = LinkModel.parse(opt.getOrDefault("bandwidth", "1gbit"), opt.getOrDefault("latency", "0.5ms"));
        Path data = Path.of(opt.getOrDefault("data", "/tmp/shadowsync-bench/synthetic"));
        if (reps < 1 || perTrainer < 1 || slowMs < 1) throw new IOException("--reps, --examples and --slow-ms must be positive");

        if (!Files.isRegularFile(data.resolve("train.tsv"))) {
            System.err.println("straggler bench: generating synthetic CTR data in " + data);
            new SyntheticCtr(new SyntheticCtr.Config(200_000, 50_000, 1234)).generate(data);
        }
        InMemorySource train = InMemorySource.load(new CriteoTsvSource(data.resolve("train.tsv"), false));
        DlrmSpec spec = DlrmSpec.criteo();
        for (String algorithm : algorithms) runOnce(spec, train, algorithm, 2, 5_000, syncEvery, interval, link, null); // JIT warm-up

        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "DLRM, %,d examples per trainer, W = 1, trainer N−1 stalls %d ms per batch, link %s, "
                        + "foreground every %d step(s), shadow rounds paced %d ms; medians of %d%n%n", perTrainer, slowMs,
                link.isIdeal() ? "ideal" : String.format(Locale.ROOT, "%.0f Mbit/s + %.2f ms", link.bytesPerSecond() * 8 / 1e6, link.latencySeconds() * 1e3),
                syncEvery, interval, reps));
        table.append("| N | sync | others' ex/s, no straggler | … one asleep | ratio | … one spinning | ratio | slow one's ex/s (asleep) | others' wait (asleep) |\n");
        table.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int n : trainerCounts) {
            if (n < 2) throw new IOException("a straggler needs at least 2 trainers, got " + n);
            for (String algorithm : algorithms) {
                Variant[] variants = Variant.values();
                double[][] others = new double[variants.length][reps], slowRate = new double[variants.length][reps], wait = new double[variants.length][reps];
                for (int rep = 0; rep < reps; rep++) {
                    for (Variant v : variants) {
                        SlowTrainer slow = v == Variant.NONE ? null : new SlowTrainer(n - 1, slowMs, v == Variant.SPIN);
                        JobResult r = runOnce(spec, train, algorithm, n, perTrainer * n, syncEvery, interval, link, slow);
                        TrainResult[] t = r.trainers();
                        double rate = 0, w = 0;
                        for (int i = 0; i < n - 1; i++) {
                            rate += t[i].examplesPerSecond() / (n - 1);
                            w += t[i].syncWaitFraction() / (n - 1);
                        }
                        others[v.ordinal()][rep] = rate;
                        slowRate[v.ordinal()][rep] = t[n - 1].examplesPerSecond();
                        wait[v.ordinal()][rep] = w;
                        System.err.printf(Locale.ROOT, "straggler bench: N=%d %s %s rep %d: others %.0f ex/s (wait %.3f), trainer %d %.0f ex/s%n",
                                n, algorithm, v, rep, rate, w, n - 1, t[n - 1].examplesPerSecond());
                    }
                }
                double base = median(others[0]), asleep = median(others[1]), spinning = median(others[2]);
                table.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %,.0f | %.2f | %,.0f | %.2f | %,.0f | %.3f |%n", n, algorithm, base, asleep,
                        asleep / base, spinning, spinning / base, median(slowRate[1]), median(wait[1])));
            }
        }
        System.out.println(table);
    }

    static JobResult runOnce(DlrmSpec spec, InMemorySource train, String algorithm, int n, long examples, int syncEvery, long intervalMs,
                             LinkModel link, SlowTrainer slow) throws Exception {
        SyncSpec sync = new SyncSpec(algorithm, syncEvery, intervalMs, Double.NaN, 1.0, false, Double.NaN);
        TrainerConfig tc = new TrainerConfig(1, 128, examples, 1, DataSplit.ROUND_ROBIN, 1234, 4, 100_000, false);
        Job job = new Job(spec, 1234, OptimizerSpec.of("sgd", 0.5), new EmbeddingOptimizerSpec("sgd", 0.5), train,
                new JobConfig(n, tc, sync, Math.max(1, n / 2), link, slow));
        return job.run();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static Map<String, String> parse(String[] args) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IOException("usage: StragglerBench [--key value]..., got '" + args[i] + "'");
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
