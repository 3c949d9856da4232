package io.shadowsync.nn;

import java.util.SplittableRandom;

/**
 * Array-backed {@link EmbeddingStore} for tests: pull copies rows; push adds each gradient row into
 * {@link #grad} (the summed gradient per table entry, to compare with finite differences) and, when
 * {@code lr > 0}, also applies plain SGD {@code row −= lr · grad}.
 */
public final class RecordingEmbeddingStore implements EmbeddingStore {
    public final float[][] table;
    public final float[][] grad;
    private final long[] rows;
    private final int[] dims;
    public float lr;
    public int pushes;
    public int pulls;

    public RecordingEmbeddingStore(long[][] shapes) {
        table = new float[shapes.length][];
        grad = new float[shapes.length][];
        rows = new long[shapes.length];
        dims = new int[shapes.length];
        for (int t = 0; t < shapes.length; t++) {
            rows[t] = shapes[t][0];
            dims[t] = (int) shapes[t][1];
            table[t] = new float[Math.toIntExact(rows[t] * dims[t])];
            grad[t] = new float[table[t].length];
        }
    }

    /** Fills every table with N(0, std²) (seeded), like a real store's init. */
    public RecordingEmbeddingStore randomize(float std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (float[] t : table) for (int i = 0; i < t.length; i++) t[i] = (float) (r.nextGaussian() * std);
        return this;
    }

    public void clearGrads() {
        for (float[] g : grad) java.util.Arrays.fill(g, 0f);
        pushes = 0;
    }

    @Override
    public int numTables() {
        return table.length;
    }

    @Override
    public long rows(int t) {
        return rows[t];
    }

    @Override
    public int dim(int t) {
        return dims[t];
    }

    @Override
    public void pull(int t, int[] ids, int idOff, int n, float[] out, int outOff) {
        int d = dims[t];
        for (int j = 0; j < n; j++) System.arraycopy(table[t], ids[idOff + j] * d, out, outOff + j * d, d);
        pulls++;
    }

    @Override
    public void push(int t, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        int d = dims[t];
        for (int j = 0; j < n; j++) {
            int r = ids[idOff + j] * d;
            for (int k = 0; k < d; k++) {
                float g = grads[gradOff + j * d + k];
                grad[t][r + k] += g;
                if (lr > 0) table[t][r + k] -= lr * g;
            }
        }
        pushes++;
    }
}
