package io.shadowsync.data;

/**
 * What a data source yields per example.
 *
 * @param numDense    dense features per example
 * @param numCat      categorical fields per example (one raw id each)
 * @param sparse      whether examples carry variable-length sparse (index:value) features
 * @param sparseDim   number of distinct sparse feature indices (max index + 1) when known, else 0
 * @param numClasses  2 for binary labels (0/1), C &gt; 2 for multiclass (labels 0..C-1), 0 for regression
 */
public record DataSchema(int numDense, int numCat, boolean sparse, int sparseDim, int numClasses) {
    public DataSchema {
        if (numDense < 0 || numCat < 0 || sparseDim < 0 || numClasses < 0 || numClasses == 1) {
            throw new IllegalArgumentException("invalid data schema: dense=" + numDense + " cat=" + numCat
                    + " sparseDim=" + sparseDim + " classes=" + numClasses);
        }
    }

    /** The Criteo layout: 13 integer (dense) features, 26 categorical fields, binary label. */
    public static final DataSchema CRITEO = new DataSchema(13, 26, false, 0, 2);
}
