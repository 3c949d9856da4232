package io.shadowsync.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Writing small data files in a test's temp dir, and reading them back whole. */
final class TestFiles {
    private TestFiles() {
    }

    static Path write(Path dir, String name, String text) throws IOException {
        return write(dir, name, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes bytes, gzip-compressed when the name ends in .gz. */
    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream out = name.endsWith(".gz") ? new GZIPOutputStream(Files.newOutputStream(file))
                : Files.newOutputStream(file)) {
            out.write(bytes);
        }
        return file;
    }

    /** Reads every example into batches of the given capacity, then copies them into one batch. */
    static Batch readAll(DataSource source, int batchCapacity, int maxExamples) throws IOException {
        DataSchema s = source.schema();
        Batch all = new Batch(maxExamples, s);
        List<Batch> parts = new ArrayList<>();
        try (ExampleReader r = source.open()) {
            for (;;) {
                Batch b = new Batch(batchCapacity, s);
                while (!b.isFull() && r.readInto(b)) {
                    assertTrue(b.size <= batchCapacity);
                }
                if (b.size == 0) break;
                parts.add(b);
            }
            assertTrue(!r.readInto(new Batch(1, s)), "end of data stays the end");
        }
        for (Batch b : parts) {
            for (int i = 0; i < b.size; i++) all.appendFrom(b, i);
        }
        return all;
    }

    /** Asserts that reading the source fails with a DataException whose message holds each of the parts. */
    static DataException assertFails(DataSource source, String... parts) {
        DataException e = assertThrows(DataException.class, () -> readAll(source, 4, 100));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        }
        return e;
    }
}
