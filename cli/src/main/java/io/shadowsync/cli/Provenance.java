package io.shadowsync.cli;

import io.shadowsync.data.DataSource;
import io.shadowsync.sync.SyncAlgorithms;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import picocli.CommandLine.Model.CommandSpec;

/**
 * How a saved model came to be: the command line and job file, the data it saw (path, size, modification
 * time and a checksum of its first MiB), the algorithm and its result. Stored in the model file and printed by
 * {@code shadowsync eval}.
 */
final class Provenance {
    private Provenance() {}

    static Map<String, String> of(CommandSpec spec, Path jobFile, DataSource train, Map<String, Object> summary) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("shadowsync_version", Version.get());
        p.put("created", Instant.now().toString());
        p.put("jvm", Runtime.version().toString());
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        p.put("command", "shadowsync " + String.join(" ", args));
        if (jobFile != null) {
            p.put("job_file", jobFile.toAbsolutePath().toString());
            try {
                p.put("job_file_content", Files.readString(jobFile));
            } catch (IOException e) {
                p.put("job_file_content", "(unreadable: " + e.getMessage() + ")");
            }
        }
        if (train != null) {
            p.put("train_data", train.describe());
            p.put("train_data_fingerprint", fingerprint(train.describe()));
        }
        p.put("algorithm", "sync " + summary.getOrDefault("algorithm", SyncAlgorithms.NONE) + ", " + summary.getOrDefault("trainers", 1)
                + " trainer(s) x " + summary.getOrDefault("workers", 1) + " Hogwild worker(s)");
        p.put("summary", Json.line(summary));
        return p;
    }

    /** size, mtime and CRC32C of the first MiB of the file named in a source description ("fmt:/path"). */
    static String fingerprint(String describe) {
        int colon = describe.indexOf(':');
        Path path = Path.of(colon >= 0 ? describe.substring(colon + 1) : describe);
        try {
            long size = Files.size(path);
            CRC32C crc = new CRC32C();
            try (InputStream in = Files.newInputStream(path)) {
                crc.update(in.readNBytes(1 << 20));
            }
            return "size=" + size + " mtime=" + Files.getLastModifiedTime(path) + " crc32c(first MiB)=" + Long.toHexString(crc.getValue());
        } catch (IOException | RuntimeException e) {
            return "(unavailable: " + e.getMessage() + ")";
        }
    }
}
