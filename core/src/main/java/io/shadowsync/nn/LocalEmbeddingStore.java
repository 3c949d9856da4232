package io.shadowsync.nn;

import io.shadowsync.kernels.Vec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.RowOptimizer;
import java.util.SplittableRandom;

/**
 * Embedding tables held by the trainer itself, for a single-process job: one {@code float[rows × dim]} per
 * table (row r at offset {@code r·dim}), each with its own {@link RowOptimizer}. Ids are row indices and must
 * lie in [0, rows); hashing raw categorical ids into that range is the model's business.
 *
 * <p>Sharing contract: {@link #pull} and {@link #push} are called concurrently by Hogwild workers without
 * locks. A pull may copy a row that a concurrent push is halfway through updating, and two pushes to the same
 * row may interleave (the Hogwild race, intended). The table arrays and optimizers are final and fixed at
 * construction.
 */
public final class LocalEmbeddingStore implements EmbeddingStore {
    /** Largest table a Java array holds (VM header slack included). */
    public static final long MAX_TABLE_FLOATS = Integer.MAX_VALUE - 16;

    private final long[] rows;
    private final int[] dims;
    private final float[][] tables;
    private final RowOptimizer[] optimizers;

    /**
     * @param shapes  {rows, dim} per table; rows·dim at most {@link #MAX_TABLE_FLOATS}
     * @param initStd per table, the standard deviation of the normal distribution rows start from (0 = zeros)
     * @param seed    the same seed gives the same tables; table t's values depend only on seed, t and its shape
     * @param opt     the sparse optimizer, one instance per table
     */
    public LocalEmbeddingStore(long[][] shapes, float[] initStd, long seed, EmbeddingOptimizerSpec opt) {
        if (shapes == null || initStd == null || opt == null) {
            throw new IllegalArgumentException("shapes, initStd and the optimizer spec are required");
        }
        if (initStd.length != shapes.length) {
            throw new IllegalArgumentException("one init std per table: " + shapes.length + " tables but "
                    + initStd.length + " init stds");
        }
        int n = shapes.length;
        rows = new long[n];
        dims = new int[n];
        tables = new float[n][];
        optimizers = new RowOptimizer[n];
        SplittableRandom root = new SplittableRandom(seed);
        for (int t = 0; t < n; t++) {
            long[] s = shapes[t];
            if (s == null || s.length != 2) {
                throw new IllegalArgumentException("table " + t + ": a shape is {rows, dim}, got "
                        + (s == null ? "null" : s.length + " numbers"));
            }
            long r = s[0], d = s[1];
            if (r <= 0 || d <= 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("table " + t + ": rows and dim must be positive, got " + r + " × " + d);
            }
            if (r > MAX_TABLE_FLOATS / d) {
                throw new IllegalArgumentException("table " + t + " has " + r + " rows × " + d + " dims, over the "
                        + MAX_TABLE_FLOATS + " floats one Java array holds; hash its ids into fewer rows or put it on "
                        + "sharded parameter servers");
            }
            float std = initStd[t];
            if (!(std >= 0) || !Float.isFinite(std)) {
                throw new IllegalArgumentException("table " + t + ": init std must be zero or positive and finite, got " + std);
            }
            rows[t] = r;
            dims[t] = (int) d;
            float[] w = new float[(int) (r * d)];
            SplittableRandom rng = root.split();
            if (std > 0) {
                for (int i = 0; i < w.length; i++) w[i] = (float) (std * rng.nextGaussian());
            }
            tables[t] = w;
            optimizers[t] = opt.forTable(r, (int) d);
        }
    }

    @Override
    public int numTables() {
        return tables.length;
    }

    @Override
    public long rows(int table) {
        return rows[checkTable(table)];
    }

    @Override
    public int dim(int table) {
        return dims[checkTable(table)];
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        checkTable(table);
        final float[] w = tables[table];
        final int dim = dims[table];
        final long r = rows[table];
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j];
            if (id < 0 || id >= r) throw badId(table, id);
            Vec.copy(dim, w, id * dim, out, outOff + j * dim);
        }
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        checkTable(table);
        final long r = rows[table];
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j];
            if (id < 0 || id >= r) throw badId(table, id);
        }
        optimizers[table].applyRows(tables[table], dims[table], ids, idOff, n, grads, gradOff);
    }

    /** The live table: see {@link EmbeddingStore#localTable}. */
    @Override
    public float[] localTable(int t) {
        return tables[checkTable(t)];
    }

    /** Table t's values, [rows × dim] row-major: the live array (checkpoints and model files read and restore it). */
    public float[] table(int t) {
        return tables[checkTable(t)];
    }

    /** Table t's sparse optimizer (its {@link RowOptimizer#state()} goes into checkpoints). */
    public RowOptimizer optimizer(int t) {
        return optimizers[checkTable(t)];
    }

    private int checkTable(int t) {
        if (t < 0 || t >= tables.length) {
            throw new IllegalArgumentException("no embedding table " + t + "; this store has " + tables.length);
        }
        return t;
    }

    private IllegalArgumentException badId(int table, int id) {
        return new IllegalArgumentException("embedding table " + table + ": id " + id + " is outside [0, "
                + rows[table] + ")");
    }
}
