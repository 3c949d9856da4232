package io.shadowsync.cli.prom;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shadowsync.metrics.MetricsSink;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * One process's metrics for Prometheus: {@code GET /metrics} on 127.0.0.1:PORT answers the text format of a Micrometer
 * Prometheus registry. A trainer process feeds it the metrics log's records as a {@link MetricsSink} (each numeric
 * field of a {@code train} record a series {@code shadowsync_train_FIELD}, labelled {@code role="trainer"} and the
 * trainer's rank; counts that only grow as counters, {@code ..._total}; an {@code eval} record's metrics as
 * {@code shadowsync_eval_METRIC}); a parameter-server process registers its own counters ({@link #counter}),
 * labelled {@code role="ps"} and its shard. See docs/metrics.md.
 *
 * <p>Sharing: records arrive on the metrics log's sampler thread, scrapes on the HTTP server's one thread; the values
 * are volatile cells the gauges read.
 */
public final class PrometheusEndpoint implements MetricsSink, AutoCloseable {
    /** The train record's fields that only grow: counters. */
    static final Set<String> COUNTS = Set.of("examples", "rounds", "bytes_sent", "ps_calls", "dense_calls", "membership_changes");
    /** Fields that are not series: what a record is and when. */
    static final Set<String> NOT_SERIES = Set.of("type", "time", "trainer", "final", "count", "error");

    /** A value a gauge or counter reads; NaN until a record sets it. */
    private static final class Cell {
        volatile double value = Double.NaN;
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Strong references to what the meters read (the registry's are weak). */
    private final Map<String, Cell> cells = new ConcurrentHashMap<>();
    private final java.util.List<DoubleSupplier> readers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final HttpServer http;
    private final Tags process;

    private PrometheusEndpoint(HttpServer http, Tags process) {
        this.http = http;
        this.process = process;
    }

    /**
     * Serves /metrics on 127.0.0.1:port (0: any free port) for a process of the given role ("trainer", "ps"), whose
     * labels are {@code role} and the given ones. Fails, saying which port, when the port cannot be bound.
     */
    public static PrometheusEndpoint start(int port, String role, String... labels) throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on 127.0.0.1:" + port + ": " + (e.getMessage() == null ? e : e.getMessage()), e);
        }
        PrometheusEndpoint p = new PrometheusEndpoint(http, Tags.of("role", role).and(labels));
        http.createContext("/metrics", ex -> {
            try (ex) {
                if (!"GET".equals(ex.getRequestMethod())) {
                    ex.sendResponseHeaders(405, -1);
                    return;
                }
                byte[] body = p.registry.scrape().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(body);
                }
            }
        });
        http.setExecutor(null); // the server's own thread: scrapes are rare and short
        http.start();
        return p;
    }

    /** The port it listens on. */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The text a scrape gets now. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void accept(Map<String, Object> record) {
        Object type = record.get("type");
        if ("train".equals(type)) {
            Tags tags = process.and("trainer", String.valueOf(record.get("trainer")));
            for (Map.Entry<String, Object> e : record.entrySet()) {
                if (NOT_SERIES.contains(e.getKey())) continue;
                String name = "shadowsync_train_" + e.getKey();
                set(name, tags, COUNTS.contains(e.getKey()), e.getValue());
            }
        } else if ("eval".equals(type) && !record.containsKey("error")) {
            Tags tags = process.and("trainer", String.valueOf(record.get("trainer")));
            for (Map.Entry<String, Object> e : record.entrySet()) {
                if (NOT_SERIES.contains(e.getKey()) || e.getKey().equals("seconds") || e.getKey().equals("examples")) continue;
                set("shadowsync_eval_" + e.getKey(), tags, false, e.getValue());
            }
        }
    }

    private void set(String name, Tags tags, boolean count, Object value) {
        if (!(value instanceof Number) && value != null) return; // strings: not a series
        String key = name + tags;
        if (value == null && !cells.containsKey(key)) return; // a series starts with its first value (none: not elastic, ...)
        Cell c = cells.computeIfAbsent(key, k -> {
            Cell cell = new Cell();
            if (count) {
                FunctionCounter.builder(name, cell, x -> x.value).tags(tags).register(registry);
            } else {
                Gauge.builder(name, cell, x -> x.value).tags(tags).strongReference(true).register(registry);
            }
            return cell;
        });
        c.value = value == null ? Double.NaN : ((Number) value).doubleValue();
    }

    /** A counter of this process read when scraped ({@code name_total}), e.g. a server's calls, with more labels. */
    public void counter(String name, String help, DoubleSupplier read, String... labels) {
        readers.add(read); // the registry holds what a function counter reads weakly: a lambda nobody else holds would be collected
        FunctionCounter.builder(name, read, DoubleSupplier::getAsDouble).description(help).tags(process.and(labels)).register(registry);
    }

    @Override
    public void close() {
        http.stop(0);
        registry.close();
    }
}
