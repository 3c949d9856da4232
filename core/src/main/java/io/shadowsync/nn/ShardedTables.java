package io.shadowsync.nn;

import java.util.SplittableRandom;

/**
 * The layout and initial values of embedding tables split over parameter-server shards, shared by the in-process
 * sharded server and the networked one so that both hold, element for element, what a {@link LocalEmbeddingStore}
 * with the same shapes, stds and seed holds: row r of a table lives on shard r mod S, at local row r / S.
 */
public final class ShardedTables {
    private ShardedTables() {}

    /** Checks table t's shape {rows, dim} and init std for a split over {@code shards}; returns dim. */
    public static int checkTable(int t, long[] shape, float std, int shards) {
        if (shape == null || shape.length != 2) {
            throw new IllegalArgumentException("table " + t + ": a shape is {rows, dim}, got " + (shape == null ? "null" : shape.length + " numbers"));
        }
        long r = shape[0], d = shape[1];
        if (r <= 0 || d <= 0 || d > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("table " + t + ": rows and dim must be positive, got " + r + " × " + d);
        }
        if (r > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("table " + t + " has " + r + " rows, but ids are ints: at most " + Integer.MAX_VALUE + " rows");
        }
        if ((r + shards - 1) / shards > LocalEmbeddingStore.MAX_TABLE_FLOATS / d) {
            throw new IllegalArgumentException("table " + t + " has " + r + " rows × " + d + " dims: over "
                    + LocalEmbeddingStore.MAX_TABLE_FLOATS + " floats per shard with " + shards + " shards; use more shards or fewer rows");
        }
        if (!(std >= 0) || !Float.isFinite(std)) {
            throw new IllegalArgumentException("table " + t + ": init std must be zero or positive and finite, got " + std);
        }
        return (int) d;
    }

    /** Rows of a table of {@code rows} rows that shard s of {@code shards} holds: those r with r mod S = s. */
    public static long shardRows(long rows, int s, int shards) {
        return s >= rows ? 0 : (rows - s + shards - 1) / shards;
    }

    /**
     * Draws a table's initial values, std·N(0, 1) in row-major order from {@code rng} (the table's stream, as
     * LocalEmbeddingStore draws it), into {@code slices[r mod S]} at local row r / S; a shard whose slice is null is
     * not held here, and its rows' draws are skipped so that the others' values stay the same.
     */
    public static void fill(SplittableRandom rng, float[][] slices, long rows, int dim, float std) {
        if (!(std > 0)) return;
        int shards = slices.length;
        for (int row = 0; row < rows; row++) {
            float[] w = slices[row % shards];
            if (w == null) {
                for (int j = 0; j < dim; j++) rng.nextGaussian();
                continue;
            }
            int o = (row / shards) * dim;
            for (int j = 0; j < dim; j++) w[o + j] = (float) (std * rng.nextGaussian());
        }
    }
}
