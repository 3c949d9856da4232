package io.shadowsync.tune;

import io.shadowsync.metrics.Metrics;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one trial of a search did.
 *
 * @param number    the trial's number, from 1, in the order trials were proposed
 * @param params    its parameters
 * @param status    {@link Status#DONE} (trained its whole budget), {@link Status#STOPPED} (stopped early by ASHA, and
 *                  evaluated where it stopped) or {@link Status#FAILED}
 * @param eval      its metrics on the evaluation data after training, or null when it failed
 * @param value     the objective's metric in eval (NaN when failed)
 * @param examples  examples trained
 * @param seconds   wall time of the trial, evaluation included
 * @param stoppedAt the examples at the rung where ASHA stopped it (0 when it was not)
 * @param error     why it failed, or null
 * @param dir       its run directory (metrics.jsonl, summary.json), or null without one
 */
public record TrialResult(int number, Map<String, Object> params, Status status, Metrics eval, double value, long examples,
                          double seconds, long stoppedAt, String error, Path dir) {
    public enum Status { DONE, STOPPED, FAILED }

    /** As a JSON object: trial, params, status, eval, examples, seconds, and stopped_at or error when they apply. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trial", number);
        m.put("params", params);
        m.put("status", status.name().toLowerCase(java.util.Locale.ROOT));
        m.put("eval", eval == null ? null : eval.toMap());
        m.put("examples", examples);
        m.put("seconds", Math.round(seconds * 1000) / 1000.0);
        if (stoppedAt > 0) m.put("stopped_at", stoppedAt);
        if (error != null) m.put("error", error);
        return m;
    }
}
