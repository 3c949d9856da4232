package io.shadowsync.bench;

import io.shadowsync.kernels.Blas;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The three gemms of one dense layer {@code batch×in → batch×out} (weights W stored {@code [out×in]}), on
 * each backend of {@link Blas#gemmOn}:
 * <ul>
 *   <li>forward, NT: {@code Y[B×out] = X[B×in] · Wᵀ} (m = B, n = out, k = in)</li>
 *   <li>backwardData, NN: {@code dX[B×in] = dY[B×out] · W} (m = B, n = in, k = out)</li>
 *   <li>backwardWeights, TN: {@code dW[out×in] = dYᵀ · X} (m = out, n = in, k = B)</li>
 * </ul>
 * The {@code gflop} counter is the rate that matters: 2·m·n·k floating-point operations per call, per second.
 * Layers: the MNIST MLP (784-256-128-10, batch 64) and the DLRM bottom/top MLPs (batch 128).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class GemmBench {
    /** batch × in × out of a dense layer. */
    @Param({"64x784x256", "64x256x128", "64x128x10", "128x13x64", "128x64x16", "128x367x64", "128x64x1"})
    public String layer;

    @Param({"native", "java", "scalar"})
    public String backend;

    private Blas.Backend impl;
    private int batch;
    private int in;
    private int out;
    private float[] x;
    private float[] w;
    private float[] y;
    private float[] dy;
    private float[] dx;
    private float[] dw;

    /** Floating-point work done, in GFLOP; JMH reports it per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Work {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Setup
    public void setUp() {
        impl = Blas.Backend.valueOf(backend.toUpperCase(Locale.ROOT));
        if (!Blas.isAvailable(impl)) throw new IllegalStateException(impl + " BLAS is not available here");
        String[] dims = layer.split("x");
        batch = Integer.parseInt(dims[0]);
        in = Integer.parseInt(dims[1]);
        out = Integer.parseInt(dims[2]);
        SplittableRandom random = new SplittableRandom(42);
        x = randomArray(random, batch * in);
        w = randomArray(random, out * in);
        dy = randomArray(random, batch * out);
        y = new float[batch * out];
        dx = new float[batch * in];
        dw = new float[out * in];
    }

    private static float[] randomArray(SplittableRandom random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextDouble() * 2 - 1);
        return a;
    }

    @Benchmark
    public float[] forward(Work work) {
        Blas.gemmOn(impl, false, true, batch, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out);
        work.gflop += 2e-9 * batch * out * in;
        return y;
    }

    @Benchmark
    public float[] backwardData(Work work) {
        Blas.gemmOn(impl, false, false, batch, in, out, 1f, dy, 0, out, w, 0, in, 0f, dx, 0, in);
        work.gflop += 2e-9 * batch * out * in;
        return dx;
    }

    @Benchmark
    public float[] backwardWeights(Work work) {
        Blas.gemmOn(impl, true, false, out, in, batch, 1f, dy, 0, out, x, 0, in, 0f, dw, 0, in);
        work.gflop += 2e-9 * batch * out * in;
        return dw;
    }
}
