package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.cli.report.Report;
import io.shadowsync.cli.report.RunData;
import io.shadowsync.metrics.JsonlMetricsFile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** report: run directories written as train --run-dir writes them, parsed, charted and checked in the HTML. */
class ReportCliTest {
    @TempDir
    Path dir;

    static final Pattern FIGURE = Pattern.compile("<figure class=\"chart\" id=\"([a-z0-9-]+)\" data-lines=\"(\\d+)\"><img[^>]*src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");

    /**
     * A run directory of two trainers and three ticks: at each tick trainer 0 trains 100 examples at loss 1.0 and
     * trainer 1 trains 300 at loss 0.0 (so the job's interval loss is 0.25, their plain mean 0.5); an evaluation per tick.
     */
    static Path runDir(Path root, String name, String algorithm, boolean summary) throws Exception {
        Path d = Files.createDirectories(root.resolve(name));
        StringBuilder lines = new StringBuilder();
        for (int tick = 1; tick <= 3; tick++) {
            for (int t = 0; t < 2; t++) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("type", "train");
                r.put("time", 1_000_000L + tick * 1000L + t);
                r.put("trainer", t);
                r.put("seconds", tick * 1.0);
                r.put("epoch", 1);
                r.put("examples", tick * (t == 0 ? 100L : 300L));
                r.put("examples_per_sec", t == 0 ? 100.0 : 300.0);
                r.put("loss", t == 0 ? 1.0 : 0.0);
                r.put("window_examples", tick * (t == 0 ? 100L : 300L));
                r.put("window_loss", t == 0 ? 1.0 : 0.0);
                r.put("window_ne", t == 0 ? 1.0 : 0.6);
                r.put("rounds", tick * 2L);
                r.put("round_ms", 10.0 + t);
                r.put("staleness_ms", 5.0 * (t + 1));
                r.put("staleness_rounds", 0);
                r.put("bytes_sent", tick * 80L);
                r.put("compression_ratio", 1.0);
                r.put("final", tick == 3);
                lines.append(JsonlMetricsFile.line(r)).append('\n');
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("type", "eval");
            e.put("time", 1_000_000L + tick * 1000L + 500);
            e.put("trainer", 0);
            e.put("seconds", tick * 1.0);
            e.put("examples", tick * 400L);
            e.put("count", 1000);
            e.put("logloss", 0.7 - 0.1 * tick);
            e.put("auc", 0.5 + 0.1 * tick);
            e.put("final", tick == 3);
            lines.append(JsonlMetricsFile.line(e)).append('\n');
        }
        Files.writeString(d.resolve("metrics.jsonl"), lines);
        Files.writeString(d.resolve("job.yaml"), "---\nmodel: \"lr\"\nsync: \"" + algorithm + "\"\ntrainers: 2\n");
        if (summary) {
            Files.writeString(d.resolve("summary.json"), "{\"model\":\"lr\",\"examples\":1200,\"seconds\":3.0,\"examples_per_sec\":400.0,\"trainers\":2,"
                    + "\"workers\":1,\"algorithm\":\"" + algorithm + "\",\"sync\":{\"rounds_per_trainer\":[6,6],\"mean_round_ms\":[10.0,11.0],"
                    + "\"bytes_sent\":[240,240]},\"train_loss\":0.25,\"eval\":{\"count\":1000,\"logloss\":0.4,\"auc\":0.8}}\n");
        }
        return d;
    }

    record Figure(String id, int lines, byte[] png) {}

    static List<Figure> figures(String html) {
        List<Figure> out = new ArrayList<>();
        Matcher m = FIGURE.matcher(html);
        while (m.find()) out.add(new Figure(m.group(1), Integer.parseInt(m.group(2)), Base64.getDecoder().decode(m.group(3))));
        return out;
    }

    @Test
    void twoRunsSideBySideOneLinePerRunInEveryChart() throws Exception {
        Path a = runDir(dir, "a", "s-ma", true), b = runDir(dir, "b", "s-easgd", true);
        Path out = dir.resolve("report.html");
        CliTest.Run r = CliTest.run("report", a.toString(), b.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("warning"), "complete runs give no warning: " + r.err());
        String html = Files.readString(out);
        List<Figure> figs = figures(html);
        List<String> ids = figs.stream().map(Figure::id).toList();
        for (String id : List.of("loss-examples", "loss-time", "ne-examples", "throughput-time", "round-time", "staleness", "eval-logloss", "eval-auc", "throughput-runs")) {
            assertTrue(ids.contains(id), "a chart " + id + " in " + ids);
        }
        assertEquals(ids.size(), html.split("<figure ", -1).length - 1, "every figure is a chart with an embedded PNG");
        for (Figure f : figs) {
            assertEquals(2, f.lines(), "one line (or bar) per run in " + f.id());
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(f.png()));
            assertNotNull(img, f.id() + " decodes as an image");
            assertEquals(Report.WIDTH, img.getWidth(), f.id());
            assertEquals(Report.HEIGHT, img.getHeight(), f.id());
        }
        assertTrue(html.contains("<th>s-ma ×2</th>") && html.contains("<th>s-easgd ×2</th>"), "columns labelled by the summaries' algorithm and trainers");
        assertTrue(html.contains("<td>eval AUC</td><td>0.8000</td><td>0.8000</td>"), "the summary table has the summaries' eval");
        assertFalse(html.contains("src=\"http") || html.contains("<script src") || html.contains("<link "), "self-contained: nothing fetched");
    }

    @Test
    void seriesAreTheJobsWeightedByEachTrainersExamples() throws Exception {
        Report rep = new Report(List.of(RunData.read(runDir(dir, "a", "s-ma", true), w -> {})), List.of());
        Report.Chart loss = chart(rep, "loss-examples");
        assertEquals(1, loss.lines().size());
        Report.Line l = loss.lines().get(0);
        assertEquals("s-ma ×2", l.label());
        assertEquals(List.of(400.0, 800.0, 1200.0), box(l.x()), "x: both trainers' examples added up at each tick");
        for (double y : l.y()) assertEquals(0.25, y, 1e-12, "the interval loss weighted by the trainers' examples (not their plain mean 0.5)");
        for (double y : chart(rep, "throughput-time").lines().get(0).y()) assertEquals(400.0, y, 1e-12, "the trainers' rates added up");
        for (double y : chart(rep, "ne-examples").lines().get(0).y()) assertEquals(0.7, y, 1e-12, "window NE weighted by the windows' examples");
        for (double y : chart(rep, "staleness").lines().get(0).y()) assertEquals(10.0, y, 1e-12, "the stalest trainer");
    }

    static Report.Chart chart(Report r, String id) {
        return r.charts().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow(() -> new AssertionError("no chart " + id));
    }

    static List<Double> box(double[] a) {
        List<Double> out = new ArrayList<>();
        for (double d : a) out.add(d);
        return out;
    }

    @Test
    void aCutOffLastLineAnUnknownKindAndNoSummaryAreWarnings() throws Exception {
        Path a = runDir(dir, "a", "s-ma", false);
        Files.writeString(a.resolve("metrics.jsonl"), "{\"type\":\"dashboard-ping\",\"time\":1}\n{\"type\":\"train\",\"time\":2000000,\"trainer\":0,\"exa",
                java.nio.file.StandardOpenOption.APPEND);
        Path out = dir.resolve("report.html");
        CliTest.Run r = CliTest.run("report", a.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the last line (11) is cut off"), r.err());
        assertTrue(r.err().contains("1 record(s) of unknown kind 'dashboard-ping' skipped"), r.err());
        assertTrue(r.err().contains("has no summary.json"), r.err());
        String html = Files.readString(out);
        assertTrue(html.contains("is cut off"), "the warnings are in the page too");
        assertTrue(html.contains("s-ma ×2"), "without a summary the label comes from job.yaml");
        assertEquals(3, chart(new Report(List.of(RunData.read(a, w -> {})), List.of()), "loss-examples").lines().get(0).x().length,
                "the complete records are all charted, the cut-off one is not");
    }

    @Test
    void whatIsNoRunIsRefusedWithOneSentence() throws Exception {
        Path out = dir.resolve("report.html");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        CliTest.Run r = CliTest.run("report", empty.toString(), "--out", out.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals("shadowsync report: " + empty + " is not a run directory: it has no metrics.jsonl (train --run-dir DIR writes one)", r.err().strip());
        assertFalse(Files.exists(out), "nothing written");

        r = CliTest.run("report", dir.resolve("nope").toString(), "--out", out.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("nope: no such run directory or metrics file"), r.err());

        Path bad = runDir(dir, "bad", "s-ma", true);
        List<String> lines = new ArrayList<>(Files.readAllLines(bad.resolve("metrics.jsonl")));
        lines.set(1, "not json at all");
        Files.write(bad.resolve("metrics.jsonl"), lines);
        r = CliTest.run("report", bad.toString(), "--out", out.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().strip().endsWith("metrics.jsonl line 2 is not a JSON record, so this is not a metrics log (docs/metrics.md)"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one sentence, no stack trace: " + r.err());
        assertFalse(Files.exists(out), "nothing written");
    }
}
