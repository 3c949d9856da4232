package io.shadowsync.cli.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train --dashboard end to end in a real headless browser: the page loads from the job's server, its charts get points
 * while the job trains, one line per trainer, every record arrives, and a screenshot is written
 * (target/dashboard-live.png, target/dashboard-ended.png). Skipped, saying why, where no Chromium is installed.
 */
class DashboardBrowserTest {
    static final String COUNTS = "JSON.stringify(window.shadowsyncDashboard ? shadowsyncDashboard.counts() : null)";
    static final List<String> PER_TRAINER = List.of("examples_per_sec", "loss", "rounds", "bytes_sent");

    @TempDir
    Path dir;

    @Test
    void chartsGetPointsWhileAJobTrainsOneLinePerTrainer() throws Exception {
        Path browser = HeadlessChromium.find();
        Assumptions.assumeTrue(browser != null, "no headless browser installed (looked for chromium, chromium-browser, google-chrome): "
                + "apt-get install -y chromium (.ci/run does it where it may), or set SHADOWSYNC_CHROMIUM to one");
        assertEquals(0, Main.run(new String[] {"gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "20000", "--eval-rows", "3000",
                "--vocab", "2000", "--seed", "7"}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
        Path metrics = dir.resolve("m.jsonl");
        // trainer 2 sleeps 8 ms a batch: ~420 batches an epoch, 4 epochs, so the job trains for 13 s or more on any machine
        String[] train = {"train", "--model", "lr", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--hash-bits", "14", "--trainers", "3", "--sync", "s-ma", "--batch", "16", "--lr", "0.05", "--epochs", "4",
                "--emulate-slow-trainer", "2:8", "--metrics", metrics.toString(), "--log-every", "0.2", "--eval-every", "8000",
                "--no-progress", "--dashboard"};
        StringWriter errText = new StringWriter();
        HeadlessChromium leftover;
        try (HeadlessChromium chrome = new HeadlessChromium(browser, dir, 1280, 1180)) {
            leftover = chrome;
            PrintWriter err = new PrintWriter(errText, true);
            CompletableFuture<Integer> job = new CompletableFuture<>();
            Thread.ofPlatform().name("train").daemon().start(() -> job.complete(Main.run(train, new PrintWriter(new StringWriter()), err)));

            String url = null;
            Pattern at = Pattern.compile("dashboard at (http://\\S+)");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (url == null) {
                Matcher m = at.matcher(errText.toString());
                if (m.find()) url = m.group(1);
                else if (job.isDone() || System.nanoTime() > deadline) throw new AssertionError("no dashboard address printed: " + errText);
                else Thread.sleep(50);
            }
            assertTrue(url.startsWith("http://127.0.0.1:"), "on loopback by default: " + url);
            chrome.navigate(url);

            JsonNode first = poll(chrome, c -> PER_TRAINER.stream().allMatch(f -> c.path(f).size() == 3) && min(c.path("examples_per_sec")) >= 2);
            assertFalse(job.isDone(), "the job still trains at the first look: " + errText);
            Thread.sleep(1500);
            JsonNode second = chrome.evaluate(COUNTS).isNull() ? null : json(chrome.evaluate(COUNTS).asText());
            assertFalse(job.isDone(), "the job still trains at the second look");
            assertFalse(chrome.evaluate("shadowsyncDashboard.state.ended").asBoolean(), "the page does not think the job is over");
            for (String f : PER_TRAINER) {
                assertEquals(List.of("0", "1", "2"), names(second.path(f)), f + ": one line per trainer");
            }
            for (String t : List.of("0", "1", "2")) {
                int a = first.path("examples_per_sec").path(t).asInt(), b = second.path("examples_per_sec").path(t).asInt();
                assertTrue(b > a, "trainer " + t + "'s line grows while the job trains: " + a + " then " + b + " points");
            }
            chrome.screenshot(Path.of("target/dashboard-live.png"));

            assertEquals(0, job.get(300, TimeUnit.SECONDS), errText::toString);
            poll(chrome, c -> true);
            long deadlineEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!chrome.evaluate("shadowsyncDashboard.state.ended").asBoolean()) {
                assertTrue(System.nanoTime() < deadlineEnd, "the page hears that the job is over");
                Thread.sleep(100);
            }
            long lines = Files.readAllLines(metrics).size();
            assertEquals(lines, chrome.evaluate("shadowsyncDashboard.state.records").asLong(), "the page got every record the metrics file got, once");
            JsonNode end = json(chrome.evaluate(COUNTS).asText());
            assertTrue(end.path("auc").path("0").asInt() >= 2, "evaluations while training and after it are charted: " + end);
            chrome.screenshot(Path.of("target/dashboard-ended.png"));
            assertTrue(Files.size(Path.of("target/dashboard-live.png")) > 10_000, "a screenshot of the charts");
        }
        assertTrue(leftover.byProfile().isEmpty(), "no browser process is left: " + leftover.byProfile());
    }

    /** The point counts once they satisfy ok, polled every 100 ms for up to 60 s. */
    static JsonNode poll(HeadlessChromium chrome, Predicate<JsonNode> ok) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode c = null;
        while (System.nanoTime() < deadline) {
            JsonNode v = chrome.evaluate(COUNTS);
            c = v == null || v.isNull() || v.asText().equals("null") ? null : json(v.asText());
            if (c != null && ok.test(c)) return c;
            Thread.sleep(100);
        }
        throw new AssertionError("the charts did not fill within 60 s: " + c + "; browser log: " + chrome.logTail());
    }

    static JsonNode json(String s) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(s);
    }

    static int min(JsonNode lines) {
        int m = Integer.MAX_VALUE;
        for (JsonNode n : lines) m = Math.min(m, n.asInt());
        return m;
    }

    static List<String> names(JsonNode lines) {
        List<String> out = new java.util.ArrayList<>();
        lines.fieldNames().forEachRemaining(out::add);
        return out.stream().sorted().toList();
    }
}
