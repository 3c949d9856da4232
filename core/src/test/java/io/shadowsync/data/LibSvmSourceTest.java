package io.shadowsync.data;

import static io.shadowsync.data.TestFiles.assertFails;
import static io.shadowsync.data.TestFiles.readAll;
import static io.shadowsync.data.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibSvmSourceTest {
    @TempDir
    Path dir;

    private static int[] idx(Batch b, int row) {
        return Arrays.copyOfRange(b.sparseIdx, b.sparseOffsets[row], b.sparseOffsets[row + 1]);
    }

    private static float[] val(Batch b, int row) {
        return Arrays.copyOfRange(b.sparseVal, b.sparseOffsets[row], b.sparseOffsets[row + 1]);
    }

    @Test
    void readsBinaryLabelsCommentsQidAndUnorderedIndices() throws IOException {
        String text = "# a comment line\n"
                + "+1 qid:3 7:0.5 2:-1.25e1   10:3 # trailing comment\r\n"
                + "\n"
                + "-1\t1:1\n"
                + "0\n"
                + "1 4:1e-3\n";
        LibSvmSource src = new LibSvmSource(write(dir, "a.svm.gz", text), 2, false, false);
        assertEquals(new DataSchema(0, 0, true, 0, 2), src.schema());
        Batch b = readAll(src, 3, 10);
        assertEquals(4, b.size);
        assertArrayEquals(new float[] {1, 0, 0, 1}, Arrays.copyOf(b.labels, 4));
        assertArrayEquals(new int[] {6, 1, 9}, idx(b, 0));
        assertArrayEquals(new float[] {0.5f, -12.5f, 3f}, val(b, 0));
        assertArrayEquals(new int[] {0}, idx(b, 1));
        assertArrayEquals(new int[0], idx(b, 2));
        assertArrayEquals(new int[] {3}, idx(b, 3));
        assertArrayEquals(new float[] {1e-3f}, val(b, 3));
    }

    @Test
    void zeroBasedMulticlassAndRegressionLabels() throws IOException {
        Path f = write(dir, "m.svm", "2 0:1 5:2\n0 3:1\n");
        Batch b = readAll(new LibSvmSource(f, 3, true, false), 2, 4);
        assertArrayEquals(new float[] {2, 0}, Arrays.copyOf(b.labels, 2));
        assertArrayEquals(new int[] {0, 5}, idx(b, 0));
        Path g = write(dir, "r.svm", "-3.75 1:1\n1e2 1:2\n");
        b = readAll(new LibSvmSource(g, 0, false, false), 2, 4);
        assertArrayEquals(new float[] {-3.75f, 100f}, Arrays.copyOf(b.labels, 2));
        assertFails(new LibSvmSource(f, 2, true, false), f + ":1: ", "label must be 0 or 1 (or -1 or +1), got '2'");
        assertFails(new LibSvmSource(f, 0 + 2, false, false), f + ":1: ");
    }

    @Test
    void growsTheSparseArraysForLongRows() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < 3; row++) {
            sb.append(row % 2);
            for (int k = 1; k <= 100; k++) sb.append(' ').append(k * 3 + row).append(':').append(k);
            sb.append('\n');
        }
        Path f = write(dir, "long.svm", sb.toString());
        try (ExampleReader r = new LibSvmSource(f, 2, false, false, 64).open()) {
            Batch b = new Batch(2, 0, 0, true); // room for 32 entries at first
            while (!b.isFull() && r.readInto(b)) { }
            assertEquals(2, b.size);
            assertEquals(200, b.sparseOffsets[2]);
            for (int row = 0; row < 2; row++) {
                for (int k = 1; k <= 100; k++) {
                    assertEquals(k * 3 + row - 1, b.sparseIdx[row * 100 + k - 1]);
                    assertEquals(k, b.sparseVal[row * 100 + k - 1]);
                }
            }
        }
    }

    @Test
    void malformedLinesFailWithFileLineAndReason() throws IOException {
        String[][] cases = {
            {"x 1:1", "label must be 0 or 1 (or -1 or +1), got 'x'"},
            {"1 0:1", "feature index must be >= 1 (indices are 1-based), got '0:1'"},
            {"1 -3:1", "feature index is not a non-negative integer: '-3:1'"},
            {"1 3", "expected index:value, got '3'"},
            {"1 :4", "expected index:value, got ':4'"},
            {"1 3:abc", "feature value is not a finite number: '3:abc'"},
            {"1 3:1e99", "feature value is not a finite number: '3:1e99'"},
            {"1 qid:x 3:1", "qid must be a non-negative integer, got 'qid:x'"},
        };
        for (int c = 0; c < cases.length; c++) {
            Path f = write(dir, "bad" + c + ".svm", "1 1:1\n# note\n" + cases[c][0] + "\n0 2:2\n");
            DataException e = assertFails(new LibSvmSource(f, 2, false, false), f + ":3: ", cases[c][1]);
            assertEquals(3, e.line());
        }
    }

    @Test
    void skipBadLinesCountsThemAndEmptyInputIsAnError() throws IOException {
        Path f = write(dir, "s.svm", "1 1:1\n7 1:1\n1 x\n0 2:2\n");
        try (ExampleReader r = new LibSvmSource(f, 2, false, true).open()) {
            Batch b = new Batch(8, 0, 0, true);
            while (r.readInto(b)) { }
            assertEquals(2, b.size);
            assertEquals(2, r.skippedLines());
        }
        Path comments = write(dir, "c.svm", "# nothing here\n\n");
        assertFails(new LibSvmSource(comments, 2, false, true), comments + ": no examples");
        Path empty = write(dir, "e.svm", "");
        assertFails(new LibSvmSource(empty, 2, false, true), empty + ": empty file");
    }

    @Test
    void refusesAClassCountOfOne() {
        assertThrows(IllegalArgumentException.class, () -> new LibSvmSource(dir.resolve("x"), 1, false, false));
    }
}
