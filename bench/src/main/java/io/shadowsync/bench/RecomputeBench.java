package io.shadowsync.bench;

import io.shadowsync.data.Batch;
import io.shadowsync.model.MlpModel;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.Workspace;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Activation checkpointing ({@code --recompute-every k}) on a deep MLP: for each k, the hidden activations one
 * worker's workspace keeps (from the workspace's buffer sizes) and the median time of one training step (forward and
 * backward of a batch, one thread) over {@code --reps} steps after {@code --warmup}. Defaults: 8 hidden layers of 2048
 * on 2048 inputs, 10 classes, batch 1024, k = 1, 2, 4.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *      io.shadowsync.bench.RecomputeBench --width 2048 --layers 8 --batch 1024 --k 1,2,4 --reps 5
 * </pre>
 */
public final class RecomputeBench {
    private RecomputeBench() {}

    public static void main(String[] args) throws IOException {
        int width = 2048, layers = 8, batch = 1024, reps = 5, warmup = 1;
        int[] ks = {1, 2, 4};
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) throw new IOException("usage: RecomputeBench [--width W] [--layers L] [--batch B] [--k 1,2,4] [--reps R] [--warmup N]");
            String v = args[++i];
            switch (args[i - 1]) {
                case "--width" -> width = Integer.parseInt(v);
                case "--layers" -> layers = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--reps" -> reps = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--k" -> ks = Arrays.stream(v.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
                default -> throw new IOException("unknown option " + args[i - 1]);
            }
        }
        int[] hidden = new int[layers];
        Arrays.fill(hidden, width);
        MlpModel m = new MlpSpec(width, hidden, 10, "relu", "multiclass").build();
        m.initDense(1);
        Batch b = new Batch(batch, width, 0, false);
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < batch; i++) {
            for (int f = 0; f < width; f++) b.dense[i * width + f] = (float) r.nextGaussian();
            b.labels[i] = r.nextInt(10);
        }
        b.size = batch;
        System.out.printf(Locale.ROOT, "MLP %d-%s-10, batch %d, %d reps after %d warm-up step(s)%n", width, layers + "×" + width, batch, reps, warmup);
        System.out.printf(Locale.ROOT, "%-4s %18s %16s %10s%n", "k", "activations (MiB)", "step (ms, median)", "loss");
        for (int k : ks) {
            Workspace ws = m.newWorkspace(batch, k);
            double loss = 0;
            for (int i = 0; i < warmup; i++) loss = m.forwardBackward(b, ws, null);
            double[] ms = new double[reps];
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                loss = m.forwardBackward(b, ws, null);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            double median = reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
            System.out.printf(Locale.ROOT, "%-4d %18.1f %16.0f %10.6f%n", k, ws.activationFloats() * 4.0 / (1 << 20), median, loss);
        }
    }
}
