package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input splits ({@link TextFiles#share}, {@link TextFileSource#range}): the parts of a data set read every line
 * exactly once, whatever the number of parts, the byte boundaries (inside a line, on its first byte, on its newline),
 * the line endings and the read buffer; a gzip file goes whole to one part; and each part parses only its own lines.
 */
class InputSplitTest {
    @TempDir
    Path dir;

    /** A Criteo line whose first categorical id is i (hex) and whose first count pads the line to a length of its own. */
    static String line(int i, Random rnd) {
        StringBuilder s = new StringBuilder().append(i % 2).append('\t').append(rnd.nextInt(1 << rnd.nextInt(20)));
        for (int j = 1; j < 13; j++) s.append('\t');
        s.append('\t').append(Integer.toHexString(i));
        for (int j = 1; j < 26; j++) s.append('\t');
        return s.toString();
    }

    /** n lines, ending in \n or \r\n at random, the last without a newline when open. */
    static String file(int n, Random rnd, boolean openEnd) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(line(i, rnd));
            if (i < n - 1 || !openEnd) s.append(rnd.nextBoolean() ? "\n" : "\r\n");
        }
        return s.toString();
    }

    /** The first categorical id of every example source reads, in order. */
    static List<Integer> ids(DataSource source) throws IOException {
        List<Integer> ids = new ArrayList<>();
        Batch b = new Batch(1, source.schema());
        try (ExampleReader r = source.open()) {
            while (r.readInto(b)) {
                ids.add(b.cat[0]);
                b.clear();
            }
        }
        return ids;
    }

    static List<Integer> range(int n) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) all.add(i);
        return all;
    }

    @Test
    void everyCutOfAFileIntoTwoRangesReadsEveryLineOnce() throws IOException {
        Random rnd = new Random(3);
        for (boolean openEnd : new boolean[] {false, true}) {
            Path f = TestFiles.write(dir, "cut" + openEnd + ".tsv", file(12, rnd, openEnd));
            long size = Files.size(f);
            // a tiny buffer makes lines cross reads: the range end must hold across a refill
            CriteoTsvSource whole = new CriteoTsvSource(f, false, 16);
            for (long cut = 0; cut <= size; cut++) {
                List<Integer> got = new ArrayList<>(ids(whole.range(0, cut)));
                got.addAll(ids(whole.range(cut, size)));
                assertEquals(range(12), got, "cut at byte " + cut + " of " + size + " (open end " + openEnd + ")");
            }
        }
    }

    @Test
    void nPartsOfOneFileReadEveryLineOnceAndOnlyTheirOwn() throws IOException {
        Random rnd = new Random(5);
        int lines = 1000;
        Path f = TestFiles.write(dir, "big.tsv", file(lines, rnd, false));
        CriteoTsvSource source = new CriteoTsvSource(f, false, 64);
        for (int n = 1; n <= 9; n++) {
            List<Integer> all = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                List<Integer> part = ids(source.share(k, n));
                // a part's lines are a run of the file's, about 1/n of them: it parsed no one else's
                for (int i = 1; i < part.size(); i++) assertEquals(part.get(i - 1) + 1, (int) part.get(i), "part " + k + " of " + n);
                assertTrue(Math.abs(part.size() - lines / (double) n) < 40, "part " + k + " of " + n + " has " + part.size() + " lines");
                all.addAll(part);
            }
            assertEquals(range(lines), all, n + " parts");
        }
    }

    /**
     * A part of a part (the threads that load one trainer's input split in parallel): the sub-parts of part k read
     * exactly part k's lines, in order, each about its share of them — not the whole file's sub-ranges, as a split
     * that measured its pieces by their files' sizes rather than by their ranges would.
     */
    @Test
    void aPartOfAPartReadsItsParentsLinesOnceInAboutEqualShares() throws IOException {
        Random rnd = new Random(11);
        int lines = 1200;
        Path f = TestFiles.write(dir, "nested.tsv", file(lines, rnd, true));
        TextFiles source = TextFiles.of(List.of(new CriteoTsvSource(f, false, 64)));
        for (int n = 1; n <= 4; n++) {
            for (int k = 0; k < n; k++) {
                SplittableSource part = (SplittableSource) source.share(k, n);
                List<Integer> whole = ids(part);
                for (int m = 1; m <= 5; m++) {
                    List<Integer> all = new ArrayList<>();
                    for (int j = 0; j < m; j++) {
                        List<Integer> sub = ids(part.share(j, m));
                        assertTrue(Math.abs(sub.size() - whole.size() / (double) m) < 40,
                                "sub-part " + j + " of " + m + " of part " + k + " of " + n + " has " + sub.size() + " of the part's " + whole.size() + " lines");
                        all.addAll(sub);
                    }
                    assertEquals(whole, all, m + " sub-parts of part " + k + " of " + n);
                }
            }
        }
    }

    @Test
    void aSetOfPlainAndGzipFilesIsSplitByFileAndByBytes() throws IOException {
        Random rnd = new Random(7);
        Path data = Files.createDirectories(dir.resolve("days"));
        int[] sizes = {300, 50, 400, 120};
        int id = 0;
        StringBuilder[] texts = new StringBuilder[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            texts[i] = new StringBuilder();
            for (int j = 0; j < sizes[i]; j++) texts[i].append(line(id++, rnd)).append('\n');
            String name = "day_" + i + (i % 2 == 1 ? ".tsv.gz" : ".tsv");
            TestFiles.write(data, name, texts[i].toString().getBytes(StandardCharsets.UTF_8));
        }
        TestFiles.write(data, "_SUCCESS", "");
        TestFiles.write(data, ".crc", "x");
        TextFiles set = TextFiles.of(data, p -> new CriteoTsvSource(p, false));
        assertEquals(4, set.pieces().size(), "the marker and hidden files are not data");
        assertEquals(range(id), ids(set));
        for (int n = 1; n <= 6; n++) {
            List<Integer> all = new ArrayList<>();
            int gzipOwners = 0;
            for (int k = 0; k < n; k++) {
                DataSource part = set.share(k, n);
                List<Integer> got = ids(part);
                if (got.contains(300)) gzipOwners++; // the first line of day_1.tsv.gz
                if (got.contains(300)) assertTrue(got.contains(349), "day_1.tsv.gz is read whole by one part");
                all.addAll(got);
            }
            assertEquals(1, gzipOwners);
            Collections.sort(all);
            assertEquals(range(id), all, n + " parts of the directory");
        }
        // a glob names the same files
        assertEquals(range(id), ids(TextFiles.of(data.resolve("day_*"), p -> new CriteoTsvSource(p, false))));
    }

    @Test
    void aCsvPartAfterTheFirstHasNoHeaderToRead() throws IOException {
        StringBuilder s = new StringBuilder("label,id\n");
        for (int i = 0; i < 100; i++) s.append(i % 2).append(',').append(i).append('\n');
        Path f = TestFiles.write(dir, "d.csv", s.toString());
        CsvSource csv = new CsvSource(f, "label", 2, false);
        List<Float> ids = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            Batch all = TestFiles.readAll(csv.share(k, 4), 8, 100);
            for (int i = 0; i < all.size; i++) ids.add(all.dense[i]);
        }
        List<Float> want = new ArrayList<>();
        for (int i = 0; i < 100; i++) want.add((float) i);
        assertEquals(want, ids);
    }

    @Test
    void aBadLineInsideASplitIsNamedByItsByteOffset() throws IOException {
        String good = "1\t2\t\t\t\t\t\t\t\t\t\t\t\t\ta" + "\t".repeat(25) + "\n";
        Path f = TestFiles.write(dir, "bad.tsv", good.repeat(10) + "oops\n");
        long at = good.length() * 10L;
        CriteoTsvSource s = new CriteoTsvSource(f, false);
        TestFiles.assertFails(s.range(good.length() * 5L, Files.size(f)), "bad.tsv", "the line at byte " + at, "expected 40");
        TestFiles.assertFails(s, "bad.tsv:11:", "expected 40");
    }
}
