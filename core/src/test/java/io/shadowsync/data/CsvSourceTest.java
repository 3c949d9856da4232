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
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvSourceTest {
    @TempDir
    Path dir;

    @Test
    void labelColumnByNameOtherColumnsAreFeaturesInOrder() throws IOException {
        String text = "\"a\",\"y\", b ,c\r\n1.5,1,-2,3e2\r\n\r\n 0 ,0, \"7\" ,-0.25";
        CsvSource src = new CsvSource(write(dir, "d.csv.gz", text), "y", 2, false);
        assertEquals(List.of("a", "y", "b", "c"), src.columns());
        assertEquals(new DataSchema(3, 0, false, 0, 2), src.schema());
        Batch b = readAll(src, 1, 4);
        assertEquals(2, b.size);
        assertArrayEquals(new float[] {1, 0}, Arrays.copyOf(b.labels, 2));
        assertArrayEquals(new float[] {1.5f, -2f, 300f, 0f, 7f, -0.25f}, Arrays.copyOf(b.dense, 6));
    }

    @Test
    void multiclassAndRegressionLabels() throws IOException {
        Path f = write(dir, "m.csv", "x,label\n1,2\n2,0\n");
        Batch b = readAll(new CsvSource(f, "label", 3, false), 2, 2);
        assertArrayEquals(new float[] {2, 0}, Arrays.copyOf(b.labels, 2));
        b = readAll(new CsvSource(f, "x", 0, false), 2, 2);
        assertArrayEquals(new float[] {1, 2}, Arrays.copyOf(b.labels, 2));
        assertFails(new CsvSource(f, "label", 2, false), f + ":2: ", "label must be 0 or 1 (column 'label'), got '2'");
    }

    @Test
    void missingLabelColumnListsTheColumns() throws IOException {
        Path f = write(dir, "h.csv", "a,b,c\n1,2,3\n");
        DataException e = assertThrows(DataException.class, () -> new CsvSource(f, "y", 2, false));
        assertEquals(f + ":1: no label column 'y'; the columns are: a, b, c", e.getMessage());
        Path g = write(dir, "dup.csv", "y,a,y\n1,2,3\n");
        e = assertThrows(DataException.class, () -> new CsvSource(g, "y", 2, false));
        assertEquals(f.resolveSibling("dup.csv") + ":1: label column 'y' appears more than once in the header", e.getMessage());
    }

    @Test
    void badCellsFailWithFileLineAndColumn() throws IOException {
        String[][] cases = {
            {"1,,3", "column 'b' is empty"},
            {"1,2,x", "column 'c' is not a number: 'x'"},
            {"1,2", "expected 3 comma-separated fields as in the header, got 2"},
            {"1,2,3,4", "expected 3 comma-separated fields as in the header, got 4"},
            {"5,2,3", "label must be 0 or 1 (column 'y'), got '5'"},
        };
        for (int c = 0; c < cases.length; c++) {
            Path f = write(dir, "bad" + c + ".csv", "y,b,c\n1,2,3\n" + cases[c][0] + "\n0,1,1\n");
            DataException e = assertFails(new CsvSource(f, "y", 2, false), f + ":3: ", cases[c][1]);
            assertEquals(3, e.line());
        }
    }

    @Test
    void skipBadLinesAndHeaderOnlyFiles() throws IOException {
        Path f = write(dir, "s.csv", "y,b\n1,2\n1,\n0,x\n0,3\n");
        try (ExampleReader r = new CsvSource(f, "y", 2, true).open()) {
            Batch b = new Batch(8, 1, 0, false);
            while (r.readInto(b)) { }
            assertEquals(2, b.size);
            assertArrayEquals(new float[] {2, 3}, Arrays.copyOf(b.dense, 2));
            assertEquals(2, r.skippedLines());
        }
        Path h = write(dir, "h.csv", "y,b\n");
        DataException e = assertThrows(DataException.class, () -> new CsvSource(h, "y", 2, false).open());
        assertEquals(h + ": has a header but no data rows", e.getMessage());
        Path missing = dir.resolve("none.csv");
        e = assertThrows(DataException.class, () -> new CsvSource(missing, "y", 2, false));
        assertEquals(missing + ": no such file", e.getMessage());
    }
}
