package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CachedSource}: the first whole pass fills the copy, later passes replay it (the file is no longer read) with the
 * same examples in the same order and the same count of skipped lines; a pass stopped early or a copy past its bound
 * leaves the source streaming; and the size estimate made before reading is close to what the copy takes.
 */
class CachedSourceTest {
    @TempDir
    Path dir;

    static List<String> rows(DataSource s) throws IOException {
        List<String> out = new ArrayList<>();
        Batch b = new Batch(1, s.schema());
        try (ExampleReader r = s.open()) {
            while (r.readInto(b)) {
                StringBuilder e = new StringBuilder().append(b.labels[0]);
                for (int j = 0; j < b.numDense; j++) e.append(',').append(b.dense[j]);
                for (int j = 0; j < b.numCat; j++) e.append(',').append(b.cat[j]);
                if (b.sparseOffsets != null) {
                    for (int k = 0; k < b.sparseOffsets[1]; k++) e.append(' ').append(b.sparseIdx[k]).append(':').append(b.sparseVal[k]);
                }
                out.add(e.toString());
                b.clear();
            }
        }
        return out;
    }

    Path criteo(int n) throws IOException {
        Random rnd = new Random(11);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) s.append(InputSplitTest.line(i, rnd)).append('\n');
        s.append("bad line\n");
        return TestFiles.write(dir, "c.tsv", s.toString());
    }

    @Test
    void laterPassesReplayTheFirstWithoutTheFile() throws IOException {
        Path f = criteo(500);
        TextFiles files = TextFiles.of(List.of(new CriteoTsvSource(f, true)));
        List<String> streamed = rows(files);
        CachedSource c = new CachedSource(files, 1 << 20);
        assertEquals(streamed, rows(c));
        assertTrue(c.cached());
        Files.delete(f); // a replay reads no file
        assertEquals(streamed, rows(c));
        try (ExampleReader r = c.open()) {
            while (r.readInto(new Batch(1, c.schema()))) {
                // to the end
            }
            assertEquals(1, r.skippedLines(), "a replay reports the lines the filling pass skipped, as a streamed pass does");
        }
    }

    @Test
    void aPassStoppedEarlyOrACopyPastItsBoundLeavesTheSourceStreaming() throws IOException {
        TextFiles files = TextFiles.of(List.of(new CriteoTsvSource(criteo(20_000), true)));
        CachedSource c = new CachedSource(files, 1 << 23);
        try (ExampleReader r = c.open()) {
            assertTrue(r.readInto(new Batch(1, c.schema())));
        }
        assertFalse(c.cached(), "half a pass is no copy");
        List<String> streamed = rows(files);
        assertEquals(streamed, rows(c));
        assertTrue(c.cached(), "the next whole pass fills it");

        CachedSource small = new CachedSource(files, 100_000); // 20,000 examples take 3.2 MB
        assertEquals(streamed, rows(small));
        assertFalse(small.cached());
        assertTrue(small.abandoned());
        assertEquals(streamed, rows(small));
    }

    @Test
    void theEstimateIsCloseToTheCopy() throws IOException {
        TextFiles tsv = TextFiles.of(List.of(new CriteoTsvSource(criteo(20_000), false)));
        long actual = 20_000L * 4 * 40;
        long est = CachedSource.estimateBytes(tsv);
        assertTrue(est > actual * 0.8 && est < actual * 1.25, "estimate " + est + " for " + actual);

        Random rnd = new Random(2);
        StringBuilder s = new StringBuilder();
        long nnz = 0;
        for (int i = 0; i < 10_000; i++) {
            s.append(i % 2);
            int k = 1 + rnd.nextInt(20);
            nnz += k;
            for (int j = 1; j <= k; j++) s.append(' ').append(j * 7).append(':').append(rnd.nextInt(1000) / 100.0);
            s.append('\n');
        }
        Path svm = TestFiles.write(dir, "s.svm.gz", s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        TextFiles sparse = TextFiles.of(List.of(new LibSvmSource(svm, 2, false, false)));
        long want = 10_000L * (4 + 8) + 8 * nnz;
        long got = CachedSource.estimateBytes(sparse);
        assertTrue(got > want * 0.8 && got < want * 1.25, "estimate " + got + " for " + want + " (gzip: from the trailer)");
    }
}
