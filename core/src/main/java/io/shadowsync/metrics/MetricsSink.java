package io.shadowsync.metrics;

import java.util.Map;

/**
 * Where metrics records go while a job trains: a JSON Lines file ({@link JsonlMetricsFile}), or a listener of the
 * Java API (a dashboard, an exporter). A record is an ordered map of field names to numbers, strings, booleans,
 * nulls or nested maps of the same; its {@code "type"} field says which kind it is ({@code "train"} or
 * {@code "eval"}, see docs/metrics.md). Records arrive from one thread at a time, in order; a sink that throws is
 * not called again.
 */
@FunctionalInterface
public interface MetricsSink {
    void accept(Map<String, Object> record);
}
