/**
 * {@code shadowsync train --dashboard}: a page of live charts of the job's metrics records (docs/dashboard.md).
 * {@link io.shadowsync.cli.dashboard.DashboardFeed} is the {@link io.shadowsync.metrics.MetricsSink} that keeps the
 * records for pages opened later and hands each new one to every open page through a bounded queue of its own;
 * {@link io.shadowsync.cli.dashboard.DashboardServer} serves the page, its script and the records as server-sent
 * events over the JDK's HTTP server, on loopback unless the job has a token. The page and its chart code are
 * resources of this package: nothing is loaded from elsewhere.
 */
package io.shadowsync.cli.dashboard;
