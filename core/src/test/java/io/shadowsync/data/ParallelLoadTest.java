package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link InMemorySource#load(SplittableSource, int)}: parsing the parts of a data set on several threads and laying them
 * end to end gives exactly the examples of a one-thread load, in its order — dense and sparse data, a directory of
 * plain and gzip files, more threads than lines (empty parts) — with the skipped lines of all parts; a part's bad line
 * fails the load.
 */
class ParallelLoadTest {
    @TempDir
    Path dir;

    /** Every example of source, in order, in one batch (all columns). */
    static Batch all(InMemorySource s) {
        Batch b = new Batch(s.size(), s.schema());
        s.copyInto(0, s.size(), b);
        return b;
    }

    static void assertSameExamples(InMemorySource want, InMemorySource got, String what) {
        assertEquals(want.size(), got.size(), what);
        Batch a = all(want), b = all(got);
        assertArrayEquals(a.labels, b.labels, what + ": labels");
        assertArrayEquals(a.dense, b.dense, what + ": dense");
        assertArrayEquals(a.cat, b.cat, what + ": categorical");
        if (want.schema().sparse()) {
            assertArrayEquals(a.sparseOffsets, b.sparseOffsets, what + ": sparse offsets");
            int nnz = a.sparseOffsets[a.size];
            assertArrayEquals(Arrays.copyOf(a.sparseIdx, nnz), Arrays.copyOf(b.sparseIdx, nnz), what + ": sparse indices");
            assertArrayEquals(Arrays.copyOf(a.sparseVal, nnz), Arrays.copyOf(b.sparseVal, nnz), what + ": sparse values");
        }
    }

    @Test
    void severalThreadsLoadTheExamplesOfOneInItsOrder() throws IOException {
        Random rnd = new Random(11);
        Path tsv = TestFiles.write(dir, "d.tsv", InputSplitTest.file(2000, rnd, false));
        StringBuilder svm = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            svm.append(i % 2);
            int k = rnd.nextInt(6); // some lines without features: their offsets must still line up
            for (int j = 0, at = 1; j < k; j++) svm.append(' ').append(at += 1 + rnd.nextInt(30)).append(':').append(rnd.nextInt(100) / 10.0);
            svm.append('\n');
        }
        Path libsvm = TestFiles.write(dir, "d.svm", svm.toString());
        SplittableSource[] sources = {new CriteoTsvSource(tsv, false), new LibSvmSource(libsvm, 2, false, false)};
        for (SplittableSource source : sources) {
            InMemorySource one = InMemorySource.load(source);
            for (int threads : new int[] {1, 2, 3, 7}) {
                InMemorySource many = InMemorySource.load(source, threads);
                assertSameExamples(one, many, source.describe() + ", " + threads + " threads");
                assertEquals(one.fingerprint(), many.fingerprint());
            }
            // a trainer's own input split, loaded by several threads: the split's examples, not the whole file's
            for (int k = 0; k < 3; k++) {
                SplittableSource part = (SplittableSource) source.share(k, 3);
                assertSameExamples(InMemorySource.load(part), InMemorySource.load(part, 3), source.describe() + ", part " + k + " of 3, 3 threads");
            }
        }
    }

    @Test
    void aDirectoryOfPlainAndGzipFilesAndEmptyPartsLoadAlike() throws IOException {
        Random rnd = new Random(13);
        Path days = Files.createDirectories(dir.resolve("days"));
        int id = 0;
        for (int i = 0; i < 4; i++) {
            StringBuilder t = new StringBuilder();
            for (int j = 0; j < 100 + 50 * i; j++) t.append(InputSplitTest.line(id++, rnd)).append('\n');
            TestFiles.write(days, "day_" + i + (i == 1 ? ".tsv.gz" : ".tsv"), t.toString().getBytes(StandardCharsets.UTF_8));
        }
        TextFiles set = TextFiles.of(days, p -> new CriteoTsvSource(p, false));
        assertSameExamples(InMemorySource.load(set), InMemorySource.load(set, 5), "a directory, 5 threads");
        // three lines for eight threads: most parts are empty
        Path tiny = TestFiles.write(dir, "tiny.tsv", InputSplitTest.file(3, rnd, true));
        CriteoTsvSource few = new CriteoTsvSource(tiny, false);
        assertSameExamples(InMemorySource.load(few), InMemorySource.load(few, 8), "3 lines, 8 threads");
    }

    @Test
    void skippedLinesAddUpAndABadLineFailsTheLoad() throws IOException {
        Random rnd = new Random(17);
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 900; i++) {
            t.append(i == 100 || i == 800 ? "not a criteo line" : InputSplitTest.line(i, rnd)).append('\n');
        }
        Path f = TestFiles.write(dir, "bad.tsv", t.toString());
        InMemorySource skipping = InMemorySource.load(new CriteoTsvSource(f, true), 3);
        assertEquals(898, skipping.size());
        assertEquals(2, skipping.skippedWhileLoading(), "the first part's bad line and the last's");
        // the line in the last part (not the first thread's) fails the load: no part's failure is lost
        String last = t.toString().replaceFirst("not a criteo line", InputSplitTest.line(100, rnd));
        Path g = TestFiles.write(dir, "bad-late.tsv", last);
        DataException e = assertThrows(DataException.class, () -> InMemorySource.load(new CriteoTsvSource(g, false), 3));
        assertTrue(e.getMessage().contains("bad-late.tsv"), e.getMessage());
    }
}
