package io.shadowsync.bench;

import io.shadowsync.data.Batch;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.TextFiles;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.feed.BatchSupply;
import io.shadowsync.engine.feed.DataSplit;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The parse work of N trainers streaming one Criteo file: for each N, the CPU seconds that all N trainers' reader
 * threads spend on one epoch (each thread's own CPU time, so a loaded machine slows it less than the wall clock), with
 * input splits and with every N-th line (each trainer parsing all of it), medians over the repetitions, interleaved.
 * With input splits the total stays that of one pass whatever N; with every N-th line it grows N-fold.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar io.shadowsync.bench.InputSplitBench \
 *      FILE.tsv [TRAINERS, default 1,2,4] [REPS, default 3]
 * </pre>
 */
public final class InputSplitBench {
    private InputSplitBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) throw new IllegalArgumentException("usage: InputSplitBench FILE.tsv [TRAINERS e.g. 1,2,4] [REPS]");
        TextFiles files = TextFiles.of(Path.of(args[0]), f -> new CriteoTsvSource(f, false));
        int[] counts = Arrays.stream((args.length > 1 ? args[1] : "1,2,4").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        TrainerConfig c = new TrainerConfig(1, 128, 0, 1, DataSplit.ROUND_ROBIN, 1, 8, 1000, false);
        System.out.println("trainers | reader CPU s, input splits (median of " + reps + ") | every N-th line | examples handed out, each");
        for (int n : counts) {
            double[][] cpu = new double[2][reps];
            long[] examples = new long[2];
            for (int r = 0; r < reps; r++) {
                for (int mode = 0; mode < 2; mode++) {
                    DataSource data = mode == 0 ? files : files.unsplit();
                    double[] one = epoch(data, c, n);
                    cpu[mode][r] = one[0];
                    examples[mode] = (long) one[1];
                }
            }
            System.out.println(String.format(Locale.ROOT, "%d | %.3f | %.3f | %,d / %,d", n, median(cpu[0]), median(cpu[1]), examples[0], examples[1]));
        }
    }

    /** One epoch of n trainers' feeders at once: {reader CPU seconds summed, examples handed to their workers}. */
    private static double[] epoch(DataSource data, TrainerConfig c, int n) throws InterruptedException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long[] cpu = new long[n];
        Thread[] threads = new Thread[2 * n];
        long[] taken = new long[n];
        for (int t = 0; t < n; t++) {
            int k = t;
            BatchSupply s = BatchSupply.ofTrainer(data, c, k, n);
            threads[2 * k] = new Thread(() -> {
                s.readerTask().run();
                cpu[k] = mx.getCurrentThreadCpuTime();
            }, "trainer-" + k + "/reader");
            threads[2 * k + 1] = new Thread(() -> {
                try {
                    for (Batch b = s.take(0); b != BatchSupply.END; b = s.take(0)) {
                        taken[k] += b.size;
                        s.recycle(0, b);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "trainer-" + k + "/worker-0");
        }
        for (Thread th : threads) th.start();
        for (Thread th : threads) th.join();
        return new double[] {Arrays.stream(cpu).sum() / 1e9, Arrays.stream(taken).sum()};
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
