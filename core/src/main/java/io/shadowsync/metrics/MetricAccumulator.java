package io.shadowsync.metrics;

/**
 * Accumulates model outputs and labels into quality metrics. Not thread-safe: one accumulator per worker
 * (or per evaluation thread), combined with {@link #merge} at the end.
 */
public interface MetricAccumulator {
    /**
     * Adds n examples: {@code labels[i]} as in a {@code Batch}, {@code outputs} as a model's forward writes
     * them (one probability per example for binary, C class probabilities per example for multiclass, one
     * prediction per example for regression).
     */
    void add(float[] outputs, float[] labels, int n);

    /** Adds everything other has seen to this; other must be the same kind (and class count). */
    void merge(MetricAccumulator other);

    long count();

    Metrics result();

    /** The accumulator for a schema's {@code numClasses}: 2 binary, C &gt; 2 multiclass, 0 regression. */
    static MetricAccumulator forClasses(int numClasses) {
        if (numClasses == 2) return new BinaryMetrics();
        if (numClasses > 2) return new MulticlassMetrics(numClasses);
        if (numClasses == 0) return new RegressionMetrics();
        throw new IllegalArgumentException("numClasses is 2 (binary), above 2 (multiclass) or 0 (regression), got " + numClasses);
    }
}
