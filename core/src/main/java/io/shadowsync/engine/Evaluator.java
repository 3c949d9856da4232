package io.shadowsync.engine;

import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.metrics.BinaryMetrics;
import io.shadowsync.metrics.MetricAccumulator;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.metrics.MulticlassMetrics;
import io.shadowsync.metrics.RegressionMetrics;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Metrics of a model on a whole data set: logloss, normalized entropy, AUC and accuracy for binary labels;
 * cross-entropy and accuracy for classes; MSE/RMSE/MAE for regression.
 */
public final class Evaluator {
    private Evaluator() {}

    /** The metrics and how long the pass took. */
    public record Result(Metrics metrics, double seconds) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>(metrics.toMap());
            m.put("eval_seconds", Math.round(seconds * 1000) / 1000.0);
            return m;
        }
    }

    public static Result evaluate(Model model, EmbeddingStore tables, DataSource source, int batchSize) throws IOException {
        MetricAccumulator acc = accumulatorFor(source.schema());
        long t0 = System.nanoTime();
        Inference.forEachBatch(model, tables, source, batchSize, (b, outputs, loss) -> acc.add(outputs, b.labels, b.size));
        return new Result(acc.result(), (System.nanoTime() - t0) / 1e9);
    }

    /** The accumulator that fits labels of this schema. */
    public static MetricAccumulator accumulatorFor(DataSchema schema) {
        if (schema.numClasses() == 2) return new BinaryMetrics();
        if (schema.numClasses() == 0) return new RegressionMetrics();
        return new MulticlassMetrics(schema.numClasses());
    }
}
