package io.shadowsync.metrics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Quality of a model on some examples: what {@link MetricAccumulator#result()} returns. A metric that does
 * not apply to the task (AUC for regression, MSE for classification) or is undefined on these examples (AUC
 * with one class only) is NaN.
 *
 * @param count       examples seen
 * @param logloss     mean log loss (binary) or cross-entropy of the true class (multiclass)
 * @param ne          normalized entropy: logloss over the entropy of the base rate (binary)
 * @param auc         area under the ROC curve, exact, ties counted half (binary)
 * @param accuracy    fraction right at threshold 0.5 (binary) or by argmax (multiclass)
 * @param baseRate    mean label (binary)
 * @param calibration mean predicted probability over base rate, 1 when calibrated (binary)
 * @param mse         mean squared error (regression)
 * @param rmse        root mean squared error (regression)
 * @param mae         mean absolute error (regression)
 */
public record Metrics(long count, double logloss, double ne, double auc, double accuracy, double baseRate,
                      double calibration, double mse, double rmse, double mae) {
    /** Metrics of a binary classifier; the regression fields are NaN. */
    public static Metrics binary(long count, double logloss, double ne, double auc, double accuracy, double baseRate,
                                 double calibration) {
        return new Metrics(count, logloss, ne, auc, accuracy, baseRate, calibration, Double.NaN, Double.NaN, Double.NaN);
    }

    /** Metrics of a multiclass classifier: cross-entropy and accuracy, the rest NaN. */
    public static Metrics multiclass(long count, double crossEntropy, double accuracy) {
        double nan = Double.NaN;
        return new Metrics(count, crossEntropy, nan, nan, accuracy, nan, nan, nan, nan, nan);
    }

    /** Metrics of a regression: MSE, RMSE, MAE, the rest NaN. */
    public static Metrics regression(long count, double mse, double mae) {
        double nan = Double.NaN;
        return new Metrics(count, nan, nan, nan, nan, nan, nan, mse, Math.sqrt(mse), mae);
    }

    /** The metrics that have a value, in declaration order, for the JSON summary (JSON has no NaN). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        put(m, "logloss", logloss);
        put(m, "ne", ne);
        put(m, "auc", auc);
        put(m, "accuracy", accuracy);
        put(m, "baseRate", baseRate);
        put(m, "calibration", calibration);
        put(m, "mse", mse);
        put(m, "rmse", rmse);
        put(m, "mae", mae);
        return m;
    }

    private static void put(Map<String, Object> m, String key, double v) {
        if (Double.isFinite(v)) m.put(key, v);
    }
}
