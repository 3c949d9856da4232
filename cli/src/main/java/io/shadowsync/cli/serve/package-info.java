/**
 * {@code shadowsync serve}: scoring a saved model over HTTP/JSON. {@link io.shadowsync.cli.serve.ScoreServer} owns the
 * JDK HTTP server and its bounded handler threads; {@link io.shadowsync.cli.serve.Requests} turns request bodies into
 * {@link io.shadowsync.api.Example}s (and scores into JSON); {@link io.shadowsync.cli.serve.Batcher} gathers concurrent
 * single requests into one batch forward; {@link io.shadowsync.cli.serve.LatencyWindow} keeps the request latencies
 * that {@code GET /metrics} reports. The wire format is in docs/serve.md.
 */
package io.shadowsync.cli.serve;
