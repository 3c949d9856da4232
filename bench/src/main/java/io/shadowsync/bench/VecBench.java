package io.shadowsync.bench;

import io.shadowsync.kernels.Vec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Vec#axpy} and {@link Vec#dot} against their scalar twins, at an embedding row (16), a hidden layer
 * (256) and the whole MNIST MLP parameter vector (235,146 floats, 0.9 MiB: what a sync round averages).
 * axpy alternates the sign of alpha so that y stays bounded however long the run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class VecBench {
    @Param({"16", "256", "235146"})
    public int n;

    private float[] x;
    private float[] y;
    private float alpha = 1e-3f;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(7);
        x = new float[n];
        y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble();
            y[i] = (float) random.nextDouble();
        }
    }

    @Benchmark
    public float[] axpy() {
        alpha = -alpha;
        Vec.axpy(n, alpha, x, 0, y, 0);
        return y;
    }

    @Benchmark
    public float[] axpyScalar() {
        alpha = -alpha;
        Vec.axpyScalar(n, alpha, x, 0, y, 0);
        return y;
    }

    @Benchmark
    public float dot() {
        return Vec.dot(n, x, 0, y, 0);
    }

    @Benchmark
    public float dotScalar() {
        return Vec.dotScalar(n, x, 0, y, 0);
    }
}
