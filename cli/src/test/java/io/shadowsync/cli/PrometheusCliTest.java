package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --metrics-port: the metrics log's series scraped over loopback while jobs train, in one process and across processes. */
class PrometheusCliTest {
    @TempDir
    static Path dir;

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "16000", "--eval-rows", "1000", "--vocab", "2000", "--seed", "3");
        assertEquals(0, r.code(), r.err());
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    /** n consecutive ports that are free now. */
    static int freePorts(int n) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (ServerSocket s = new ServerSocket(0)) {
                base = s.getLocalPort();
            }
            if (base + n > 65535) continue;
            boolean all = true;
            for (int k = 1; k < n && all; k++) {
                try (ServerSocket s = new ServerSocket(base + k)) {
                    all = s.isBound();
                } catch (java.io.IOException busy) {
                    all = false;
                }
            }
            if (all) return base;
        }
        throw new IllegalStateException("no " + n + " free consecutive ports");
    }

    static String scrape(int port) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (Exception e) {
            return "";
        }
    }

    /** The value of a sample line "name{labels} value", or NaN when absent. */
    static double sample(String text, String nameAndLabels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(nameAndLabels) + " (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** Scrapes port until every wanted sample is there with a value above 0 (or the job ended); returns the last scrape. */
    static String scrapeUntil(int port, CompletableFuture<?> job, List<String> wanted) throws InterruptedException {
        String last = "";
        while (!job.isDone()) {
            String s = scrape(port);
            if (!s.isEmpty()) last = s;
            boolean all = !s.isEmpty();
            for (String w : wanted) all &= sample(s, w) > 0;
            if (all) return s;
            Thread.sleep(100);
        }
        return last;
    }

    /**
     * Catches series missing or mislabelled (each trainer its own, role="trainer"), counters that do not count, an
     * endpoint bound elsewhere than loopback, and one left running after the job (its HTTP thread would keep a JVM alive).
     */
    @Test
    @Timeout(120)
    void aTrainingJobsSeriesAreScrapedWhileItTrains() throws Exception {
        int port = freePorts(1);
        CompletableFuture<CliTest.Run> job = CompletableFuture.supplyAsync(() -> CliTest.run("train", "--model", "lr", "--train",
                dir.resolve("ctr/train.tsv").toString(), "--hash-bits", "14", "--trainers", "2", "--sync", "s-easgd", "--epochs", "60",
                "--log-every", "0.1", "--metrics-port", Integer.toString(port), "--no-progress"));
        List<String> wanted = List.of("shadowsync_train_examples_total{role=\"trainer\",trainer=\"0\"}", "shadowsync_train_examples_total{role=\"trainer\",trainer=\"1\"}",
                "shadowsync_train_ps_calls_total{role=\"trainer\",trainer=\"1\"}", "shadowsync_train_dense_calls_total{role=\"trainer\",trainer=\"0\"}",
                "shadowsync_train_examples_per_sec{role=\"trainer\",trainer=\"1\"}");
        String s = scrapeUntil(port, job, wanted);
        CliTest.Run r = job.get();
        assertEquals(0, r.code(), r.err());
        for (String w : wanted) assertTrue(sample(s, w) > 0, w + " in the scrape while it trained:\n" + s);
        assertTrue(s.contains("# TYPE shadowsync_train_examples_total counter"), "examples is a counter");
        assertTrue(s.contains("# TYPE shadowsync_train_loss gauge"), "loss is a gauge");
        assertTrue(Double.isNaN(sample(s, "shadowsync_train_members{role=\"trainer\",trainer=\"0\"}")), "no members series when not elastic");
        assertEquals("", scrape(port), "the endpoint is closed with the job");
        assertThrows(java.io.IOException.class, () -> HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()), "nothing listens after the job");
    }

    /**
     * Catches a counter whose reader the registry alone holds (weakly, as Micrometer does): after a collection it would
     * stay at its last value. A parameter server's counters are such lambdas.
     */
    @Test
    void aProcessCounterFollowsItsSourceAfterACollection() throws Exception {
        java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
        try (io.shadowsync.cli.prom.PrometheusEndpoint p = io.shadowsync.cli.prom.PrometheusEndpoint.start(0, "ps", "shard", "3")) {
            p.counter("shadowsync_ps_calls", "calls", () -> calls.get());
            for (int k = 0; k < 3; k++) {
                System.gc();
                Thread.sleep(20);
            }
            calls.set(42);
            String s = scrape(p.port());
            assertEquals(42.0, sample(s, "shadowsync_ps_calls_total{role=\"ps\",shard=\"3\"}"), 0.0, s);
        }
    }

    /** Catches a port already taken: refused before training, in one sentence. */
    @Test
    void aTakenPortIsRefused() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliTest.Run r = CliTest.run("train", "--model", "lr", "--train", dir.resolve("ctr/train.tsv").toString(), "--hash-bits", "10",
                    "--metrics-port", Integer.toString(taken.getLocalPort()), "--no-progress");
            assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
            assertTrue(r.err().contains("--metrics-port " + taken.getLocalPort() + ": cannot serve metrics on 127.0.0.1:" + taken.getLocalPort()), r.err());
        }
        CliTest.Run r = CliTest.run("launch", "--local", "2", "--ps", "1", "--model", "lr", "--train", dir.resolve("ctr/train.tsv").toString(),
                "--metrics-port", "65534");
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("--metrics-port 65534: the ports PORT .. PORT + trainers + ps-shards − 1 must lie in 1..65535"), r.err());
    }

    /**
     * launch --local 2 --ps 1 --metrics-port P: trainer R on P + R, the parameter server on P + 2. Catches a launch whose
     * processes all try one port (all but one would fail), trainers labelled with the wrong rank, and a parameter server
     * without its role="ps" series.
     */
    @Test
    @Timeout(400)
    void everyProcessOfAMultiProcessJobServesItsOwn() throws Exception {
        everyRoleServesItsOwn();
    }

    /**
     * The same with --colocate: the shard that trainer 0 hosts serves its role="ps" series on P + 2, where a ps process
     * would, from trainer 0's JVM, and counts the rows trainer 0 reaches it with directly (no lane) with the others.
     */
    @Test
    @Timeout(400)
    void aShardInsideATrainerServesItsOwnToo() throws Exception {
        everyRoleServesItsOwn("--colocate");
    }

    private void everyRoleServesItsOwn(String... more) throws Exception {
        int port = freePorts(3);
        String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("launch", "--local", "2", "--ps", "1", "--model", "lr",
                "--train", dir.resolve("ctr/train.tsv").toString(), "--hash-bits", "14", "--sync", "s-ma", "--epochs", "4",
                "--log-every", "0.2", "--metrics-port", Integer.toString(port), "--rendezvous-timeout", "300", "--no-progress"),
                java.util.stream.Stream.of(more)).toArray(String[]::new);
        CompletableFuture<CliTest.Run> job = CompletableFuture.supplyAsync(() -> CliTest.run(args));
        String psCalls = "shadowsync_ps_calls_total{role=\"ps\",shard=\"0\"}", psRows = "shadowsync_ps_rows_pulled_total{role=\"ps\",shard=\"0\"}";
        String t0Examples = "shadowsync_train_examples_total{role=\"trainer\",trainer=\"0\"}", t0Calls = "shadowsync_train_ps_calls_total{role=\"trainer\",trainer=\"0\"}";
        String t1Examples = "shadowsync_train_examples_total{role=\"trainer\",trainer=\"1\"}";
        // every process at once, each until it has shown its counts (the job may end soon after)
        String ps = "", t0 = "", t1 = "";
        while (!job.isDone() && !(sample(ps, psRows) > 0 && sample(t0, t0Calls) > 0 && sample(t0, t0Examples) > 0 && sample(t1, t1Examples) > 0)) {
            if (!(sample(ps, psRows) > 0)) ps = scrape(port + 2);
            if (!(sample(t0, t0Calls) > 0 && sample(t0, t0Examples) > 0)) t0 = scrape(port);
            if (!(sample(t1, t1Examples) > 0)) t1 = scrape(port + 1);
            Thread.sleep(100);
        }
        CliTest.Run r = job.get();
        assertEquals(0, r.code(), r.err());
        assertTrue(sample(ps, psCalls) > 0, "the server's calls:\n" + ps);
        assertTrue(sample(ps, psRows) > 0, "the server's rows:\n" + ps);
        assertTrue(sample(t0, t0Examples) > 0, "trainer 0 on P:\n" + t0);
        assertTrue(sample(t0, t0Calls) > 0, "trainer 0's table calls:\n" + t0);
        assertTrue(sample(t1, t1Examples) > 0, "trainer 1 on P + 1:\n" + t1);
        assertTrue(Double.isNaN(sample(t1, t0Examples)), "each trainer process serves only its own");
        assertTrue(Double.isNaN(sample(ps, t0Examples)), "a parameter server has no trainer's series");
    }
}
