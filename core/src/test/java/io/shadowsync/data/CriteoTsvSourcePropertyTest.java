package io.shadowsync.data;

import static io.shadowsync.data.ReaderFuzz.assertBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.regex.Pattern;

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
 * Criteo TSV under generated and mutated input: a valid file reads back exactly the rows that generated it, and
 * any file (bytes flipped, truncated, lines duplicated, fields replaced by NaN/Inf/huge/odd text, CRLF, BOM,
 * gzip cut short...) gives what a slow reference parser gives — the same rows, or an error at the same line.
 */
class CriteoTsvSourcePropertyTest {
    private static final Pattern COUNT = Pattern.compile("[+-]?\\d{0,18}");
    private static final Pattern ID = Pattern.compile("[0-9a-fA-F]{0,8}");
    private static Path root;

    @BeforeContainer
    static void makeRoot() throws IOException {
        root = Files.createTempDirectory("criteo-prop");
    }

    @AfterContainer
    static void removeRoot() throws IOException {
        ReaderFuzz.deleteTree(root);
    }

    /** One text field and the value it must read as. */
    record Field(String text, float dense, int id) {}

    record Row(int label, List<Field> counts, List<Field> ids) {
        String text() {
            StringBuilder sb = new StringBuilder().append(label);
            for (Field f : counts) sb.append('\t').append(f.text());
            for (Field f : ids) sb.append('\t').append(f.text());
            return sb.toString();
        }
    }

    @Provide
    Arbitrary<List<Row>> rows() {
        Arbitrary<Long> small = Arbitraries.longs().between(0, 5000);
        Arbitrary<Long> big = Arbitraries.longs().between(0, 999_999_999_999_999_999L);
        Arbitrary<Field> count = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(new Field("", 0f, 0))),
                Tuple.of(6, Combinators.combine(Arbitraries.oneOf(small, big), Arbitraries.integers().between(0, 3))
                        .as(CriteoTsvSourcePropertyTest::countField)),
                Tuple.of(1, Arbitraries.longs().between(0, 999_999_999_999_999_999L)
                        .map(v -> new Field("-" + v, 0f, 0))));
        Arbitrary<Field> id = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(new Field("", 0f, 0))),
                Tuple.of(6, Combinators.combine(Arbitraries.integers(), Arbitraries.integers().between(0, 3))
                        .as(CriteoTsvSourcePropertyTest::idField)));
        Arbitrary<Row> row = Combinators.combine(Arbitraries.integers().between(0, 1),
                count.list().ofSize(13), id.list().ofSize(26)).as(Row::new);
        return row.list().ofMaxSize(12);
    }

    /** A count written with an optional '+' and leading zeros (18 digits at most). */
    private static Field countField(long v, int style) {
        String digits = Long.toString(v);
        if ((style & 1) == 1) digits = "0".repeat(Math.max(0, Math.min(3, 18 - digits.length()))) + digits;
        return new Field(((style & 2) == 2 ? "+" : "") + digits, (float) Math.log1p(v), 0);
    }

    /** An id as minimal lower-case hex, %08x, upper case, or zero-padded to 8 in upper case. */
    private static Field idField(int v, int style) {
        String hex = switch (style) {
            case 0 -> Integer.toHexString(v);
            case 1 -> String.format("%08x", v);
            case 2 -> Integer.toHexString(v).toUpperCase();
            default -> String.format("%08X", v);
        };
        return new Field(hex, 0f, v);
    }

    @Property(tries = 150)
    void aValidFileReadsBackTheRowsThatMadeIt(@ForAll("rows") List<Row> rows, @ForAll boolean crlf,
                                             @ForAll boolean finalNewline, @ForAll boolean bom,
                                             @ForAll("wholeContainers") Container container,
                                             @ForAll @IntRange(min = 16, max = 300) int bufferBytes,
                                             @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            sb.append(rows.get(i).text());
            if (i < rows.size() - 1 || finalNewline) sb.append(crlf ? "\r\n" : "\n");
        }
        byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        if (bom) text = ReaderFuzz.concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, text);
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "rows.tsv", text, container, 0);
            Outcome o = ReaderFuzz.read(() -> new CriteoTsvSource(f, false, bufferBytes), batch, rows.size(), rows.size(), f);
            if (rows.isEmpty()) {
                assertTrue(o.failed(), "a file without rows is refused");
                assertEquals(0, o.error().line());
                return;
            }
            assertFalse(o.failed(), () -> "valid file refused: " + o.error().getMessage());
            assertEquals(rows.size(), o.examples().size);
            for (int r = 0; r < rows.size(); r++) {
                Row row = rows.get(r);
                assertEquals(row.label(), o.examples().labels[r], "label of row " + r);
                for (int j = 0; j < 13; j++) {
                    assertEquals(row.counts().get(j).dense(), o.examples().dense[r * 13 + j], "row " + r + " integer field " + (j + 1));
                }
                for (int j = 0; j < 26; j++) {
                    assertEquals(row.ids().get(j).id(), o.examples().cat[r * 26 + j], "row " + r + " categorical field " + (j + 1));
                }
            }
            assertEquals(0, o.skipped());
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    @Provide
    Arbitrary<Container> containers() {
        return ReaderFuzz.containers();
    }

    @Provide
    Arbitrary<Container> wholeContainers() {
        return Arbitraries.of(Container.PLAIN, Container.GZIP, Container.GZIP_UNNAMED);
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return ReaderFuzz.mutations(4);
    }

    @Property(tries = 400)
    void anyFileReadsAsTheReferenceParserSays(@ForAll("rows") List<Row> rows, @ForAll("mutations") List<Mutation> mutations,
                                              @ForAll("containers") Container container, @ForAll int seed,
                                              @ForAll boolean skip,
                                              @ForAll @IntRange(min = 16, max = 300) int bufferBytes,
                                              @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) sb.append(r.text()).append('\n');
        byte[] text = ReaderFuzz.mutate(sb.toString().getBytes(StandardCharsets.US_ASCII), mutations, (byte) '\t');
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "rows.tsv", text, container, seed);
            byte[] seen = ReaderFuzz.decoded(f);
            Expected want = seen == null ? null : reference(ReaderFuzz.lines(seen), skip);
            // corrupt gzip may inflate to any number of lines before its check fails
            int lines = seen == null ? Integer.MAX_VALUE : ReaderFuzz.lines(seen).size();
            Outcome o = ReaderFuzz.read(() -> new CriteoTsvSource(f, skip, bufferBytes), batch, lines,
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
            float[] labels = new float[b.size];
            for (int i = 0; i < b.size; i++) labels[i] = want.labels.get(i);
            assertBits(labels, Arrays.copyOf(b.labels, b.size), "labels");
            assertBits(concatFloats(want.dense), Arrays.copyOf(b.dense, b.size * 13), "dense");
            assertArrayEquals(concatInts(want.cat), Arrays.copyOf(b.cat, b.size * 26), "categorical ids");
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    @Example
    void aCountOfNineteenDigitsIsTooLongNotMalformed() throws IOException {
        Row row = new Row(1, new ArrayList<>(), new ArrayList<>());
        for (int j = 0; j < 13; j++) row.counts().add(new Field(j == 2 ? "1234567890123456789" : "1", 0f, 0));
        for (int j = 0; j < 26; j++) row.ids().add(new Field("a", 0f, 10));
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "long.tsv", (row.text() + "\n").getBytes(StandardCharsets.US_ASCII), Container.PLAIN, 0);
            Outcome o = ReaderFuzz.read(() -> new CriteoTsvSource(f, false), 1, 1, 1, f);
            assertEquals(f + ":1: integer field 3 has more than 18 digits: '1234567890123456789'", o.error().getMessage());
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    /** What the reference parser expects: rows and a skip count, or the line of the first error (errorLine ≥ 0). */
    static final class Expected {
        final List<Float> labels = new ArrayList<>();
        final List<float[]> dense = new ArrayList<>();
        final List<int[]> cat = new ArrayList<>();
        long skipped;
        long errorLine = -1;
    }

    /** The Criteo rules, read off the class Javadoc and written the slow way: split, regex, parseLong. */
    static Expected reference(List<String> lines, boolean skip) {
        Expected e = new Expected();
        if (lines.isEmpty()) {
            e.errorLine = 0;
            return e;
        }
        for (int i = 0; i < lines.size(); i++) {
            float[] dense = new float[13];
            int[] cat = new int[26];
            String[] f = lines.get(i).split("\t", -1);
            boolean ok = f.length == 40 && (f[0].equals("0") || f[0].equals("1"));
            for (int j = 0; ok && j < 13; j++) {
                String s = f[1 + j];
                ok = COUNT.matcher(s).matches() && !s.equals("+") && !s.equals("-");
                if (ok) {
                    String digits = s.startsWith("+") || s.startsWith("-") ? s.substring(1) : s;
                    long v = digits.isEmpty() || s.startsWith("-") ? 0 : Long.parseLong(digits);
                    dense[j] = (float) Math.log1p(v);
                }
            }
            for (int j = 0; ok && j < 26; j++) {
                String s = f[14 + j];
                ok = ID.matcher(s).matches();
                if (ok) cat[j] = s.isEmpty() ? 0 : Integer.parseUnsignedInt(s, 16);
            }
            if (ok) {
                e.labels.add(f[0].equals("1") ? 1f : 0f);
                e.dense.add(dense);
                e.cat.add(cat);
            } else if (skip) {
                e.skipped++;
            } else {
                e.errorLine = i + 1;
                return e;
            }
        }
        return e;
    }

    private static float[] concatFloats(List<float[]> rows) {
        int n = 0;
        for (float[] r : rows) n += r.length;
        float[] out = new float[n];
        int at = 0;
        for (float[] r : rows) {
            System.arraycopy(r, 0, out, at, r.length);
            at += r.length;
        }
        return out;
    }

    private static int[] concatInts(List<int[]> rows) {
        int n = 0;
        for (int[] r : rows) n += r.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] r : rows) {
            System.arraycopy(r, 0, out, at, r.length);
            at += r.length;
        }
        return out;
    }
}
