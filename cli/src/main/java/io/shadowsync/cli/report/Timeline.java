package io.shadowsync.cli.report;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's {@code train} records as the job's series: one point per sampling tick (the sampler writes one record per
 * trainer each tick; a tick ends where a trainer already seen in it comes again). At each point: the examples of all
 * trainers (their latest counts added up), the training time (the longest), the interval's training loss (weighted by
 * each trainer's examples of the interval), the window's NE (weighted by the window's examples), the throughput (the
 * trainers' rates added up), the mean round time and the staleness (the stalest trainer) and, where the records
 * carry them, the parameter-server latency percentiles (the slowest trainer's).
 */
final class Timeline {
    /** The series a timeline has, by name: x (examples or seconds) and y arrays of the same length. */
    static final List<String> FIELDS = List.of("examples", "seconds", "loss", "ne", "examples_per_sec", "round_ms", "staleness_ms",
            "ps_p50_ms", "ps_p99_ms", "members");

    private final Map<String, double[]> columns = new LinkedHashMap<>();
    private final int size;

    private Timeline(List<double[]> rows) {
        size = rows.size();
        for (int k = 0; k < FIELDS.size(); k++) {
            double[] c = new double[size];
            for (int i = 0; i < size; i++) c[i] = rows.get(i)[k];
            columns.put(FIELDS.get(k), c);
        }
    }

    static Timeline of(List<Map<String, Object>> train) {
        List<double[]> rows = new ArrayList<>();
        Map<Long, Map<String, Object>> latest = new HashMap<>(); // per trainer: its last record, to carry its examples
        List<Map<String, Object>> tick = new ArrayList<>();
        java.util.Set<Long> inTick = new java.util.HashSet<>();
        for (Map<String, Object> r : train) {
            long t = RunData.number(r, "trainer", -1);
            if (!inTick.add(t)) {
                rows.add(point(tick, latest));
                tick.clear();
                inTick.clear();
                inTick.add(t);
            }
            tick.add(r);
        }
        if (!tick.isEmpty()) rows.add(point(tick, latest));
        return new Timeline(rows);
    }

    private static double[] point(List<Map<String, Object>> tick, Map<Long, Map<String, Object>> latest) {
        double lossSum = 0, lossWeight = 0, neSum = 0, neWeight = 0, rate = 0, roundSum = 0, stale = Double.NaN;
        double p50 = Double.NaN, p99 = Double.NaN, members = Double.NaN, seconds = Double.NaN;
        int rounds = 0;
        for (Map<String, Object> r : tick) {
            long t = RunData.number(r, "trainer", -1);
            Map<String, Object> before = latest.put(t, r);
            double dEx = RunData.value(r, "examples") - (before == null ? 0 : RunData.value(before, "examples"));
            double loss = RunData.value(r, "loss");
            if (!Double.isNaN(loss) && dEx > 0) {
                lossSum += loss * dEx;
                lossWeight += dEx;
            }
            double ne = RunData.value(r, "window_ne"), w = RunData.value(r, "window_examples");
            if (!Double.isNaN(ne) && w > 0) {
                neSum += ne * w;
                neWeight += w;
            }
            double x = RunData.value(r, "examples_per_sec");
            if (!Double.isNaN(x)) rate += x;
            x = RunData.value(r, "round_ms");
            if (!Double.isNaN(x)) {
                roundSum += x;
                rounds++;
            }
            stale = max(stale, RunData.value(r, "staleness_ms"));
            p50 = max(p50, RunData.value(r, "ps_p50_ms"));
            p99 = max(p99, RunData.value(r, "ps_p99_ms"));
            members = max(members, RunData.value(r, "members"));
            seconds = max(seconds, RunData.value(r, "seconds"));
        }
        double examples = 0;
        for (Map<String, Object> r : latest.values()) {
            double e = RunData.value(r, "examples");
            if (!Double.isNaN(e)) examples += e;
        }
        return new double[] {examples, seconds, lossWeight > 0 ? lossSum / lossWeight : Double.NaN, neWeight > 0 ? neSum / neWeight : Double.NaN,
                rate, rounds > 0 ? roundSum / rounds : Double.NaN, stale, p50, p99, members};
    }

    private static double max(double a, double b) {
        if (Double.isNaN(a)) return b;
        return Double.isNaN(b) ? a : Math.max(a, b);
    }

    int size() {
        return size;
    }

    double[] column(String field) {
        double[] c = columns.get(field);
        if (c == null) throw new IllegalArgumentException("no series " + field + " in a timeline (have " + FIELDS + ")");
        return c;
    }
}
