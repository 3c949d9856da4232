/**
 * Model quality. A {@link MetricAccumulator} takes model outputs and labels and gives {@link Metrics}, where a metric
 * that does not apply to the task, or is undefined on the examples seen, is NaN: {@link BinaryMetrics} (log loss,
 * normalized entropy, exact AUC with ties counted half, accuracy, base rate, calibration), {@link MulticlassMetrics}
 * (cross-entropy of the true class, accuracy by argmax) and {@link RegressionMetrics} (MSE, RMSE, MAE).
 * {@link TrainWindow} keeps the training loss over the most recent N examples for progress lines. A
 * {@link MetricsSink} receives the records of the metrics log (docs/metrics.md) while a job trains;
 * {@link JsonlMetricsFile} writes them as JSON Lines, flushed line by line.
 *
 * <p>Sharing: accumulators are not thread-safe; each worker or evaluation thread has its own, and they are combined
 * with {@code merge} at the end. {@link TrainWindow} is the exception, written while training runs: many writers with
 * one slot each and any number of readers, without locks, every entry published like a seqlock so that a snapshot sums
 * whole batches, never a torn one. This package depends on no other package of shadowsync. Start with {@link Metrics}
 * and {@link BinaryMetrics}.
 */
package io.shadowsync.metrics;
