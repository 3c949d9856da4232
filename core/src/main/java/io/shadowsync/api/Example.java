package io.shadowsync.api;

import java.util.Arrays;

/**
 * One example to score with {@link TrainedModel#predict(Example)}: its dense features, categorical ids (one raw
 * 32-bit id per field) and sparse {@code index:value} features, as a data file of the model's layout would give them.
 * Arrays are copied in; an example is immutable.
 */
public record Example(float[] dense, int[] categorical, int[] sparseIndices, float[] sparseValues) {
    public Example {
        dense = dense == null ? new float[0] : dense.clone();
        categorical = categorical == null ? new int[0] : categorical.clone();
        sparseIndices = sparseIndices == null ? new int[0] : sparseIndices.clone();
        sparseValues = sparseValues == null ? new float[0] : sparseValues.clone();
        if (sparseIndices.length != sparseValues.length) {
            throw new IllegalArgumentException("an example has one sparse value per sparse index, got " + sparseIndices.length
                    + " indices and " + sparseValues.length + " values");
        }
        for (int i : sparseIndices) if (i < 0) throw new IllegalArgumentException("sparse feature indices are at least 0, got " + i);
    }

    /** Dense features only (an MLP's input). */
    public static Example ofDense(float... dense) {
        return new Example(dense, null, null, null);
    }

    /** Dense features and categorical ids (Criteo-style data: DLRM, logistic regression). */
    public static Example of(float[] dense, int[] categorical) {
        return new Example(dense, categorical, null, null);
    }

    /** Sparse {@code index:value} features only (LibSVM data: logistic regression). */
    public static Example ofSparse(int[] indices, float[] values) {
        return new Example(null, null, indices, values);
    }

    @Override
    public float[] dense() {
        return dense.clone();
    }

    @Override
    public int[] categorical() {
        return categorical.clone();
    }

    @Override
    public int[] sparseIndices() {
        return sparseIndices.clone();
    }

    @Override
    public float[] sparseValues() {
        return sparseValues.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && Arrays.equals(dense, e.dense) && Arrays.equals(categorical, e.categorical)
                && Arrays.equals(sparseIndices, e.sparseIndices) && Arrays.equals(sparseValues, e.sparseValues);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * Arrays.hashCode(dense) + Arrays.hashCode(categorical)) + Arrays.hashCode(sparseIndices)) + Arrays.hashCode(sparseValues);
    }

    @Override
    public String toString() {
        return "Example[dense=" + Arrays.toString(dense) + ", categorical=" + Arrays.toString(categorical)
                + (sparseIndices.length == 0 ? "" : ", sparse=" + sparseIndices.length + " features") + "]";
    }

    /** Appends this example to batch (label 0), which must have room and the layout of schema (already checked). */
    void appendTo(io.shadowsync.data.Batch batch) {
        int k = batch.size;
        batch.labels[k] = 0;
        System.arraycopy(dense, 0, batch.dense, k * batch.numDense, dense.length);
        System.arraycopy(categorical, 0, batch.cat, k * batch.numCat, categorical.length);
        if (batch.sparseOffsets != null) {
            batch.ensureSparseCapacity(sparseIndices.length);
            int at = batch.sparseOffsets[k];
            System.arraycopy(sparseIndices, 0, batch.sparseIdx, at, sparseIndices.length);
            System.arraycopy(sparseValues, 0, batch.sparseVal, at, sparseValues.length);
            batch.sparseOffsets[k + 1] = at + sparseIndices.length;
        }
        batch.size = k + 1;
    }
}
