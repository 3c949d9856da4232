package io.shadowsync.cli.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.data.DataSchema;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Scores a {@link TrainedModel} over HTTP/JSON: {@code POST /v1/score}, {@code GET /healthz}, {@code GET /metrics}
 * (docs/serve.md). Requests are handled on a bounded pool of threads (when its queue is full the accepting thread
 * handles the request itself, which slows accepting: back pressure, not dropped requests). With {@code maxBatch > 1}
 * single-example requests go through a {@link Batcher}; batch requests are one forward of their own.
 */
public final class ScoreServer implements AutoCloseable {
    /** How the server runs: maxBatch 1 scores every request on its own thread (no batching). */
    public record Options(String host, int port, int threads, int maxBatch, long maxWaitMicros, int scoringThreads, int maxBodyBytes, int maxInstances) {
        public Options {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
            if (maxWaitMicros < 0) throw new IllegalArgumentException("--max-wait-us must be at least 0, got " + maxWaitMicros);
            if (scoringThreads < 1) throw new IllegalArgumentException("--scoring-threads must be at least 1, got " + scoringThreads);
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
            if (maxBodyBytes < 1) throw new IllegalArgumentException("the largest body must be at least 1 byte, got " + maxBodyBytes);
            if (maxInstances < 1) throw new IllegalArgumentException("--max-instances must be at least 1, got " + maxInstances);
        }

        public static Options defaults() {
            return new Options("127.0.0.1", 0, 32, 64, 500, 1, 16 << 20, 10_000);
        }
    }

    private static final int[] CODES = {200, 400, 404, 405, 413, 500, 503};

    private final TrainedModel model;
    private final Options options;
    private final Requests requests;
    private final HttpServer http;
    private final ThreadPoolExecutor pool;
    private final Batcher batcher;
    private final LatencyWindow latency = new LatencyWindow(8192);
    private final AtomicLongArray byCode = new AtomicLongArray(CODES.length);
    private final java.util.concurrent.atomic.AtomicLong directForwards = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger scoring = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean stopping;

    private ScoreServer(TrainedModel model, Options options, HttpServer http) {
        this.model = model;
        this.options = options;
        this.http = http;
        DataSchema s = model.schema();
        this.requests = new Requests(s, model.spec().kind(), options.maxInstances());
        this.pool = new ThreadPoolExecutor(options.threads(), options.threads(), 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1024),
                Thread.ofPlatform().daemon().name("serve-", 0).factory(), new ThreadPoolExecutor.CallerRunsPolicy());
        this.batcher = options.maxBatch() > 1 ? new Batcher(model::predict, options.maxBatch(), options.maxWaitMicros() * 1000, options.scoringThreads()) : null;
        http.setExecutor(pool);
        http.createContext("/", this::handle);
    }

    /** Binds host:port (port 0: a free port) and starts answering; the caller closes the server. */
    public static ScoreServer start(TrainedModel model, Options options) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        ScoreServer s = new ScoreServer(model, options, http);
        http.start();
        return s;
    }

    /** The port the server listens on. */
    public int port() {
        return http.getAddress().getPort();
    }

    /** Model forwards run so far (batched and direct): fewer than the requests when batching gathers them. */
    public long forwardCalls() {
        return directForwards.get() + (batcher == null ? 0 : batcher.forwardCalls());
    }

    /** Score requests parsed and not yet answered (for tests of the shutdown). */
    int scoringNow() {
        return scoring.get();
    }

    /** Requests answered so far, whatever their status. */
    public long requests() {
        return latency.count();
    }

    private void handle(HttpExchange ex) throws IOException {
        long t0 = System.nanoTime();
        int code;
        try (ex) {
            code = route(ex);
        } catch (IOException | RuntimeException e) { // the client went away mid-answer, or a bug: count it
            code = 500;
        }
        latency.record(System.nanoTime() - t0);
        for (int i = 0; i < CODES.length; i++) if (CODES[i] == code) byCode.incrementAndGet(i);
    }

    private int route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
        String allowed = switch (path) {
            case "/v1/score" -> "POST";
            case "/healthz", "/metrics" -> "GET";
            default -> null;
        };
        if (allowed == null) return error(ex, 404, "no such path: " + path + " (paths: POST /v1/score, GET /healthz, GET /metrics)");
        if (!allowed.equals(method) && !(allowed.equals("GET") && method.equals("HEAD"))) {
            ex.getResponseHeaders().set("Allow", allowed);
            return error(ex, 405, path + " takes " + allowed + ", not " + method);
        }
        return switch (path) {
            case "/v1/score" -> score(ex);
            case "/healthz" -> health(ex);
            default -> metrics(ex);
        };
    }

    private int score(HttpExchange ex) throws IOException {
        if (stopping) return error(ex, 503, "the server is shutting down");
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(options.maxBodyBytes() + 1);
        }
        if (body.length > options.maxBodyBytes()) return error(ex, 413, "the body is larger than " + options.maxBodyBytes() + " bytes");
        Requests.Parsed p;
        try {
            p = requests.parse(body);
        } catch (Requests.BadRequest e) {
            return error(ex, 400, e.getMessage());
        }
        scoring.incrementAndGet();
        try {
            return send(ex, 200, Requests.answer(scores(p), p.batch()), "application/json");
        } catch (ScoringFailed e) {
            return error(ex, e.code, e.getMessage());
        } finally {
            scoring.decrementAndGet();
        }
    }

    private static final class ScoringFailed extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        ScoringFailed(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    private float[][] scores(Requests.Parsed p) throws ScoringFailed {
        float[][] scores;
        if (p.batch() || batcher == null) {
            directForwards.incrementAndGet();
            scores = model.predict(p.examples());
        } else {
            CompletableFuture<float[]> f = batcher.submit(p.examples().get(0));
            try {
                scores = new float[][] {f.get()};
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ScoringFailed(503, "the server is shutting down");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof IllegalStateException) throw new ScoringFailed(503, c.getMessage());
                throw new ScoringFailed(500, "scoring failed: " + c);
            }
        }
        return scores;
    }

    private int health(HttpExchange ex) throws IOException {
        DataSchema s = model.schema();
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("status", stopping ? "stopping" : "ok");
        h.put("model", model.spec().kind());
        h.put("dense", s.numDense());
        h.put("categorical", s.numCat());
        h.put("sparse", s.sparse());
        h.put("outputs", model.outputsPerExample());
        return send(ex, stopping ? 503 : 200, Requests.object(h), "application/json");
    }

    /** Prometheus text format (0.0.4). */
    private int metrics(HttpExchange ex) throws IOException {
        StringBuilder m = new StringBuilder();
        m.append("# HELP shadowsync_serve_requests_total HTTP requests answered, by status code.\n");
        m.append("# TYPE shadowsync_serve_requests_total counter\n");
        for (int i = 0; i < CODES.length; i++) {
            m.append("shadowsync_serve_requests_total{code=\"").append(CODES[i]).append("\"} ").append(byCode.get(i)).append('\n');
        }
        m.append("# HELP shadowsync_serve_request_seconds Request latency (quantiles over the last 8192 requests).\n");
        m.append("# TYPE shadowsync_serve_request_seconds summary\n");
        for (double q : new double[] {0.5, 0.99}) {
            m.append("shadowsync_serve_request_seconds{quantile=\"").append(q).append("\"} ").append(latency.quantileNanos(q) / 1e9).append('\n');
        }
        m.append("shadowsync_serve_request_seconds_sum ").append(latency.sumNanos() / 1e9).append('\n');
        m.append("shadowsync_serve_request_seconds_count ").append(latency.count()).append('\n');
        m.append("# HELP shadowsync_serve_forward_calls_total Model batch forwards run.\n");
        m.append("# TYPE shadowsync_serve_forward_calls_total counter\n");
        m.append("shadowsync_serve_forward_calls_total ").append(forwardCalls()).append('\n');
        m.append("# HELP shadowsync_serve_batched_examples_total Single examples scored in gathered batches.\n");
        m.append("# TYPE shadowsync_serve_batched_examples_total counter\n");
        m.append("shadowsync_serve_batched_examples_total ").append(batcher == null ? 0 : batcher.examples()).append('\n');
        return send(ex, 200, m.toString().getBytes(StandardCharsets.UTF_8), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static int error(HttpExchange ex, int code, String message) throws IOException {
        return send(ex, code, Requests.object(Map.of("error", message)), "application/json");
    }

    private static int send(HttpExchange ex, int code, byte[] body, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        return code;
    }

    /**
     * Stops accepting, lets the requests in flight finish (waiting up to graceSeconds), then stops the scoring and
     * handler threads. New score requests during the grace period are answered 503.
     */
    public void stop(int graceSeconds) throws InterruptedException {
        stopping = true;
        http.stop(graceSeconds); // returns once the exchanges in flight are done, or after the grace
        if (batcher != null) batcher.stop();
        pool.shutdown();
        pool.awaitTermination(graceSeconds + 1L, TimeUnit.SECONDS);
    }

    /** {@link #stop} with 5 seconds of grace. */
    @Override
    public void close() {
        try {
            stop(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
