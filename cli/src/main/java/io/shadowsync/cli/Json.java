package io.shadowsync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;

/** One-line JSON for summaries (the last line on stdout). */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /**
     * Prints the summary as the last line on out and, when file is given, writes it there too (atomically; a special
     * file such as /dev/null in place; "-" or /dev/stdout is stdout, which has it already; /dev/stderr goes through System.err).
     */
    static void emit(java.io.PrintWriter out, java.nio.file.Path file, Map<String, ?> summary) throws java.io.IOException {
        String json = line(summary);
        if (Outputs.isStderr(file)) {
            System.err.println(json);
            System.err.flush();
        } else if (file != null && !Outputs.isStdout(file)) {
            io.shadowsync.ckpt.AtomicFiles.writeString(file, json + "\n");
        }
        out.println(json);
        out.flush();
    }

    static String line(Map<String, ?> value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("summary is not serializable: " + e.getMessage(), e);
        }
    }
}
