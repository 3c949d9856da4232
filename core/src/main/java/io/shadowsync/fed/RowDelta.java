package io.shadowsync.fed;

import java.util.Arrays;

/**
 * A change of some rows of one embedding table: a client's change of the rows it touched in a round, or the server's
 * combined change. Row ids ascend without repeats; values holds ids.length rows of the table's dim, in the ids' order.
 *
 * @param ids    the rows, ascending
 * @param values ids.length × dim values, row-major
 */
public record RowDelta(int[] ids, float[] values) {
    public RowDelta {
        if (ids.length == 0 ? values.length != 0 : values.length % ids.length != 0) {
            throw new IllegalArgumentException(values.length + " values for " + ids.length + " rows");
        }
        for (int j = 1; j < ids.length; j++) {
            if (ids[j] <= ids[j - 1]) throw new IllegalArgumentException("row ids must ascend without repeats: " + ids[j - 1] + " then " + ids[j]);
        }
    }

    /** No row. */
    public static RowDelta empty() {
        return new RowDelta(new int[0], new float[0]);
    }

    /** Every row of a table of rows × dim, the values given in full (the table's own layout). */
    public static RowDelta full(float[] table, int dim) {
        int rows = table.length / dim;
        int[] ids = new int[rows];
        Arrays.setAll(ids, r -> r);
        return new RowDelta(ids, table);
    }

    public int size() {
        return ids.length;
    }
}
