package io.shadowsync.spark;

import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;

/**
 * A shadowsync regressor as a Spark ML estimator: an MLP trained on mean squared error over a numeric label; its
 * model's transform adds the prediction column.
 */
public final class ShadowSyncRegressor extends ShadowSyncEstimator<ShadowSyncRegressor> {
    private static final long serialVersionUID = 1L;

    public ShadowSyncRegressor(String uid) {
        super(uid);
    }

    public ShadowSyncRegressor() {
        this(Identifiable.randomUID("shadowsyncRegressor"));
    }

    @Override
    int defaultClasses() {
        return 0;
    }

    /** Reads an estimator saved with {@code write().save(path)} (as {@link org.apache.spark.ml.Pipeline} does). */
    public static MLReader<ShadowSyncRegressor> read() {
        return new DefaultParamsReader<>();
    }

    public static ShadowSyncRegressor load(String path) {
        return read().load(path);
    }
}
