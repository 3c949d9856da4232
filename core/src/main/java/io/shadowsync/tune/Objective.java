package io.shadowsync.tune;

import io.shadowsync.data.DataSchema;
import io.shadowsync.metrics.Metrics;
import java.util.Map;

/**
 * The evaluation metric a search optimizes and which way: {@code accuracy} and {@code auc} up; {@code logloss},
 * {@code ne}, {@code mse}, {@code rmse} and {@code mae} down. The searches and {@link Asha} minimize a loss: the
 * metric, or its negative for a metric that goes up.
 */
public record Objective(String metric, boolean maximize) {
    private static final Map<String, Boolean> KNOWN = Map.of("accuracy", true, "auc", true, "logloss", false, "ne", false,
            "mse", false, "rmse", false, "mae", false);

    /** The objective of a metric by name; refuses one that is not a target (count, baseRate, calibration, a typo). */
    public static Objective of(String metric) {
        Boolean up = KNOWN.get(metric);
        if (up == null) {
            throw new IllegalArgumentException("cannot optimize metric '" + metric + "': give one of accuracy, auc (higher is better), "
                    + "logloss, ne, mse, rmse, mae (lower is better)");
        }
        return new Objective(metric, up);
    }

    /** AUC for binary labels, accuracy for classes, RMSE for regression. */
    public static Objective defaultFor(DataSchema schema) {
        return of(schema.numClasses() == 2 ? "auc" : schema.numClasses() == 0 ? "rmse" : "accuracy");
    }

    /** Whether the metric is defined for data of this layout (AUC and NE need binary labels, accuracy classes, ...). */
    public boolean fits(DataSchema schema) {
        int c = schema.numClasses();
        return switch (metric) {
            case "auc", "ne" -> c == 2;
            case "accuracy", "logloss" -> c >= 2;
            default -> c == 0;
        };
    }

    /** The metric's value in m (NaN when m is null or lacks it). */
    public double value(Metrics m) {
        if (m == null) return Double.NaN;
        return switch (metric) {
            case "accuracy" -> m.accuracy();
            case "auc" -> m.auc();
            case "logloss" -> m.logloss();
            case "ne" -> m.ne();
            case "mse" -> m.mse();
            case "rmse" -> m.rmse();
            case "mae" -> m.mae();
            default -> throw new IllegalStateException(metric);
        };
    }

    /** The loss of a metric value: lower is better; NaN stays NaN. */
    public double loss(double value) {
        return maximize ? -value : value;
    }
}
