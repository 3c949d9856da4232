package io.shadowsync.fed;

import io.shadowsync.nn.ModelSpec;

/**
 * The vector a client masks under secure aggregation, for a model with or without embedding tables. Every client of
 * a round must mask vectors of one length, so the tables travel in full (a client's untouched rows as zeros), which is
 * also what keeps the server from learning which rows a client touched: a sparse upload's row ids would tell it. The
 * layout, with s the client's scale (n_i for FedAvg, 1 under DP):
 * <pre>  [ s·Δ_dense | s·Δ_table0 (rows × dim) | … | s·[touched row] per row of every table (not under DP) | s ]</pre>
 * The per-row weights let the server divide each row by the examples of the clients that touched it (the plain
 * rounds' rule, {@link Aggregation#combineRows}); under DP the clipped sum is released with noise on every value and
 * divided by the expected clients, as for the dense parameters, and the weights (which would tell how many clients
 * touched each row, unnoised) are left out.
 *
 * <p>Tables make the upload as large as the model: above {@link #MAX_TABLE_VALUES} table values (weights included)
 * secure aggregation is refused ({@link Federation#check}).
 */
final class SecureLayout {
    /** The most table values (rows × dim plus one weight per row) a masked upload carries: 8 MiB of int64 per client. */
    static final long MAX_TABLE_VALUES = 1L << 20;

    private final int dense;
    private final int[] rows;
    private final int[] dims;
    private final boolean weights;

    SecureLayout(ModelSpec spec, FederatedConfig config) {
        dense = Math.toIntExact(spec.denseParameters());
        long[][] shapes = spec.embeddingShapes();
        rows = new int[shapes.length];
        dims = new int[shapes.length];
        for (int t = 0; t < shapes.length; t++) {
            rows[t] = Math.toIntExact(shapes[t][0]);
            dims[t] = Math.toIntExact(shapes[t][1]);
        }
        weights = !config.privacy();
    }

    /** Table values (with the per-row weights) a masked upload of this model carries. */
    static long tableValues(ModelSpec spec) {
        long n = 0;
        for (long[] s : spec.embeddingShapes()) n += s[0] * (s[1] + 1);
        return n;
    }

    int length() {
        long n = dense + 1L;
        for (int t = 0; t < rows.length; t++) n += (long) rows[t] * dims[t] + (weights ? rows[t] : 0);
        return Math.toIntExact(n);
    }

    /** A client's vector to mask: its change scaled by s, laid out as above. */
    float[] pack(float[] delta, RowDelta[] changed, float s) {
        float[] x = new float[length()];
        for (int j = 0; j < dense; j++) x[j] = delta[j] * s;
        int off = dense;
        for (int t = 0; t < rows.length; t++) {
            int dim = dims[t];
            RowDelta r = changed[t];
            for (int j = 0; j < r.size(); j++) {
                for (int k = 0, at = off + r.ids()[j] * dim; k < dim; k++) x[at + k] = r.values()[j * dim + k] * s;
            }
            off += rows[t] * dim;
        }
        if (weights) {
            for (int t = 0; t < rows.length; t++) {
                for (int id : changed[t].ids()) x[off + id] = s;
                off += rows[t];
            }
        }
        x[x.length - 1] = s;
        return x;
    }

    /** The dense part of an unmasked sum; with FedAvg weights divided by Σ n_i, under DP the plain sum. */
    float[] dense(float[] sum) {
        float[] d = new float[dense];
        float total = sum[sum.length - 1];
        for (int j = 0; j < dense; j++) d[j] = weights ? sum[j] / total : sum[j];
        return d;
    }

    /**
     * Table t of an unmasked sum: with FedAvg weights each row divided by the examples of the clients that touched it
     * (rows nobody touched left out), under DP every row, summed.
     */
    RowDelta table(float[] sum, int t) {
        int off = dense, woff = dense;
        for (int u = 0; u < rows.length; u++) woff += rows[u] * dims[u];
        for (int u = 0; u < t; u++) {
            off += rows[u] * dims[u];
            woff += rows[u];
        }
        int dim = dims[t], n = rows[t];
        float[] full = java.util.Arrays.copyOfRange(sum, off, off + n * dim);
        if (!weights) return RowDelta.full(full, dim);
        int m = 0;
        for (int r = 0; r < n; r++) if (sum[woff + r] > 0) m++;
        int[] ids = new int[m];
        float[] values = new float[m * dim];
        for (int r = 0, j = 0; r < n; r++) {
            float w = sum[woff + r];
            if (!(w > 0)) continue;
            ids[j] = r;
            for (int k = 0; k < dim; k++) values[j * dim + k] = full[r * dim + k] / w;
            j++;
        }
        return new RowDelta(ids, values);
    }
}
