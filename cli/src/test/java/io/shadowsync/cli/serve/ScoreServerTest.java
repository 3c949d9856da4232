package io.shadowsync.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.api.Example;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The server over loopback (port 0), started and stopped by each test: answers equal {@link TrainedModel}'s. */
class ScoreServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** A 3-class MLP over 4 inputs with random weights. */
    static TrainedModel mlp() {
        Model m = new MlpSpec(4, new int[] {8}, 3, "relu", "multiclass").build();
        m.initDense(7);
        return new TrainedModel(m, null, null);
    }

    static ScoreServer.Options options(int maxBatch, long maxWaitUs) {
        ScoreServer.Options d = ScoreServer.Options.defaults();
        return new ScoreServer.Options("127.0.0.1", 0, d.threads(), maxBatch, maxWaitUs, 1, d.maxBodyBytes(), 100);
    }

    static float[] row(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    HttpResponse<String> call(ScoreServer s, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String denseJson(float[] x) {
        StringBuilder sb = new StringBuilder("{\"dense\": [");
        for (int i = 0; i < x.length; i++) sb.append(i > 0 ? ", " : "").append(x[i]);
        return sb.append("]}").toString();
    }

    /** The scores of one prediction object, as floats parsed from the text the server wrote. */
    static float[] scores(JsonNode p) {
        if (p.has("score")) return new float[] {Float.parseFloat(p.get("score").asText())};
        JsonNode ps = p.get("probabilities");
        float[] out = new float[ps.size()];
        for (int i = 0; i < out.length; i++) out[i] = Float.parseFloat(ps.get(i).asText());
        int best = 0;
        for (int c = 1; c < out.length; c++) if (out[c] > out[best]) best = c;
        assertEquals(best, p.get("class").asInt(), "the class is the most probable one");
        return out;
    }

    @Test
    void singleAndBatchAnswersAreTheModelsScores() throws Exception {
        TrainedModel m = mlp();
        Random r = new Random(1);
        try (ScoreServer s = ScoreServer.start(m, options(64, 200))) {
            for (int i = 0; i < 5; i++) {
                float[] x = row(r, 4);
                HttpResponse<String> a = call(s, "POST", "/v1/score", denseJson(x));
                assertEquals(200, a.statusCode(), a.body());
                assertArrayEqualsExactly(m.predict(Example.ofDense(x)), scores(JSON.readTree(a.body())));
            }
            List<Example> xs = new ArrayList<>();
            StringBuilder body = new StringBuilder("{\"instances\": [");
            for (int i = 0; i < 7; i++) {
                float[] x = row(r, 4);
                xs.add(Example.ofDense(x));
                body.append(i > 0 ? "," : "").append(denseJson(x));
            }
            HttpResponse<String> a = call(s, "POST", "/v1/score", body.append("]}").toString());
            assertEquals(200, a.statusCode(), a.body());
            JsonNode ps = JSON.readTree(a.body()).get("predictions");
            float[][] want = m.predict(xs);
            assertEquals(7, ps.size());
            for (int i = 0; i < 7; i++) assertArrayEqualsExactly(want[i], scores(ps.get(i)));
        }
    }

    @Test
    void categoricalAndSparseExamplesScoreAsTheModelDoes() throws Exception {
        DlrmSpec spec = new DlrmSpec(2, 3, 50, 4, new int[] {4}, new int[] {4});
        Model d = spec.build();
        d.initDense(3);
        TrainedModel dlrm = new TrainedModel(d, new LocalEmbeddingStore(spec.embeddingShapes(), new float[] {0.5f, 0.5f, 0.5f}, 5,
                new EmbeddingOptimizerSpec("sgd", 0.01)), null);
        try (ScoreServer s = ScoreServer.start(dlrm, options(64, 200))) {
            HttpResponse<String> a = call(s, "POST", "/v1/score", "{\"dense\": [0.5, -1.25], \"categorical\": [7, 4294967295, -3]}");
            assertEquals(200, a.statusCode(), a.body());
            float[] want = dlrm.predict(Example.of(new float[] {0.5f, -1.25f}, new int[] {7, -1, -3}));
            assertArrayEqualsExactly(want, scores(JSON.readTree(a.body())));
        }
        LrSpec lspec = new LrSpec(10, 0, 0, true);
        Model l = lspec.build();
        l.initDense(4);
        Random r = new Random(9);
        float[] w = l.dense().data();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian(); // LR starts at zero: make the scores differ
        TrainedModel lr = new TrainedModel(l, new LocalEmbeddingStore(lspec.embeddingShapes(), new float[lspec.embeddingShapes().length], 0,
                new EmbeddingOptimizerSpec("sgd", 0.01)), null);
        try (ScoreServer s = ScoreServer.start(lr, options(64, 200))) {
            HttpResponse<String> a = call(s, "POST", "/v1/score", "{\"sparse\": {\"indices\": [3, 17, 900], \"values\": [1, 0.5, -2]}}");
            assertEquals(200, a.statusCode(), a.body());
            float[] want = lr.predict(Example.ofSparse(new int[] {3, 17, 900}, new float[] {1f, 0.5f, -2f}));
            assertArrayEqualsExactly(want, scores(JSON.readTree(a.body())));
            assertEquals(400, call(s, "POST", "/v1/score", "{\"sparse\": {\"indices\": [3], \"values\": [1, 2]}}").statusCode());
        }
    }

    /**
     * N concurrent single requests, all released at once: fewer than N forwards (they were gathered), and each answer
     * is the score of its own row (an answer routed to another request would be another row's score).
     */
    @Test
    void concurrentSinglesAreBatchedAndEachGetsItsOwnAnswer() throws Exception {
        TrainedModel m = mlp();
        int n = 16;
        Random r = new Random(2);
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) rows[i] = row(r, 4);
        // a batch closes when full (n) or after 2 s: all n released together land in one or a few batches
        try (ScoreServer s = ScoreServer.start(m, options(n, 2_000_000)); ExecutorService pool = Executors.newFixedThreadPool(n)) {
            CyclicBarrier go = new CyclicBarrier(n);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String body = denseJson(rows[i]);
                answers.add(pool.submit(() -> {
                    go.await();
                    return call(s, "POST", "/v1/score", body);
                }));
            }
            for (int i = 0; i < n; i++) {
                HttpResponse<String> a = answers.get(i).get();
                assertEquals(200, a.statusCode(), a.body());
                assertArrayEqualsExactly(m.predict(Example.ofDense(rows[i])), scores(JSON.readTree(a.body())));
            }
            assertTrue(s.forwardCalls() < n, n + " concurrent requests ran " + s.forwardCalls() + " forwards: not batched");
        }
    }

    /** With --max-batch 1 every request is its own forward (batching off). */
    @Test
    void maxBatchOneScoresEachRequestAlone() throws Exception {
        TrainedModel m = mlp();
        try (ScoreServer s = ScoreServer.start(m, options(1, 0))) {
            for (int i = 0; i < 3; i++) assertEquals(200, call(s, "POST", "/v1/score", denseJson(new float[] {1, 2, 3, i})).statusCode());
            assertEquals(3, s.forwardCalls());
        }
    }

    @Test
    void badRequestsAreRefusedWithTheReason() throws Exception {
        TrainedModel m = mlp();
        try (ScoreServer s = ScoreServer.start(m, options(64, 200))) {
            String[][] cases = {
                {"{\"dense\": [1, 2, 3", "malformed JSON"},
                {"", "empty"},
                {"{\"dense\": [1, 2, 3]}", "the example.dense has 3 values, the mlp model takes 4 dense features"},
                {"{\"dense\": [1, 2, 3, 4], \"colour\": 1}", "unknown field 'colour'"},
                {"{\"dense\": [1, 2, 3, 1e39]}", "the example.dense[3] is 1.0E39, which is not a finite float"},
                {"{\"dense\": [1, 2, \"x\", 4]}", "the example.dense[2] is \"x\", not a number"},
                {"{\"dense\": [1, 2, 3, 4], \"categorical\": [1]}", "the example.categorical has 1 ids, the mlp model takes 0"},
                {"{\"dense\": [1, 2, 3, 4], \"sparse\": {\"indices\": [1], \"values\": [1]}}", "sparse features, the mlp model takes none"},
                {"{\"instances\": [{\"dense\": [1, 2, 3, 4]}, {\"dense\": [1, 2, 3]}]}", "instances[1].dense has 3 values"},
                {"{\"instances\": []}", "'instances' is empty"},
                {"{\"instances\": [{\"dense\": [1, 2, 3, 4]}], \"dense\": [1]}", "unknown field 'dense' beside 'instances'"},
                {"[1, 2, 3, 4]", "the body is a JSON array"},
                {"{\"dense\": [1, 2, 3, 4], \"dense\": [1, 2, 3, 4]}", "Duplicate field 'dense'"},
                {"{\"dense\": [1, 2, 3, 4]} {}", "malformed JSON"},
            };
            for (String[] c : cases) {
                HttpResponse<String> a = call(s, "POST", "/v1/score", c[0]);
                assertEquals(400, a.statusCode(), c[0] + " -> " + a.body());
                String error = JSON.readTree(a.body()).get("error").asText();
                assertTrue(error.contains(c[1]), c[0] + " -> '" + error + "' does not say '" + c[1] + "'");
            }
            StringBuilder many = new StringBuilder("{\"instances\": [");
            for (int i = 0; i < 101; i++) many.append(i > 0 ? "," : "").append("{\"dense\": [1, 2, 3, 4]}");
            assertEquals(400, call(s, "POST", "/v1/score", many.append("]}").toString()).statusCode());
            HttpResponse<String> get = call(s, "GET", "/v1/score", null);
            assertEquals(405, get.statusCode());
            assertEquals("POST", get.headers().firstValue("Allow").orElse(""));
            assertEquals(405, call(s, "POST", "/healthz", "{}").statusCode());
            HttpResponse<String> nope = call(s, "GET", "/v2/score", null);
            assertEquals(404, nope.statusCode());
            assertTrue(JSON.readTree(nope.body()).get("error").asText().contains("/v2/score"));
            assertEquals(0, s.forwardCalls(), "a refused request must not reach the model");
        }
    }

    @Test
    void healthAndMetrics() throws Exception {
        TrainedModel m = mlp();
        try (ScoreServer s = ScoreServer.start(m, options(64, 200))) {
            HttpResponse<String> h = call(s, "GET", "/healthz", null);
            assertEquals(200, h.statusCode());
            JsonNode hj = JSON.readTree(h.body());
            assertEquals("ok", hj.get("status").asText());
            assertEquals(4, hj.get("dense").asInt());
            assertEquals(3, hj.get("outputs").asInt());
            for (int i = 0; i < 3; i++) call(s, "POST", "/v1/score", denseJson(new float[] {1, 2, 3, i}));
            call(s, "POST", "/v1/score", "{");
            String metrics = call(s, "GET", "/metrics", null).body();
            // answered before this scrape: the health check, 3 scores (200) and one 400
            assertTrue(metrics.contains("shadowsync_serve_requests_total{code=\"200\"} 4\n"), metrics);
            assertTrue(metrics.contains("shadowsync_serve_requests_total{code=\"400\"} 1\n"), metrics);
            assertTrue(metrics.contains("shadowsync_serve_request_seconds_count 5\n"), metrics);
            assertTrue(metrics.contains("shadowsync_serve_request_seconds{quantile=\"0.5\"} "), metrics);
            assertTrue(metrics.contains("shadowsync_serve_request_seconds{quantile=\"0.99\"} "), metrics);
            assertTrue(metrics.contains("shadowsync_serve_forward_calls_total 3\n"), metrics);
        }
    }

    /** A request waiting in a batch when the server is told to stop still gets its answer. */
    @Test
    void stopFinishesTheRequestsInFlight() throws Exception {
        TrainedModel m = mlp();
        float[] x = {0.25f, -1, 2, 0.5f};
        ScoreServer s = ScoreServer.start(m, options(64, 1_000_000)); // the lone request waits 1 s for company
        CompletableFuture<HttpResponse<String>> a = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/score"))
                .POST(HttpRequest.BodyPublishers.ofString(denseJson(x))).build(), HttpResponse.BodyHandlers.ofString());
        while (s.scoringNow() == 0 && !a.isDone()) Thread.sleep(5);
        s.stop(10);
        HttpResponse<String> r = a.get();
        assertEquals(200, r.statusCode(), r.body());
        assertArrayEqualsExactly(m.predict(Example.ofDense(x)), scores(JSON.readTree(r.body())));
    }

    static void assertArrayEqualsExactly(float[] want, float[] got) {
        assertTrue(Arrays.equals(want, got), "want " + Arrays.toString(want) + ", got " + Arrays.toString(got));
    }
}
