package io.shadowsync.cli.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.metrics.JsonlMetricsFile;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The dashboard's feed and event stream without a browser: history, live records, slow pages, the token, the assets. */
class DashboardServerTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    static Map<String, Object> train(int trainer, long examples) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "train");
        r.put("trainer", trainer);
        r.put("seconds", examples / 1000.0);
        r.put("examples", examples);
        r.put("loss", 0.5);
        return r;
    }

    static Map<String, Object> eval(long examples) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "eval");
        r.put("trainer", 0);
        r.put("examples", examples);
        r.put("auc", 0.7);
        return r;
    }

    /** The next dataLines data lines of an event stream; those of a named event as "NAME:DATA". */
    static List<String> readUntil(java.util.Iterator<String> lines, int dataLines) {
        // a record that never comes fails the test in 30 s instead of hanging it
        return assertTimeoutPreemptively(Duration.ofSeconds(30), () -> read(lines, dataLines), "the stream stalled");
    }

    private static List<String> read(java.util.Iterator<String> lines, int dataLines) {
        List<String> out = new ArrayList<>();
        String event = null;
        while (out.size() < dataLines) {
            String l = lines.next();
            if (l.startsWith("event: ")) event = l.substring(7);
            else if (l.startsWith("data: ")) {
                out.add(event == null ? l.substring(6) : event + ":" + l.substring(6));
                event = null;
            }
        }
        return out;
    }

    @Test
    void aNewPageGetsTheHistoryThenEachRecordThenTheEnd() throws Exception {
        DashboardFeed feed = new DashboardFeed();
        feed.accept(train(0, 100));
        feed.accept(train(1, 100));
        feed.accept(eval(200));
        try (DashboardServer server = DashboardServer.start(feed, "127.0.0.1", 0, null, "lr model")) {
            HttpResponse<Stream<String>> resp = CLIENT.send(HttpRequest.newBuilder(URI.create(server.url() + "events")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, resp.statusCode());
            assertTrue(resp.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            var lines = resp.body().iterator();
            List<String> first = readUntil(lines, 4);
            assertEquals("hello:{\"title\":\"lr model\",\"history\":3}", first.get(0));
            assertEquals(List.of(JsonlMetricsFile.line(train(0, 100)), JsonlMetricsFile.line(train(1, 100)), JsonlMetricsFile.line(eval(200))),
                    first.subList(1, 4), "the history, in order");
            feed.accept(train(0, 300)); // while the page is open: pushed to it, once
            assertEquals(List.of(JsonlMetricsFile.line(train(0, 300))), readUntil(lines, 1));
            feed.accept(train(1, 300));
            feed.close();
            feed.accept(train(0, 999)); // after the end: ignored
            assertEquals(List.of(JsonlMetricsFile.line(train(1, 300)), "end:{\"dropped\":0}"), readUntil(lines, 2));
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> { // the stream ends with the job: nothing but the blank separator after
                while (lines.hasNext()) assertEquals("", lines.next());
            });
            assertEquals(5, feed.records());
        }
    }

    @Test
    void aPageThatDoesNotReadNeverHoldsUpTheSink() throws Exception {
        DashboardFeed feed = new DashboardFeed(1000, 8);
        try (DashboardFeed.Subscriber stalled = feed.subscribe()) {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int i = 0; i < 1000; i++) feed.accept(train(0, i));
            });
            List<String> queued = stalled.drain();
            assertEquals(8, queued.size(), "a page's queue is bounded");
            assertEquals(JsonlMetricsFile.line(train(0, 992)), queued.get(0), "the oldest were dropped, the newest kept");
            assertEquals(JsonlMetricsFile.line(train(0, 999)), queued.get(7));
            assertEquals(992, stalled.dropped());
        }
    }

    @Test
    void aBrowserThatStopsReadingDoesNotStopTheRecordsOrTheOtherPages() throws Exception {
        DashboardFeed feed = new DashboardFeed(100, 64);
        String pad = "x".repeat(4000);
        try (DashboardServer server = DashboardServer.start(feed, "127.0.0.1", 0, null, "t");
             Socket stalled = new Socket("127.0.0.1", server.port())) {
            OutputStream o = stalled.getOutputStream();
            o.write(("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            o.flush(); // and never read: its handler blocks on a full socket after a few MB
            Thread.sleep(200);
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (int i = 0; i < 5000; i++) { // 20 MB, more than the socket buffers of a stalled connection hold
                    Map<String, Object> r = train(0, i);
                    r.put("pad", pad);
                    feed.accept(r);
                }
            });
            HttpResponse<Stream<String>> resp = CLIENT.send(HttpRequest.newBuilder(URI.create(server.url() + "events")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            var lines = resp.body().iterator();
            readUntil(lines, 1 + feed.historySize());
            feed.accept(train(1, 7));
            assertEquals(List.of(JsonlMetricsFile.line(train(1, 7))), readUntil(lines, 1), "another page still gets records live");
            feed.close();
        }
    }

    @Test
    void theHistoryIsThinnedEvenlyPerTrainerAndKeepsEveryEvaluation() {
        DashboardFeed feed = new DashboardFeed(40, 8);
        for (int i = 0; i < 100; i++) {
            feed.accept(train(0, i));
            feed.accept(train(1, i));
            if (i % 10 == 0) feed.accept(eval(i));
        }
        List<String> replay = feed.subscribe().replay();
        assertTrue(replay.size() <= 40, "at most 40 lines kept, got " + replay.size());
        long evals = replay.stream().filter(l -> l.contains("\"eval\"")).count();
        assertEquals(10, evals, "every evaluation is kept");
        for (int t = 0; t < 2; t++) {
            String tag = "\"trainer\":" + t + ",";
            List<String> mine = replay.stream().filter(l -> l.contains("\"train\"") && l.contains(tag)).toList();
            assertTrue(mine.size() >= 10, "trainer " + t + " keeps " + mine.size() + " records");
            assertTrue(mine.get(0).contains("\"examples\":0,"), "from the start of the run: " + mine.get(0));
            assertTrue(mine.get(mine.size() - 1).contains("\"examples\":9"), "to its end: " + mine.get(mine.size() - 1));
        }
        assertEquals(300 - 90, feed.records());
    }

    @Test
    void withATokenEveryRequestMustCarryIt() throws Exception {
        byte[] token = "0123456789abcdef-secret".getBytes(StandardCharsets.US_ASCII);
        DashboardFeed feed = new DashboardFeed();
        try (DashboardServer server = DashboardServer.start(feed, "127.0.0.1", 0, token, "t")) {
            String base = server.url();
            assertEquals(401, get(base, Map.of()).statusCode());
            assertEquals(401, get(base + "events", Map.of()).statusCode());
            assertEquals(401, get(base, Map.of("Authorization", "Bearer 0123456789abcdef-secreT")).statusCode());
            assertEquals(200, get(base, Map.of("Authorization", "Bearer 0123456789abcdef-secret")).statusCode());
            HttpResponse<String> r = get(base + "?token=0123456789abcdef-secret", Map.of());
            assertEquals(303, r.statusCode(), "the token is taken out of the address");
            assertEquals("/", r.headers().firstValue("Location").orElseThrow());
            String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(cookie.contains("HttpOnly"), cookie);
            assertEquals(200, get(base + "dashboard.js", Map.of("Cookie", cookie.substring(0, cookie.indexOf(';')))).statusCode());
            assertEquals(401, get(base + "dashboard.js", Map.of("Cookie", "shadowsync_dashboard=wrong")).statusCode());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DashboardServer.start(feed, "0.0.0.0", 0, null, "t"));
        assertTrue(e.getMessage().contains("token"), e.getMessage());
    }

    @Test
    void onLoopbackOnlyLoopbackNamesAreAnswered() throws Exception {
        try (DashboardServer server = DashboardServer.start(new DashboardFeed(), "127.0.0.1", 0, null, "t")) {
            assertTrue(rawStatus(server.port(), "localhost:" + server.port()).startsWith("HTTP/1.1 200"));
            assertTrue(rawStatus(server.port(), "127.0.0.1").startsWith("HTTP/1.1 200"));
            // a page of another site that points its DNS name at 127.0.0.1 must not read the job
            assertTrue(rawStatus(server.port(), "attacker.example:" + server.port()).startsWith("HTTP/1.1 403"));
        }
    }

    @Test
    void everyAssetComesFromTheJarAndNamesNothingElsewhere() throws Exception {
        try (DashboardServer server = DashboardServer.start(new DashboardFeed(), "127.0.0.1", 0, null, "lr <model>")) {
            HttpResponse<String> page = get(server.url(), Map.of());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("lr &lt;model&gt;"), "the title, escaped");
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
            for (String asset : List.of("", "dashboard.js", "dashboard.css")) {
                HttpResponse<String> r = get(server.url() + asset, Map.of());
                assertEquals(200, r.statusCode(), asset);
                assertFalse(r.body().matches("(?s).*(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}/.*"), asset + " loads nothing from elsewhere");
            }
            assertEquals(404, get(server.url() + "nothing.js", Map.of()).statusCode());
        }
    }

    static HttpResponse<String> get(String url, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String rawStatus(int port, String host) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String status = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII)).readLine();
            assertNotNull(status);
            return status;
        }
    }
}
