/**
 * {@code --metrics-port}: a process's metrics for Prometheus. {@link io.shadowsync.cli.prom.PrometheusEndpoint} is a
 * {@link io.shadowsync.metrics.MetricsSink} over a Micrometer Prometheus registry, served on the loopback address; a
 * trainer feeds it the metrics log's records, a parameter server its own counters. See docs/metrics.md.
 */
package io.shadowsync.cli.prom;
