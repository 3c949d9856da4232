package io.shadowsync.cli.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Several runs side by side: the charts (one line per run, labelled by its algorithm and trainers) and the summary
 * table, as one self-contained HTML page whose charts are PNG images inside it (base64 data URIs). Rendering needs no
 * display: {@link #pngOf} runs with {@code java.awt.headless=true}.
 */
public final class Report {
    /** The charts' size in pixels. */
    public static final int WIDTH = 800, HEIGHT = 420;

    /** A line of a chart: one run's points (x ascending as the run went; no NaN). */
    public record Line(String label, double[] x, double[] y) {}

    /** A chart: lines over a shared x axis, or ({@code bars}) one bar per line, its single y. */
    public record Chart(String id, String title, String xLabel, String yLabel, List<Line> lines, boolean bars, boolean logXY) {
        /** A chart on linear axes. */
        public Chart(String id, String title, String xLabel, String yLabel, List<Line> lines, boolean bars) {
            this(id, title, xLabel, yLabel, lines, bars, false);
        }
    }

    private final List<RunData> runs;
    private final List<String> warnings;
    private final List<Chart> charts;

    /** The report of runs (their labels made unique here), with the warnings their reading gave. */
    public Report(List<RunData> runs, List<String> warnings) {
        this.runs = uniqueLabels(runs);
        this.warnings = List.copyOf(warnings);
        this.charts = charts(this.runs);
    }

    public List<Chart> charts() {
        return charts;
    }

    public List<RunData> runs() {
        return runs;
    }

    /** Two runs of one label (the same algorithm and trainers) are told apart by their directories' names. */
    private static List<RunData> uniqueLabels(List<RunData> runs) {
        Map<String, Integer> count = new HashMap<>();
        for (RunData r : runs) count.merge(r.label(), 1, Integer::sum);
        List<RunData> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (RunData r : runs) {
            String l = count.get(r.label()) > 1 ? r.label() + " (" + r.name() + ")" : r.label();
            int k = seen.merge(l, 1, Integer::sum);
            out.add(r.withLabel(k > 1 ? l + " #" + k : l)); // the same directory twice
        }
        return out;
    }

    /** The evaluation metrics charted, those any run has. */
    static final List<String> EVAL_METRICS = List.of("logloss", "auc", "ne", "accuracy", "rmse", "mae");

    private static List<Chart> charts(List<RunData> runs) {
        Map<RunData, Timeline> lines = new LinkedHashMap<>();
        for (RunData r : runs) lines.put(r, Timeline.of(r.train()));
        List<Chart> out = new ArrayList<>();
        xy(out, lines, "loss-examples", "Training loss over examples", "examples (all trainers)", "loss (interval mean)", "examples", "loss");
        xy(out, lines, "loss-time", "Training loss over time", "training time (s)", "loss (interval mean)", "seconds", "loss");
        xy(out, lines, "ne-examples", "Normalized entropy of the training window", "examples (all trainers)", "NE", "examples", "ne");
        xy(out, lines, "throughput-time", "Throughput", "training time (s)", "examples/s (all trainers)", "seconds", "examples_per_sec");
        xy(out, lines, "round-time", "Sync round time", "training time (s)", "ms (mean over trainers)", "seconds", "round_ms");
        xy(out, lines, "staleness", "Staleness: time since the last round ended", "training time (s)", "ms (the stalest trainer)", "seconds", "staleness_ms");
        xy(out, lines, "ps-latency", "Parameter-server call latency, 99th percentile", "training time (s)", "ms (the slowest trainer)", "seconds", "ps_p99_ms");
        xy(out, lines, "members", "Trainers in the job (elastic)", "training time (s)", "members", "seconds", "members");
        for (String metric : EVAL_METRICS) {
            List<Line> ls = new ArrayList<>();
            for (RunData r : runs) {
                List<double[]> pts = new ArrayList<>();
                for (Map<String, Object> e : r.eval()) {
                    double x = RunData.value(e, "examples"), y = RunData.value(e, metric);
                    if (!Double.isNaN(x) && !Double.isNaN(y) && !e.containsKey("error")) pts.add(new double[] {x, y});
                }
                if (!pts.isEmpty()) ls.add(line(r.label(), pts));
            }
            if (!ls.isEmpty()) out.add(new Chart("eval-" + metric, "Evaluation: " + metric, "examples (all trainers)", metric, ls, false));
        }
        List<Line> bars = new ArrayList<>();
        for (Map.Entry<RunData, Timeline> e : lines.entrySet()) {
            double rate = throughput(e.getKey(), e.getValue());
            if (!Double.isNaN(rate)) bars.add(new Line(e.getKey().label(), new double[] {0}, new double[] {rate}));
        }
        if (!bars.isEmpty()) out.add(new Chart("throughput-runs", "Throughput per run (whole job)", "run", "examples/s", bars, true));
        return List.copyOf(out);
    }

    /** The job's throughput: the summary's, else the last records' examples over their time. */
    private static double throughput(RunData r, Timeline t) {
        if (r.summary().get("examples_per_sec") instanceof Number n) return n.doubleValue();
        if (t.size() == 0) return Double.NaN;
        double ex = t.column("examples")[t.size() - 1], s = t.column("seconds")[t.size() - 1];
        return s > 0 ? ex / s : Double.NaN;
    }

    private static void xy(List<Chart> out, Map<RunData, Timeline> runs, String id, String title, String xLabel, String yLabel, String x, String y) {
        List<Line> ls = new ArrayList<>();
        for (Map.Entry<RunData, Timeline> e : runs.entrySet()) {
            Timeline t = e.getValue();
            double[] xs = t.column(x), ys = t.column(y);
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < t.size(); i++) if (!Double.isNaN(xs[i]) && !Double.isNaN(ys[i])) pts.add(new double[] {xs[i], ys[i]});
            if (!pts.isEmpty()) ls.add(line(e.getKey().label(), pts));
        }
        if (!ls.isEmpty()) out.add(new Chart(id, title, xLabel, yLabel, ls, false));
    }

    private static Line line(String label, List<double[]> pts) {
        double[] x = new double[pts.size()], y = new double[pts.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = pts.get(i)[0];
            y[i] = pts.get(i)[1];
        }
        return new Line(label, x, y);
    }

    /** The chart as a PNG image of {@link #WIDTH} × {@link #HEIGHT} pixels. */
    public static byte[] pngOf(Chart c) {
        try {
            if (c.bars()) {
                CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(c.title()).xAxisTitle(c.xLabel()).yAxisTitle(c.yLabel()).build();
                chart.getStyler().setLegendVisible(false);
                chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
                List<String> names = new ArrayList<>();
                List<Double> values = new ArrayList<>();
                for (Line l : c.lines()) {
                    names.add(l.label());
                    values.add(l.y()[0]);
                }
                chart.addSeries(c.yLabel(), names, values);
                return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            }
            XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(c.title()).xAxisTitle(c.xLabel()).yAxisTitle(c.yLabel()).build();
            chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
            chart.getStyler().setMarkerSize(4);
            chart.getStyler().setXAxisDecimalPattern("#,##0.##"); // 200,000 rather than 2E5
            if (c.logXY()) {
                chart.getStyler().setXAxisLogarithmic(true);
                chart.getStyler().setYAxisLogarithmic(true);
            }
            for (Line l : c.lines()) chart.addSeries(l.label(), l.x(), l.y()).setMarker(SeriesMarkers.CIRCLE);
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the chart " + c.id() + " as PNG: " + e.getMessage(), e);
        }
    }

    /** The table's rows: a heading and how to read it off a run's summary (null: not there). */
    private static final List<Map.Entry<String, Function<Map<String, Object>, Object>>> ROWS = List.of(
            row("model", s -> s.get("model")),
            row("algorithm", s -> s.get("algorithm")),
            row("trainers × workers", s -> s.get("trainers") == null ? null : s.get("trainers") + " × " + s.get("workers")),
            row("examples", s -> s.get("examples")),
            row("training time (s)", s -> s.get("seconds")),
            row("examples/s", s -> s.get("examples_per_sec")),
            row("train loss", s -> s.get("train_loss")),
            row("train window NE", s -> nested(s, "train_window", "ne")),
            row("eval logloss", s -> nested(s, "eval", "logloss")),
            row("eval NE", s -> nested(s, "eval", "ne")),
            row("eval AUC", s -> nested(s, "eval", "auc")),
            row("eval accuracy", s -> nested(s, "eval", "accuracy")),
            row("eval RMSE", s -> nested(s, "eval", "rmse")),
            row("rounds per trainer (mean)", s -> mean(nested(s, "sync", "rounds_per_trainer"))),
            row("round time (ms, mean)", s -> mean(nested(s, "sync", "mean_round_ms"))),
            row("bytes sent (all trainers)", s -> sum(nested(s, "sync", "bytes_sent"))),
            row("worker wait fraction", s -> s.get("worker_wait_fraction")),
            row("membership changes", s -> nested(s, "membership", "changes") instanceof List<?> l ? l.size() : null));

    private static Map.Entry<String, Function<Map<String, Object>, Object>> row(String heading, Function<Map<String, Object>, Object> f) {
        return Map.entry(heading, f);
    }

    private static Object nested(Map<String, Object> s, String outer, String inner) {
        return s.get(outer) instanceof Map<?, ?> m ? m.get(inner) : null;
    }

    private static Object mean(Object list) {
        if (!(list instanceof List<?> l) || l.isEmpty()) return null;
        double sum = 0;
        for (Object o : l) if (o instanceof Number n) sum += n.doubleValue(); else return null;
        return sum / l.size();
    }

    private static Object sum(Object list) {
        if (!(list instanceof List<?> l) || l.isEmpty()) return null;
        long sum = 0;
        for (Object o : l) if (o instanceof Number n) sum += n.longValue(); else return null;
        return sum;
    }

    /** The whole page: runs, warnings, summary table, then every chart as an embedded PNG. */
    public String html(String generatedAt) {
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>shadowsync report</title>\n<style>")
                .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
                .append("th:first-child,td:first-child{text-align:left}figure{display:inline-block;margin:1em}.warn{color:#a40}</style></head><body>\n")
                .append("<h1>shadowsync report</h1>\n<p>").append(esc(generatedAt)).append(": ").append(runs.size()).append(" run(s)</p>\n<ul>\n");
        for (RunData r : runs) h.append("<li><b>").append(esc(r.label())).append("</b>: ").append(esc(r.path().toString())).append("</li>\n");
        h.append("</ul>\n");
        if (!warnings.isEmpty()) {
            h.append("<h2>Warnings</h2>\n<ul class=\"warn\">\n");
            for (String w : warnings) h.append("<li>").append(esc(w)).append("</li>\n");
            h.append("</ul>\n");
        }
        h.append("<h2>Summary</h2>\n<table id=\"summary\"><tr><th></th>");
        for (RunData r : runs) h.append("<th>").append(esc(r.label())).append("</th>");
        h.append("</tr>\n");
        for (Map.Entry<String, Function<Map<String, Object>, Object>> row : ROWS) {
            List<Object> cells = new ArrayList<>();
            boolean any = false;
            for (RunData r : runs) {
                Object v = row.getValue().apply(r.summary());
                cells.add(v);
                any |= v != null;
            }
            if (!any) continue;
            h.append("<tr><td>").append(esc(row.getKey())).append("</td>");
            for (Object v : cells) h.append("<td>").append(esc(format(v))).append("</td>");
            h.append("</tr>\n");
        }
        h.append("</table>\n<h2>Charts</h2>\n");
        if (charts.isEmpty()) h.append("<p>No run has records to chart.</p>\n");
        for (Chart c : charts) {
            h.append("<figure class=\"chart\" id=\"").append(c.id()).append("\" data-lines=\"").append(c.lines().size()).append("\">")
                    .append("<img width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT).append("\" alt=\"").append(esc(c.title()))
                    .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(pngOf(c))).append("\">")
                    .append("<figcaption>").append(esc(c.title())).append("</figcaption></figure>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) return String.format(Locale.ROOT, "%,d", (long) d);
            return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%,.1f", d) : String.format(Locale.ROOT, "%.4g", d);
        }
        if (v instanceof Number n) return String.format(Locale.ROOT, "%,d", n.longValue());
        return v.toString();
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
