package io.shadowsync.data;

import static io.shadowsync.data.ReaderFuzz.assertBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.shadowsync.data.ReaderFuzz.Container;
import io.shadowsync.data.ReaderFuzz.Mutation;
import io.shadowsync.data.ReaderFuzz.Outcome;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Dense CSV under generated and mutated input: a valid file (label column anywhere, quoted names and cells,
 * spaces around cells, blank lines) reads back exactly the examples that generated it; any mutated file gives
 * what a slow reference parser gives — the same examples and skip count, or an error at the same line.
 */
class CsvSourcePropertyTest {
    private static final String LABEL = "y";
    private static Path root;

    @BeforeContainer
    static void makeRoot() throws IOException {
        root = Files.createTempDirectory("csv-prop");
    }

    @AfterContainer
    static void removeRoot() throws IOException {
        ReaderFuzz.deleteTree(root);
    }

    /** A table: the task, where the label column is, the header cells as written, and rows of cells. */
    record Table(int numClasses, int labelAt, List<String> header, List<List<Cell>> rows) {
        int numColumns() {
            return header.size();
        }

        String text(String nl, boolean finalNewline, int blankEvery) {
            StringBuilder sb = new StringBuilder(String.join(",", header));
            for (int r = 0; r < rows.size(); r++) {
                sb.append(nl);
                if (blankEvery > 0 && r % blankEvery == 0) sb.append(r % 2 == 0 ? "" : " \t").append(nl);
                List<String> cells = new ArrayList<>();
                for (Cell c : rows.get(r)) cells.add(c.text());
                sb.append(String.join(",", cells));
            }
            if (finalNewline) sb.append(nl);
            return sb.toString();
        }
    }

    /** A cell as written and the value it must read as. */
    record Cell(String text, float value) {}

    /** Decorates a number's text: bare, spaces or tabs around, quoted, or quoted with spaces outside. */
    private static String decorate(String s, int style) {
        return switch (style) {
            case 0 -> s;
            case 1 -> " " + s + " ";
            case 2 -> "\t" + s;
            case 3 -> "\"" + s + "\"";
            default -> " \"" + s + "\"\t";
        };
    }

    @Provide
    Arbitrary<Table> tables() {
        Arbitrary<Integer> classes = Arbitraries.of(0, 2, 3, 10);
        Arbitrary<Integer> columns = Arbitraries.integers().between(2, 6);
        return Combinators.combine(classes, columns).flatAs((c, k) -> Arbitraries.integers().between(0, k - 1).flatMap(at ->
                Combinators.combine(header(k, at), row(c, k, at).list().ofMaxSize(10)).as((h, rows) -> new Table(c, at, h, rows))));
    }

    private static Arbitrary<List<String>> header(int k, int labelAt) {
        Arbitrary<String> style = Arbitraries.of("%s", " %s ", "\"%s\"", " \"%s\" ");
        return style.list().ofSize(k).map(styles -> {
            List<String> h = new ArrayList<>();
            for (int c = 0; c < k; c++) h.add(String.format(styles.get(c), c == labelAt ? LABEL : "x" + c));
            return h;
        });
    }

    private static Arbitrary<List<Cell>> row(int numClasses, int k, int labelAt) {
        Arbitrary<Integer> style = Arbitraries.integers().between(0, 4);
        Arbitrary<Cell> feature = Combinators.combine(LibSvmSourcePropertyTest.values(), Arbitraries.integers().between(0, 4), style)
                .as((v, fmt, st) -> {
                    String t = LibSvmSourcePropertyTest.valueText(v, fmt);
                    return new Cell(decorate(t, st), Float.parseFloat(t));
                });
        Arbitrary<Cell> label = switch (numClasses) {
            case 0 -> feature;
            case 2 -> Combinators.combine(Arbitraries.of("0", "1", "0.0", "1.0", "1e0", "-0"), style)
                    .as((t, st) -> new Cell(decorate(t, st), Float.parseFloat(t) == 0f ? 0f : 1f));
            default -> Combinators.combine(Arbitraries.integers().between(0, numClasses - 1), style)
                    .as((v, st) -> new Cell(decorate(Integer.toString(v), st), v));
        };
        return Combinators.combine(label, feature.list().ofSize(k - 1)).as((l, fs) -> {
            List<Cell> cells = new ArrayList<>(fs);
            cells.add(labelAt, l);
            return cells;
        });
    }

    @Provide
    Arbitrary<Container> wholeContainers() {
        return Arbitraries.of(Container.PLAIN, Container.GZIP, Container.GZIP_UNNAMED);
    }

    @Provide
    Arbitrary<Container> containers() {
        return ReaderFuzz.containers();
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return ReaderFuzz.mutations(4);
    }

    @Property(tries = 150)
    void aValidFileReadsBackTheExamplesThatMadeIt(@ForAll("tables") Table t, @ForAll boolean crlf,
                                                 @ForAll boolean finalNewline, @ForAll boolean bom,
                                                 @ForAll @IntRange(min = 0, max = 3) int blankEvery,
                                                 @ForAll("wholeContainers") Container container,
                                                 @ForAll @IntRange(min = 16, max = 200) int bufferBytes,
                                                 @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        byte[] text = t.text(crlf ? "\r\n" : "\n", finalNewline, blankEvery).getBytes(StandardCharsets.UTF_8);
        if (bom) text = ReaderFuzz.concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, text);
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "rows.csv", text, container, 0);
            int k = t.numColumns();
            Outcome o = ReaderFuzz.read(() -> {
                CsvSource src = new CsvSource(f, LABEL, t.numClasses(), false, bufferBytes);
                List<String> names = new ArrayList<>();
                for (int c = 0; c < k; c++) names.add(c == t.labelAt() ? LABEL : "x" + c);
                assertEquals(names, src.columns(), "header names, unquoted and stripped");
                return src;
            }, batch, t.rows().size(), ReaderFuzz.lines(text).size(), f);
            if (t.rows().isEmpty()) {
                assertTrue(o.failed(), "a header without rows is refused");
                assertEquals(0, o.error().line());
                return;
            }
            assertFalse(o.failed(), () -> "valid file refused: " + o.error().getMessage());
            Batch b = o.examples();
            assertEquals(t.rows().size(), b.size);
            for (int r = 0; r < b.size; r++) {
                List<Cell> cells = t.rows().get(r);
                float[] dense = new float[k - 1];
                for (int c = 0, at = 0; c < k; c++) {
                    if (c != t.labelAt()) dense[at++] = cells.get(c).value();
                }
                assertBits(new float[] {cells.get(t.labelAt()).value()}, new float[] {b.labels[r]}, "label of row " + r);
                assertBits(dense, Arrays.copyOfRange(b.dense, r * (k - 1), (r + 1) * (k - 1)), "features of row " + r);
            }
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    @Property(tries = 400)
    void anyFileReadsAsTheReferenceParserSays(@ForAll("tables") Table t, @ForAll("mutations") List<Mutation> mutations,
                                              @ForAll("containers") Container container, @ForAll int seed,
                                              @ForAll boolean skip,
                                              @ForAll @IntRange(min = 16, max = 200) int bufferBytes,
                                              @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        byte[] text = ReaderFuzz.mutate(t.text("\n", true, 0).getBytes(StandardCharsets.UTF_8), mutations, (byte) ',');
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "rows.csv", text, container, seed);
            byte[] seen = ReaderFuzz.decoded(f);
            Expected want = seen == null ? null : reference(ReaderFuzz.lines(seen), t.numClasses(), skip);
            int lines = seen == null ? Integer.MAX_VALUE : ReaderFuzz.lines(seen).size();
            Outcome o = ReaderFuzz.read(() -> new CsvSource(f, LABEL, t.numClasses(), skip, bufferBytes), batch, lines,
                    seen == null ? Long.MAX_VALUE : lines + 1L, f);
            if (want == null || want.errorLine >= 0) {
                assertTrue(o.failed(), () -> "expected an error " + (want == null ? "(unreadable file)" : "at line " + want.errorLine)
                        + ", read " + o.examples().size + " rows");
                if (want != null) assertEquals(want.errorLine, o.error().line(), o.error().getMessage());
                return;
            }
            assertFalse(o.failed(), () -> "reference reads " + want.labels.size() + " rows, reader says " + o.error().getMessage());
            Batch b = o.examples();
            assertEquals(want.labels.size(), b.size, "rows read");
            assertEquals(want.skipped, o.skipped(), "lines skipped");
            for (int r = 0; r < b.size; r++) {
                assertBits(new float[] {want.labels.get(r)}, new float[] {b.labels[r]}, "label of row " + r);
                float[] dense = want.dense.get(r);
                assertBits(dense, Arrays.copyOfRange(b.dense, r * dense.length, (r + 1) * dense.length), "features of row " + r);
            }
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    @Example
    void onlyBlankLinesAfterTheHeaderAreNoRows() throws IOException {
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "blank.csv", "y,x1\n\n \t\n".getBytes(StandardCharsets.US_ASCII), Container.PLAIN, 0);
            Outcome o = ReaderFuzz.read(() -> new CsvSource(f, LABEL, 2, true), 2, 0, 3, f);
            assertTrue(o.failed(), "blank lines are no data");
            assertEquals(f + ": has a header but no data rows", o.error().getMessage());
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    static final class Expected {
        final List<Float> labels = new ArrayList<>();
        final List<float[]> dense = new ArrayList<>();
        long skipped;
        long errorLine = -1;
    }

    /** The CSV rules of the class Javadoc, the slow way: String.split, trim, unquote, regex, parse. */
    static Expected reference(List<String> lines, int numClasses, boolean skip) {
        Expected e = new Expected();
        if (lines.isEmpty()) {
            e.errorLine = 0;
            return e;
        }
        String header = new String(lines.get(0).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        List<String> names = new ArrayList<>();
        for (String cell : header.split(",", -1)) {
            String name = cell.strip();
            if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) name = name.substring(1, name.length() - 1);
            if (name.isEmpty()) {
                e.errorLine = 1;
                return e;
            }
            names.add(name);
        }
        int labelAt = names.indexOf(LABEL);
        if (labelAt < 0 || names.lastIndexOf(LABEL) != labelAt || names.size() < 2) {
            e.errorLine = 1;
            return e;
        }
        if (lines.size() == 1) {
            e.errorLine = 0; // a header and no rows
            return e;
        }
        int k = names.size();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.chars().allMatch(c -> c == ' ' || c == '\t')) continue;
            String[] cells = line.split(",", -1);
            boolean ok = cells.length == k;
            Float label = null;
            float[] dense = new float[k - 1];
            for (int c = 0, at = 0; ok && c < k; c++) {
                String s = trim(cells[c]);
                if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) s = s.substring(1, s.length() - 1);
                if (c == labelAt) {
                    label = ReaderFuzz.label(s, numClasses, false);
                    ok = label != null;
                } else {
                    Float v = ReaderFuzz.number(s);
                    ok = v != null;
                    if (ok) dense[at++] = v;
                }
            }
            if (ok) {
                e.labels.add(label);
                e.dense.add(dense);
            } else if (skip) {
                e.skipped++;
            } else {
                e.errorLine = i + 1;
                return e;
            }
        }
        if (e.labels.isEmpty() && e.skipped == 0) e.errorLine = 0; // blank lines only: no rows
        return e;
    }

    /** Drops spaces and tabs (only those) at both ends. */
    private static String trim(String s) {
        int lo = 0, hi = s.length();
        while (lo < hi && (s.charAt(lo) == ' ' || s.charAt(lo) == '\t')) lo++;
        while (hi > lo && (s.charAt(hi - 1) == ' ' || s.charAt(hi - 1) == '\t')) hi--;
        return s.substring(lo, hi);
    }
}
