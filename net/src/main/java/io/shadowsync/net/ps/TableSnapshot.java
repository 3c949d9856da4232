package io.shadowsync.net.ps;

import io.shadowsync.nn.EmbeddingStore;

/**
 * A read-only copy of embedding tables, held in this process as {@code [rows × dim]} row-major arrays: what
 * {@link RemoteEmbeddingStore#snapshot()} returns, so that {@code ModelFile.write} (which pulls rows through an
 * {@link EmbeddingStore}) and evaluation read the final model without a round trip per row block.
 *
 * <p>Sharing contract: immutable after construction when nobody writes the arrays it was given; pushes are refused.
 */
public final class TableSnapshot implements EmbeddingStore {
    private final long[] rows;
    private final int[] dims;
    private final float[][] tables;

    /**
     * @param shapes {rows, dim} per table
     * @param tables per table, its rows·dim values, row-major (kept, not copied)
     */
    public TableSnapshot(long[][] shapes, float[][] tables) {
        if (shapes == null || tables == null || shapes.length != tables.length) {
            throw new IllegalArgumentException("one shape per table array is required");
        }
        rows = new long[shapes.length];
        dims = new int[shapes.length];
        this.tables = tables.clone();
        for (int t = 0; t < shapes.length; t++) {
            long[] s = shapes[t];
            if (s == null || s.length != 2 || s[0] <= 0 || s[1] <= 0 || s[1] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("table " + t + ": a shape is {rows, dim}, both positive");
            }
            if (tables[t] == null || tables[t].length != s[0] * s[1]) {
                throw new IllegalArgumentException("table " + t + " is " + s[0] + " × " + s[1] + " but its array holds "
                        + (tables[t] == null ? "nothing" : tables[t].length + " floats"));
            }
            rows[t] = s[0];
            dims[t] = (int) s[1];
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
        final int dim = dims[table];
        final long r = rows[table];
        final float[] w = tables[table];
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j];
            if (id < 0 || id >= r) {
                throw new IllegalArgumentException("embedding table " + table + ": id " + id + " is outside [0, " + r + ")");
            }
            System.arraycopy(w, id * dim, out, outOff + j * dim, dim);
        }
    }

    /** Refused: a snapshot is a copy; push to the store it was taken from. */
    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        throw new UnsupportedOperationException("a snapshot of embedding tables is read-only; push to the parameter servers");
    }

    @Override
    public float[] localTable(int t) {
        return tables[checkTable(t)];
    }

    /** Table t, [rows × dim] row-major: the live array. */
    public float[] table(int t) {
        return tables[checkTable(t)];
    }

    private int checkTable(int t) {
        if (t < 0 || t >= tables.length) {
            throw new IllegalArgumentException("no embedding table " + t + "; this snapshot has " + tables.length);
        }
        return t;
    }
}
