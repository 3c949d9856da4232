package io.shadowsync.data;

import static io.shadowsync.data.ReaderFuzz.assertBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import io.shadowsync.data.ReaderFuzz.Container;
import io.shadowsync.data.ReaderFuzz.Mutation;
import io.shadowsync.data.ReaderFuzz.Outcome;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * LibSVM under generated and mutated input: a valid file (any separators, comments, qid, blank lines, every way of
 * writing a float) reads back exactly the examples that generated it; any mutated file gives what a slow
 * reference parser gives — the same examples and skip count, or an error at the same line.
 */
class LibSvmSourcePropertyTest {
    private static final Pattern INDEX = Pattern.compile("\\d{1,10}");
    private static Path root;

    @BeforeContainer
    static void makeRoot() throws IOException {
        root = Files.createTempDirectory("libsvm-prop");
    }

    @AfterContainer
    static void removeRoot() throws IOException {
        ReaderFuzz.deleteTree(root);
    }

    /** A feature: its 0-based index, written with pad leading zeros (10 digits at most), and its value as written. */
    record Feature(int index, int pad, String valueText) {
        float value() {
            return Float.parseFloat(valueText);
        }

        String indexText(int base) {
            String it = Integer.toString(index + base);
            return "0".repeat(Math.max(0, Math.min(pad, 10 - it.length()))) + it;
        }
    }

    /** A line: the label as written and its stored value, features, and the layout around them. */
    record Line(String labelText, float label, List<Feature> features, int qid, String sep, String lead, String comment) {
        /** The line with feature indices counted from base (0 or 1). */
        String text(int base) {
            StringBuilder sb = new StringBuilder(lead).append(labelText);
            for (int i = 0; i < features.size(); i++) {
                if (i == qid) sb.append(sep).append("qid:").append(i);
                Feature f = features.get(i);
                sb.append(sep).append(f.indexText(base)).append(':').append(f.valueText());
            }
            if (comment != null) sb.append(sep).append('#').append(comment);
            return sb.toString();
        }
    }

    /** A value to write: exact bit patterns, integers and the float range's corners. */
    static Arbitrary<Float> values() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(-1000, 1000).map(i -> (float) i)),
                Tuple.of(4, Arbitraries.integers().map(Float::intBitsToFloat).filter(Float::isFinite)),
                Tuple.of(1, Arbitraries.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
                        -Float.MAX_VALUE, 0.1f, 1e-3f, 3.4028235e38f)));
    }

    /** The ways writers print a float: Java's shortest repr, %e with 9 digits, %.3f, the exact decimal, an integer. */
    static String valueText(float v, int style) {
        return switch (style) {
            case 0 -> Float.toString(v);
            case 1 -> String.format(Locale.ROOT, "%.8e", v);
            case 2 -> Math.abs(v) < 1e9f ? String.format(Locale.ROOT, "%.3f", v) : Float.toString(v);
            case 3 -> new BigDecimal(v).toPlainString();
            default -> v == Math.rint(v) && Math.abs(v) < 1e9f ? Long.toString((long) v) : Double.toString(v);
        };
    }

    @Provide
    Arbitrary<Tuple.Tuple2<Integer, List<Line>>> files() {
        Arbitrary<Integer> classes = Arbitraries.of(0, 2, 3, 7);
        return classes.flatMap(c -> lines(c).list().ofMaxSize(10).map(ls -> Tuple.of(c, ls)));
    }

    private static Arbitrary<Line> lines(int numClasses) {
        Arbitrary<Tuple.Tuple2<String, Float>> label = switch (numClasses) {
            case 0 -> Combinators.combine(values(), Arbitraries.integers().between(0, 4)).as((v, s) -> {
                String t = valueText(v, s);
                return Tuple.of(t, Float.parseFloat(t));
            });
            case 2 -> Arbitraries.of(Tuple.of("0", 0f), Tuple.of("1", 1f), Tuple.of("-1", 0f), Tuple.of("+1", 1f),
                    Tuple.of("1.0", 1f), Tuple.of("0.0", 0f), Tuple.of("-1.0", 0f), Tuple.of("1e0", 1f), Tuple.of("-0", 0f));
            default -> Combinators.combine(Arbitraries.integers().between(0, numClasses - 1), Arbitraries.integers().between(0, 2))
                    .as((k, s) -> Tuple.of(s == 0 ? k.toString() : s == 1 ? k + ".0" : k + "e0", (float) k));
        };
        Arbitrary<Feature> feature = Combinators.combine(Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.integers().between(0, 2), values(), Arbitraries.integers().between(0, 4))
                .as((i, pad, v, s) -> new Feature(i, pad, valueText(v, s)));
        Arbitrary<List<Feature>> features = Arbitraries.frequencyOf(
                Tuple.of(5, feature.list().ofMaxSize(6)),
                Tuple.of(1, feature.list().ofMinSize(20).ofMaxSize(60)));
        Arbitrary<String> sep = Arbitraries.of(" ", "\t", "  ", " \t ");
        Arbitrary<String> lead = Arbitraries.of("", "", " ", "\t");
        Arbitrary<String> comment = Arbitraries.strings().withChars(" abc:#1\t\u00e9").ofMaxLength(8).injectNull(0.7);
        return Combinators.combine(label, features, Arbitraries.integers().between(-1, 8), sep, lead, comment)
                .as((l, fs, qid, s, ld, cm) -> new Line(l.get1(), l.get2(), fs, qid, s, ld, cm));
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
    void aValidFileReadsBackTheExamplesThatMadeIt(@ForAll("files") Tuple.Tuple2<Integer, List<Line>> file,
                                                 @ForAll boolean zeroBased, @ForAll boolean crlf, @ForAll boolean finalNewline,
                                                 @ForAll @IntRange(min = 0, max = 3) int blankEvery,
                                                 @ForAll("wholeContainers") Container container,
                                                 @ForAll @IntRange(min = 16, max = 300) int bufferBytes,
                                                 @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        int numClasses = file.get1();
        List<Line> lines = file.get2();
        String nl = crlf ? "\r\n" : "\n";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            if (blankEvery > 0 && i % blankEvery == 0) sb.append(i % 2 == 0 ? "# comment only" : " \t").append(nl);
            sb.append(lines.get(i).text(zeroBased ? 0 : 1));
            if (i < lines.size() - 1 || finalNewline) sb.append(nl);
        }
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "rows.svm", text, container, 0);
            long maxLine = ReaderFuzz.lines(text).size();
            Outcome o = ReaderFuzz.read(() -> new LibSvmSource(f, numClasses, zeroBased, false, bufferBytes), batch,
                    lines.size(), maxLine, f);
            if (lines.isEmpty()) {
                assertTrue(o.failed(), "a file without examples is refused");
                assertEquals(0, o.error().line());
                return;
            }
            assertFalse(o.failed(), () -> "valid file refused: " + o.error().getMessage());
            Batch b = o.examples();
            assertEquals(lines.size(), b.size);
            for (int r = 0; r < lines.size(); r++) {
                Line line = lines.get(r);
                assertEquals(line.label(), b.labels[r], "label of example " + r + ": " + line.labelText());
                List<Feature> fs = line.features();
                int lo = b.sparseOffsets[r];
                assertEquals(fs.size(), b.sparseOffsets[r + 1] - lo, "features of example " + r);
                for (int k = 0; k < fs.size(); k++) {
                    assertEquals(fs.get(k).index(), b.sparseIdx[lo + k], "index of feature " + k + " of example " + r);
                    assertEquals(fs.get(k).value(), b.sparseVal[lo + k], "value '" + fs.get(k).valueText() + "' of example " + r);
                }
            }
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    @Property(tries = 400)
    void anyFileReadsAsTheReferenceParserSays(@ForAll("files") Tuple.Tuple2<Integer, List<Line>> file,
                                              @ForAll("mutations") List<Mutation> mutations,
                                              @ForAll("containers") Container container, @ForAll int seed,
                                              @ForAll boolean zeroBased, @ForAll boolean skip,
                                              @ForAll @IntRange(min = 16, max = 300) int bufferBytes,
                                              @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        int numClasses = file.get1();
        StringBuilder sb = new StringBuilder();
        for (Line l : file.get2()) sb.append(l.text(zeroBased ? 0 : 1)).append('\n');
        byte[] text = ReaderFuzz.mutate(sb.toString().getBytes(StandardCharsets.UTF_8), mutations, (byte) ' ');
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path f = ReaderFuzz.store(dir, "rows.svm", text, container, seed);
            byte[] seen = ReaderFuzz.decoded(f);
            Expected want = seen == null ? null : reference(ReaderFuzz.lines(seen), numClasses, zeroBased, skip);
            int lines = seen == null ? Integer.MAX_VALUE : ReaderFuzz.lines(seen).size();
            Outcome o = ReaderFuzz.read(() -> new LibSvmSource(f, numClasses, zeroBased, skip, bufferBytes), batch, lines,
                    seen == null ? Long.MAX_VALUE : lines + 1L, f);
            if (want == null || want.errorLine >= 0) {
                assertTrue(o.failed(), () -> "expected an error " + (want == null ? "(unreadable file)" : "at line " + want.errorLine)
                        + ", read " + o.examples().size + " examples");
                if (want != null) assertEquals(want.errorLine, o.error().line(), o.error().getMessage());
                return;
            }
            assertFalse(o.failed(), () -> "reference reads " + want.labels.size() + " examples, reader says " + o.error().getMessage());
            Batch b = o.examples();
            assertEquals(want.labels.size(), b.size, "examples read");
            assertEquals(want.skipped, o.skipped(), "lines skipped");
            for (int r = 0; r < b.size; r++) {
                assertBits(new float[] {want.labels.get(r)}, new float[] {b.labels[r]}, "label of example " + r);
                int lo = b.sparseOffsets[r], hi = b.sparseOffsets[r + 1];
                assertArrayEquals(want.idx.get(r), Arrays.copyOfRange(b.sparseIdx, lo, hi), "indices of example " + r);
                assertBits(want.val.get(r), Arrays.copyOfRange(b.sparseVal, lo, hi), "values of example " + r);
            }
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    static final class Expected {
        final List<Float> labels = new ArrayList<>();
        final List<int[]> idx = new ArrayList<>();
        final List<float[]> val = new ArrayList<>();
        long skipped;
        long errorLine = -1;
    }

    /** The LibSVM rules of the class Javadoc, the slow way: cut the comment, split on blanks, regex and parse. */
    static Expected reference(List<String> lines, int numClasses, boolean zeroBased, boolean skip) {
        Expected e = new Expected();
        int min = zeroBased ? 0 : 1;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            int hash = l.indexOf('#');
            if (hash >= 0) l = l.substring(0, hash);
            List<String> tokens = new ArrayList<>();
            for (String t : l.split("[ \t]+")) {
                if (!t.isEmpty()) tokens.add(t);
            }
            if (tokens.isEmpty()) continue;
            Float label = ReaderFuzz.label(tokens.get(0), numClasses, true);
            boolean ok = label != null;
            List<Integer> idx = new ArrayList<>();
            List<Float> val = new ArrayList<>();
            for (int k = 1; ok && k < tokens.size(); k++) {
                String t = tokens.get(k);
                int colon = t.indexOf(':');
                if (colon <= 0) {
                    ok = false;
                    break;
                }
                String key = t.substring(0, colon), value = t.substring(colon + 1);
                if (key.equals("qid")) {
                    ok = nonNegativeInt(value) >= 0;
                    continue;
                }
                long index = nonNegativeInt(key);
                Float v = ReaderFuzz.number(value);
                ok = index >= min && v != null;
                if (ok) {
                    idx.add((int) index - min);
                    val.add(v);
                }
            }
            if (ok) {
                e.labels.add(label);
                int[] ia = new int[idx.size()];
                float[] va = new float[val.size()];
                for (int k = 0; k < ia.length; k++) {
                    ia[k] = idx.get(k);
                    va[k] = val.get(k);
                }
                e.idx.add(ia);
                e.val.add(va);
            } else if (skip) {
                e.skipped++;
            } else {
                e.errorLine = i + 1;
                return e;
            }
        }
        if (e.labels.isEmpty() && e.skipped == 0) e.errorLine = 0;
        return e;
    }

    /** Plain digits (at most 10) up to 2^31-1, else -1. */
    private static long nonNegativeInt(String s) {
        if (!INDEX.matcher(s).matches()) return -1;
        long v = Long.parseLong(s);
        return v <= Integer.MAX_VALUE ? v : -1;
    }
}
