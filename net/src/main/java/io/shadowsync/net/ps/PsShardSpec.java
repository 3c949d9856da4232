package io.shadowsync.net.ps;

import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;

/**
 * What one parameter-server node holds: embedding shard {@code shard} of {@code shards} (row r of every table lives
 * on shard r mod shards, as in {@code ShardedEmbeddingServer}) and dense block {@code shard} of {@code shards}
 * (contiguous, {@code [size·shard/shards, size·(shard+1)/shards)}, as {@code InProcessDenseServer} splits it; empty
 * when size &lt; shards). Every node of a job gets the same spec but its shard index, so that each starts with
 * exactly the values a {@code LocalEmbeddingStore} of the same shapes, stds and seed would hold.
 *
 * @param tableShapes        {rows, dim} per table (may be empty: a node of dense parameters only)
 * @param initStd            per table, the standard deviation rows start from (0 = zeros)
 * @param seed               the tables' seed, as for {@code LocalEmbeddingStore}
 * @param embeddingOptimizer the sparse optimizer pushes are applied with
 * @param denseInitial       the whole dense vector's starting values (each node keeps its block), or null / empty
 *                           for no dense parameters
 * @param denseOptimizer     the optimizer pushed dense gradients are applied with (asynchronous PS SGD); null for
 *                           a node that takes deltas only (the EASGD center) and refuses gradients
 * @param shard              this node's index, in [0, shards)
 * @param shards             S, the number of nodes, at least 1
 * @param maxRowsPerRequest  the most rows one pull, push or export page may carry (beside the transport's message
 *                           size limit)
 */
public record PsShardSpec(long[][] tableShapes, float[] initStd, long seed, EmbeddingOptimizerSpec embeddingOptimizer,
                          float[] denseInitial, OptimizerSpec denseOptimizer, int shard, int shards,
                          int maxRowsPerRequest) {
    /**
     * The largest magnitude a pushed gradient or delta element may have. A trainer's gradients of a mean loss and its
     * EASGD deltas stay far below it; a push beyond it (a finite but absurd 3e38 from a broken or hostile client) is
     * refused whole and counted ({@link Refusal#VALUE_TOO_LARGE}) instead of being applied to the shared parameters.
     */
    public static final float MAX_ABS_VALUE = 1e6f;

    /** The default row cap: a DLRM step of 26 tables × 4096 examples is 106k rows. */
    public static final int DEFAULT_MAX_ROWS_PER_REQUEST = 1 << 20;

    public PsShardSpec {
        if (tableShapes == null || initStd == null || embeddingOptimizer == null) {
            throw new IllegalArgumentException("table shapes, init stds and the embedding optimizer are required "
                    + "(an empty shapes array for a node without tables)");
        }
        if (shards < 1) throw new IllegalArgumentException("a job needs at least 1 parameter-server shard, got " + shards);
        if (shard < 0 || shard >= shards) {
            throw new IllegalArgumentException("shard index " + shard + " is not in [0, " + shards + ")");
        }
        if (maxRowsPerRequest < 1) {
            throw new IllegalArgumentException("the row cap per request must be at least 1, got " + maxRowsPerRequest);
        }
        if (denseInitial == null) denseInitial = new float[0];
        for (int i = 0; i < denseInitial.length; i++) {
            if (!Float.isFinite(denseInitial[i])) {
                throw new IllegalArgumentException("dense initial value " + i + " is " + denseInitial[i] + "; all must be finite");
            }
        }
    }

    /** The spec with the default row cap. */
    public PsShardSpec(long[][] tableShapes, float[] initStd, long seed, EmbeddingOptimizerSpec embeddingOptimizer,
                       float[] denseInitial, OptimizerSpec denseOptimizer, int shard, int shards) {
        this(tableShapes, initStd, seed, embeddingOptimizer, denseInitial, denseOptimizer, shard, shards,
                DEFAULT_MAX_ROWS_PER_REQUEST);
    }

    /** The same spec for node {@code s} (a launcher builds one spec and starts every shard from it). */
    public PsShardSpec forShard(int s) {
        return new PsShardSpec(tableShapes, initStd, seed, embeddingOptimizer, denseInitial, denseOptimizer, s, shards,
                maxRowsPerRequest);
    }

    /**
     * The bytes of rows or values one message may carry under a size limit, leaving room for the rest of the
     * message (ids, segments, framing); client and server use the same rule, so a client's chunks always pass.
     */
    static long payloadLimit(int maxMessageBytes) {
        return maxMessageBytes - Math.min(65536, maxMessageBytes / 8);
    }

    /** The first index of dense block s of a vector of the given size (s = shards gives size). */
    static int denseStart(int size, int s, int shards) {
        return (int) ((long) size * s / shards);
    }
}
