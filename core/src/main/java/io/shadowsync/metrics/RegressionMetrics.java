package io.shadowsync.metrics;

/**
 * Quality of a regression: mean squared error, its root, and mean absolute error, summed in double.
 * Not thread-safe: one per worker, combined with {@link #merge}.
 */
public final class RegressionMetrics implements MetricAccumulator {
    private long count;
    private double sumSquared;
    private double sumAbsolute;

    public void add(float prediction, float target) {
        double e = (double) prediction - target;
        sumSquared += e * e;
        sumAbsolute += Math.abs(e);
        count++;
    }

    @Override
    public void add(float[] predictions, float[] targets, int n) {
        for (int i = 0; i < n; i++) add(predictions[i], targets[i]);
    }

    @Override
    public void merge(MetricAccumulator other) {
        if (!(other instanceof RegressionMetrics o)) {
            throw new IllegalArgumentException("cannot merge " + other.getClass().getSimpleName() + " into RegressionMetrics");
        }
        if (o == this) throw new IllegalArgumentException("cannot merge an accumulator into itself");
        count += o.count;
        sumSquared += o.sumSquared;
        sumAbsolute += o.sumAbsolute;
    }

    @Override
    public long count() {
        return count;
    }

    /** NaN before any example. */
    public double mse() {
        return sumSquared / count;
    }

    public double rmse() {
        return Math.sqrt(mse());
    }

    public double mae() {
        return sumAbsolute / count;
    }

    @Override
    public Metrics result() {
        return Metrics.regression(count, mse(), mae());
    }
}
