package io.shadowsync.spark;

import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;

/**
 * A shadowsync classifier as a Spark ML estimator: binary labels (0/1, the default) or C classes
 * ({@link #setNumClasses}). Models: logistic regression or DLRM over categorical ids (binary), or an MLP.
 *
 * <pre>{@code
 * ShadowSyncModel m = new ShadowSyncClassifier()
 *         .setDenseCols(dense).setCategoricalCols(cats).setModelType("dlrm")
 *         .setNumTrainers(4).setSync("s-ma").setCheckpointDir("hdfs:///tmp/ctr-ckpt")
 *         .fit(train);
 * double auc = new BinaryClassificationEvaluator().evaluate(m.transform(test));
 * }</pre>
 */
public final class ShadowSyncClassifier extends ShadowSyncEstimator<ShadowSyncClassifier> {
    private static final long serialVersionUID = 1L;

    public ShadowSyncClassifier(String uid) {
        super(uid);
    }

    public ShadowSyncClassifier() {
        this(Identifiable.randomUID("shadowsyncClassifier"));
    }

    @Override
    int defaultClasses() {
        return 2;
    }

    /** Reads an estimator saved with {@code write().save(path)} (as {@link org.apache.spark.ml.Pipeline} does). */
    public static MLReader<ShadowSyncClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static ShadowSyncClassifier load(String path) {
        return read().load(path);
    }
}
