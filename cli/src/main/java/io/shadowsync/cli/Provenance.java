package io.shadowsync.cli;

import io.shadowsync.data.DataSource;
import io.shadowsync.sync.SyncAlgorithms;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * How a saved model came to be, as the CLI records it: core's {@link io.shadowsync.api.Provenance} (version, time,
 * algorithm and job size, the training data and its fingerprint, the job's settings, the metrics of the summary),
 * with the command line, the job file and the JSON summary besides. Stored in the model file and printed by
 * {@code shadowsync eval}.
 */
final class Provenance {
    private Provenance() {}

    /** Without the job's settings (a partial model, a multi-process trainer). */
    static Map<String, String> of(CommandSpec spec, Path jobFile, DataSource train, Map<String, Object> summary) {
        return of(spec, jobFile, train, summary, Map.of());
    }

    static Map<String, String> of(CommandSpec spec, Path jobFile, DataSource train, Map<String, Object> summary, Map<String, String> settings) {
        Map<String, String> other = new LinkedHashMap<>();
        other.put("jvm", Runtime.version().toString());
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        other.put("command", "shadowsync " + String.join(" ", args));
        if (jobFile != null) {
            other.put("job_file", jobFile.toAbsolutePath().toString());
            try {
                other.put("job_file_content", Files.readString(jobFile));
            } catch (IOException e) {
                other.put("job_file_content", "(unreadable: " + e.getMessage() + ")");
            }
        }
        other.put("summary", Json.line(summary));
        String fingerprint = null;
        if (train != null) {
            try {
                fingerprint = train.fingerprint();
            } catch (IOException | RuntimeException e) {
                fingerprint = "(unavailable: " + Main.describe(e) + ")";
            }
        }
        Map<String, Double> metrics = io.shadowsync.api.Provenance.metricsOf(summary);
        return new io.shadowsync.api.Provenance(Version.get(), Instant.now(), String.valueOf(summary.getOrDefault("algorithm", SyncAlgorithms.NONE)),
                count(summary.get("trainers")), count(summary.get("workers")), train == null ? null : train.describe(), fingerprint,
                settings, metrics, other).toMap();
    }

    private static int count(Object o) {
        return o instanceof Number n && n.intValue() > 0 ? n.intValue() : 1;
    }
}
