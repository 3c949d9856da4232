package io.shadowsync.bench;

import io.shadowsync.kernels.Vec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * A fresh JVM's first row updates, as a parameter server applies its first pushes: {@code pushes} pushes of 512
 * random rows of {@code dim} floats into a 100,000-row table, by the Vector API's axpy ({@link Vec#axpySimd}) or the
 * scalar loop ({@link Vec#axpyScalar}), timed once per fork with no warm-up (single shot): the interpreter and C1
 * code a process runs before C2 has compiled the loop, plus that compilation. {@link VecBench} has the steady state.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 5, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class ColdRowsBench {
    private static final int ROWS = 100_000, PER_PUSH = 512;

    @Param({"16", "64"})
    public int dim;

    @Param({"simd", "scalar"})
    public String path;

    @Param({"200"})
    public int pushes;

    private float[] table;
    private float[] grads;
    private int[] ids;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(11);
        table = new float[ROWS * dim];
        grads = new float[PER_PUSH * dim];
        for (int i = 0; i < grads.length; i++) grads[i] = (float) random.nextDouble() - 0.5f;
        ids = new int[pushes * PER_PUSH];
        for (int i = 0; i < ids.length; i++) ids[i] = random.nextInt(ROWS);
    }

    @Benchmark
    public float[] firstPushes() {
        boolean simd = path.equals("simd");
        for (int p = 0, k = 0; p < pushes; p++) {
            for (int j = 0; j < PER_PUSH; j++, k++) {
                if (simd) Vec.axpySimd(dim, -0.01f, grads, j * dim, table, ids[k] * dim);
                else Vec.axpyScalar(dim, -0.01f, grads, j * dim, table, ids[k] * dim);
            }
        }
        return table;
    }
}
