package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineScannerTest {
    @TempDir
    Path dir;

    private static List<String> scan(Path f, int bufferBytes) throws IOException {
        List<String> out = new ArrayList<>();
        try (LineScanner s = new LineScanner(f, bufferBytes)) {
            while (s.next()) {
                assertEquals(out.size() + 1, s.lineNo);
                out.add(new String(s.buf, s.start, s.end - s.start, StandardCharsets.UTF_8));
            }
            assertFalse(s.next());
            assertTrue(s.atEnd());
        }
        return out;
    }

    @Test
    void randomLinesSurviveEveryBufferSize() throws IOException {
        Random rnd = new Random(1);
        List<String> lines = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            StringBuilder l = new StringBuilder();
            int len = rnd.nextInt(10) == 0 ? rnd.nextInt(200) : rnd.nextInt(12);
            for (int k = 0; k < len; k++) l.append((char) ('a' + rnd.nextInt(26)));
            lines.add(l.toString());
            text.append(l).append(rnd.nextBoolean() ? "\r\n" : "\n");
        }
        Path f = TestFiles.write(dir, "t.txt", text.toString());
        Path gz = TestFiles.write(dir, "t.txt.gz", text.toString());
        for (int bufferBytes : new int[] {16, 17, 64, 1000, 1 << 20}) {
            assertEquals(lines, scan(f, bufferBytes), "buffer " + bufferBytes);
            assertEquals(lines, scan(gz, bufferBytes), "gzip, buffer " + bufferBytes);
        }
    }

    @Test
    void lastLineWithoutNewlineAndLoneCarriageReturns() throws IOException {
        Path f = TestFiles.write(dir, "x.txt", "a\r\rb\n\nlast\r");
        assertEquals(List.of("a\r\rb", "", "last"), scan(f, 16));
    }

    @Test
    void newlineSearchFindsTheFirstMatchAtEveryOffset() {
        byte[] b = new byte[40];
        for (int at = 0; at < b.length; at++) {
            Arrays.fill(b, (byte) 'x');
            b[at] = '\n';
            if (at + 3 < b.length) b[at + 3] = '\n';
            for (int from = 0; from <= at; from++) assertEquals(at, LineScanner.indexOfNewline(b, from, b.length));
            assertEquals(-1, LineScanner.indexOfNewline(b, 0, at));
        }
        // a byte that differs from '\n' only in the top bit is not a newline
        assertEquals(-1, LineScanner.indexOfNewline(new byte[] {(byte) 0x8a, 0, 11, 9, (byte) 0x8a, 1, 2, 3, 4}, 0, 9));
    }
}
