package io.shadowsync.data;

import static io.shadowsync.data.TestFiles.assertFails;
import static io.shadowsync.data.TestFiles.readAll;
import static io.shadowsync.data.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriteoTsvSourceTest {
    @TempDir
    Path dir;

    /** A well-formed line: counts i*k (k = 1..13), ids 0x100*k + i. */
    private static String line(int label, int i) {
        StringBuilder sb = new StringBuilder().append(label);
        for (int k = 1; k <= 13; k++) sb.append('\t').append(i * k);
        for (int k = 1; k <= 26; k++) sb.append('\t').append(String.format("%08x", 0x100 * k + i));
        return sb.append('\n').toString();
    }

    private static String lines(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(line(i % 2, i));
        return sb.toString();
    }

    private static void assertLine(Batch b, int row, int label, int i) {
        assertEquals(label, b.labels[row]);
        for (int k = 1; k <= 13; k++) assertEquals((float) Math.log1p(i * k), b.dense[row * 13 + k - 1], "dense " + k);
        for (int k = 1; k <= 26; k++) assertEquals(0x100 * k + i, b.cat[row * 26 + k - 1], "cat " + k);
    }

    @Test
    void readsLinesIntoBatchesThatFillExactly() throws IOException {
        Path f = write(dir, "a.tsv", lines(12));
        CriteoTsvSource src = new CriteoTsvSource(f, false);
        assertEquals(DataSchema.CRITEO, src.schema());
        try (ExampleReader r = src.open()) {
            Batch b = new Batch(4, DataSchema.CRITEO);
            for (int batch = 0; batch < 3; batch++) {
                b.clear();
                while (!b.isFull() && r.readInto(b)) { }
                assertEquals(4, b.size, "batch " + batch);
                for (int j = 0; j < 4; j++) assertLine(b, j, (batch * 4 + j) % 2, batch * 4 + j);
            }
            b.clear();
            assertFalse(r.readInto(b));
            assertEquals(0, b.size, "end of data leaves the batch unchanged");
            assertFalse(r.readInto(b));
            assertEquals(0, r.skippedLines());
        }
    }

    @Test
    void aBatchWithSparseArraysGetsEmptySparseParts() throws IOException {
        try (ExampleReader r = new CriteoTsvSource(write(dir, "a.tsv", lines(3)), false).open()) {
            Batch b = new Batch(4, 13, 26, true);
            b.sparseOffsets[2] = 99; // stale
            while (r.readInto(b)) { }
            assertEquals(3, b.size);
            assertEquals(0, b.sparseOffsets[3]);
            assertEquals(0, b.sparseOffsets[2]);
            assertLine(b, 2, 0, 2);
        }
    }

    @Test
    void refusesAFullBatch() throws IOException {
        Path f = write(dir, "a.tsv", lines(3));
        try (ExampleReader r = new CriteoTsvSource(f, false).open()) {
            Batch b = new Batch(1, DataSchema.CRITEO);
            assertTrue(r.readInto(b));
            assertThrows(IllegalStateException.class, () -> r.readInto(b));
        }
    }

    @Test
    void emptyFieldsAreMissingNegativeCountsAreZeroAndIdsKeep32Bits() throws IOException {
        String l = "1\t\t-5\t+7" + "\t".repeat(11) + "ffffffff\t\t7\tABCdef01" + "\t".repeat(22) + "\r\n";
        Batch b = readAll(new CriteoTsvSource(write(dir, "m.tsv", l), false), 4, 4);
        assertEquals(1, b.size);
        assertEquals(1f, b.labels[0]);
        assertEquals(0f, b.dense[0]);
        assertEquals(0f, b.dense[1]);
        assertEquals((float) Math.log1p(7), b.dense[2]);
        assertEquals(0xffffffff, b.cat[0]);
        assertEquals(0, b.cat[1]);
        assertEquals(7, b.cat[2]);
        assertEquals(0xabcdef01, b.cat[3]);
        assertEquals(0, b.cat[25]);
    }

    @Test
    void denseIsLog1pOfTheCountInDoubleThenCastAlsoBeyondTheTable() throws IOException {
        long[] counts = {0, 1, 4095, 4096, 123_456_789, 9_000_000_000L};
        StringBuilder sb = new StringBuilder("0");
        for (int k = 0; k < 13; k++) sb.append('\t').append(counts[k % counts.length]);
        sb.append("\t0".repeat(26)).append('\n');
        Batch b = readAll(new CriteoTsvSource(write(dir, "c.tsv", sb.toString()), false), 1, 1);
        for (int k = 0; k < 13; k++) assertEquals((float) Math.log1p(counts[k % counts.length]), b.dense[k], "count " + k);
    }

    @Test
    void readsGzipCrlfAndALastLineWithoutNewline() throws IOException {
        String text = lines(5).replace("\n", "\r\n");
        text = text.substring(0, text.length() - 2);
        Batch b = readAll(new CriteoTsvSource(write(dir, "a.tsv.gz", text), false), 3, 10);
        assertEquals(5, b.size);
        for (int i = 0; i < 5; i++) assertLine(b, i, i % 2, i);
    }

    @Test
    void linesCrossingSmallBufferBoundariesParseRight() throws IOException {
        // ~100-byte lines through a 64-byte buffer (grown to fit a line) and a 300-byte one (lines straddle refills)
        Random rnd = new Random(5);
        StringBuilder sb = new StringBuilder();
        int n = 200;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(2);
            sb.append(line(labels[i], i));
        }
        Path f = write(dir, "long.tsv", sb.toString());
        for (int bufferBytes : new int[] {64, 300, 4096}) {
            Batch b = readAll(new CriteoTsvSource(f, false, bufferBytes), 7, n);
            assertEquals(n, b.size, "buffer " + bufferBytes);
            for (int i = 0; i < n; i++) assertLine(b, i, labels[i], i);
        }
    }

    @Test
    void malformedLinesFailWithFileLineAndReason() throws IOException {
        String good = line(0, 1);
        String[][] cases = {
            {"0\t1\t2\n", "expected 40 tab-separated fields (label, 13 integer, 26 categorical), got 3"},
            {good.replace("\n", "\t5\n"), "got 41"},
            {"\n", "got 1"},
            {"2" + good.substring(1), "label must be 0 or 1, got '2'"},
            {"10" + good.substring(1), "label must be 0 or 1, got '10'"},
            {good.replaceFirst("\t3\t", "\tx3\t"), "integer field 3 is not an integer: 'x3'"},
            {good.replaceFirst("\t3\t", "\t-\t"), "integer field 3 is not an integer: '-'"},
            {good.replaceFirst("\t3\t", "\t1234567890123456789\t"), "integer field 3 has more than 18 digits: '1234567890123456789'"},
            {good.replace("00000701", "xyz"), "categorical field 7 is not hex: 'xyz'"},
            {good.replace("00000701", "100000701"), "categorical field 7 has more than 8 hex digits: '100000701'"},
        };
        for (int c = 0; c < cases.length; c++) {
            Path f = write(dir, "bad" + c + ".tsv", good + good + cases[c][0] + good);
            DataException e = assertFails(new CriteoTsvSource(f, false), f.toString() + ":3: ", cases[c][1]);
            assertEquals(3, e.line(), cases[c][1]);
            assertEquals(f.toString(), e.file());
        }
    }

    @Test
    void skipBadLinesSkipsAndCounts() throws IOException {
        String good = line(1, 2);
        Path f = write(dir, "skip.tsv", "junk\n" + good + "2" + good.substring(1) + good + "0\t1\n");
        try (ExampleReader r = new CriteoTsvSource(f, true).open()) {
            Batch b = new Batch(10, DataSchema.CRITEO);
            while (r.readInto(b)) { }
            assertEquals(2, b.size);
            assertLine(b, 0, 1, 2);
            assertLine(b, 1, 1, 2);
            assertEquals(3, r.skippedLines());
        }
    }

    @Test
    void missingEmptyAndNonGzipFilesAreRefusedUpFront() throws IOException {
        Path missing = dir.resolve("nope.tsv");
        DataException e = assertThrows(DataException.class, () -> new CriteoTsvSource(missing, false).open());
        assertEquals(missing + ": no such file", e.getMessage());
        Path empty = write(dir, "empty.tsv", "");
        e = assertThrows(DataException.class, () -> new CriteoTsvSource(empty, true).open());
        assertEquals(empty + ": empty file", e.getMessage());
        Path emptyGz = write(dir, "empty.tsv.gz", "");
        e = assertThrows(DataException.class, () -> new CriteoTsvSource(emptyGz, true).open());
        assertEquals(emptyGz + ": empty file", e.getMessage());
        Path fakeGz = Files.writeString(dir.resolve("fake.tsv.gz"), lines(1)); // plain text under a .gz name
        e = assertThrows(DataException.class, () -> new CriteoTsvSource(fakeGz, false).open());
        assertTrue(e.getMessage().contains("not a gzip file"), e.getMessage());
    }

    @Test
    void truncatedGzipIsAnErrorNotAShortFile() throws IOException {
        Path whole = write(dir, "whole.tsv.gz", lines(2000));
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = write(dir, "cut.tsv", Arrays.copyOf(bytes, bytes.length / 2)); // gzip bytes, found by their magic
        assertFails(new CriteoTsvSource(cut, false), cut.toString(), "truncated or corrupt gzip data");
    }
}
