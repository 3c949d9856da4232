package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every trial of a search, and the best: the trial that trained its whole budget with the best objective value
 * (trials stopped early were measured on less training, failed ones not at all).
 *
 * @param objective what was optimized
 * @param trials    every trial, by number
 * @param seconds   wall time of the whole search
 */
public record TuningResult(Objective objective, List<TrialResult> trials, double seconds) {
    public TuningResult {
        trials = List.copyOf(trials);
    }

    /** The trials best first: those done by objective value, then those stopped early by value, then those that failed. */
    public List<TrialResult> ranked() {
        List<TrialResult> r = new ArrayList<>(trials);
        Comparator<TrialResult> byStatus = Comparator.comparing(TrialResult::status);
        Comparator<TrialResult> byLoss = Comparator.comparingDouble(t -> Double.isNaN(t.value()) ? Double.POSITIVE_INFINITY : objective.loss(t.value()));
        r.sort(byStatus.thenComparing(byLoss).thenComparingInt(TrialResult::number));
        return r;
    }

    /** The best trial that trained its whole budget, or null when none did. */
    public TrialResult best() {
        for (TrialResult t : ranked()) if (t.status() == TrialResult.Status.DONE && !Double.isNaN(t.value())) return t;
        return null;
    }

    /** The ranked trials as a text table (rank, trial, status, the metric, examples, seconds, parameters). */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%4s %5s %-8s %10s %11s %8s  %s%n", "rank", "trial", "status", objective.metric(), "examples", "seconds", "params"));
        int rank = 1;
        for (TrialResult t : ranked()) {
            StringBuilder p = new StringBuilder();
            for (Map.Entry<String, Object> e : t.params().entrySet()) {
                if (p.length() > 0) p.append(' ');
                p.append(e.getKey()).append('=').append(format(e.getValue()));
            }
            String value = Double.isNaN(t.value()) ? "-" : String.format(Locale.ROOT, "%.4f", t.value());
            sb.append(String.format(Locale.ROOT, "%4d %5d %-8s %10s %,11d %8.1f  %s%n", rank++, t.number(),
                    t.status().name().toLowerCase(Locale.ROOT), value, t.examples(), t.seconds(), p));
        }
        return sb.toString();
    }

    private static String format(Object v) {
        if (v instanceof Double d) return String.format(Locale.ROOT, "%.4g", d);
        return String.valueOf(v).replace(" ", "");
    }
}
