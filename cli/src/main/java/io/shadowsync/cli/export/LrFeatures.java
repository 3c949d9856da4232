package io.shadowsync.cli.export;

import io.shadowsync.api.Example;
import io.shadowsync.model.LogisticRegression;
import io.shadowsync.model.LrSpec;
import java.util.List;

/**
 * The input of an exported logistic regression: each example's hashed feature rows and their values, as the model
 * computes them ({@link LogisticRegression}): dense field f with value v at row
 * {@code splitmix64((f << 32) + bucket(v)) & (2^hashBits − 1)}, value 1; categorical field f with id at
 * {@code splitmix64(((numDense + f) << 32) + unsigned(id))}, value 1; sparse index i with value v at
 * {@code splitmix64(((numDense + numCat) << 32) + unsigned(i))}, value v. Rows of examples with fewer features
 * are padded with row 0 and value 0.
 *
 * @param rows   [n × k] row-major, int64 as the ONNX graph takes them
 * @param values [n × k] row-major
 * @param k      features per example (the widest example's)
 */
public record LrFeatures(long[] rows, float[] values, int n, int k) {
    /** The hashed rows and values of examples for a model of spec s. */
    public static LrFeatures of(LrSpec s, List<Example> examples) {
        LogisticRegression lr = s.build();
        int n = examples.size(), fixed = s.numDense() + s.numCat(), k = fixed;
        for (Example e : examples) k = Math.max(k, fixed + e.sparseIndices().length);
        long[] rows = new long[n * k];
        float[] values = new float[n * k];
        for (int b = 0; b < n; b++) {
            Example e = examples.get(b);
            int at = b * k;
            for (int f = 0; f < s.numDense(); f++) {
                rows[at] = lr.row(LogisticRegression.denseKey(f, LogisticRegression.bucket(e.dense()[f])));
                values[at++] = 1f;
            }
            for (int f = 0; f < s.numCat(); f++) {
                rows[at] = lr.row(LogisticRegression.catKey(s.numDense(), f, e.categorical()[f]));
                values[at++] = 1f;
            }
            for (int j = 0; j < e.sparseIndices().length; j++) {
                rows[at] = lr.row(LogisticRegression.sparseKey(s.numDense(), s.numCat(), e.sparseIndices()[j]));
                values[at++] = e.sparseValues()[j];
            }
        }
        return new LrFeatures(rows, values, n, k);
    }
}
