package io.shadowsync.bench;

import io.shadowsync.kernels.EmbeddingBags;
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
 * Embedding-bag kernels on one mini-batch: DLRM's 128 examples × 26 categorical ids into dim-16 rows, and
 * logistic regression's 128 × 39 hashed ids into dim-1 weights. Ids are uniform over a table of
 * {@code rows} rows (1M: 64 MiB at dim 16, larger than the caches, as a real table is), so gather time
 * includes the cache misses that dominate it in training.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Thread)
public class EmbeddingBagBench {
    /** bags × ids per bag × dim. */
    @Param({"128x26x16", "128x39x1"})
    public String shape;

    @Param({"1000000"})
    public int rows;

    private int bags;
    private int dim;
    private int nnz;
    private float[] table;
    private int[] ids;
    private int[] offsets;
    private float[] out;
    private float[] rowGrads;

    @Setup
    public void setUp() {
        String[] dims = shape.split("x");
        bags = Integer.parseInt(dims[0]);
        int perBag = Integer.parseInt(dims[1]);
        dim = Integer.parseInt(dims[2]);
        nnz = bags * perBag;
        SplittableRandom random = new SplittableRandom(3);
        table = new float[rows * dim];
        for (int i = 0; i < table.length; i++) table[i] = (float) (random.nextDouble() - 0.5);
        ids = new int[nnz];
        for (int j = 0; j < nnz; j++) ids[j] = random.nextInt(rows);
        offsets = new int[bags + 1];
        for (int b = 0; b <= bags; b++) offsets[b] = b * perBag;
        out = new float[bags * dim];
        rowGrads = new float[nnz * dim];
        for (int i = 0; i < rowGrads.length; i++) rowGrads[i] = (float) (random.nextDouble() - 0.5) * 1e-6f;
    }

    @Benchmark
    public float[] gatherSum() {
        EmbeddingBags.gather(out, table, dim, ids, null, offsets, bags, false);
        return out;
    }

    @Benchmark
    public float[] gatherBackward() {
        EmbeddingBags.gatherBackward(rowGrads, out, dim, null, offsets, bags, false);
        return rowGrads;
    }

    /** Adds tiny gradients (±1e-6), so that the table barely drifts over a run. */
    @Benchmark
    public float[] scatterAdd() {
        EmbeddingBags.scatterAdd(table, dim, ids, nnz, rowGrads, -1f);
        return table;
    }
}
