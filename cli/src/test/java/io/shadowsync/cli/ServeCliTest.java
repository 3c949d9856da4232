package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} refuses what it cannot serve before it listens (the command returns instead of serving). */
class ServeCliTest {
    @TempDir
    Path dir;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {String.valueOf(code), err.toString()};
    }

    @Test
    void aModelFileThatDoesNotLoadExits2WithOneSentence() throws Exception {
        Path junk = dir.resolve("junk.model");
        Files.writeString(junk, "not a model\n");
        String[] r = run("serve", "--model-file", junk.toString(), "--port", "0");
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].startsWith("shadowsync serve: ") && r[1].strip().lines().count() == 1, r[1]);
        assertTrue(r[1].contains("junk.model"), r[1]);
        r = run("serve", "--model-file", dir.resolve("missing.model").toString(), "--port", "0");
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("missing.model"), r[1]);
    }

    @Test
    void badFlagsExit2() {
        String[] r = run("serve", "--model-file", "m", "--max-batch", "0");
        assertEquals("2", r[0], r[1]);
    }
}
