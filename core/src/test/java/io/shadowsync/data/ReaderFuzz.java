package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Shared machinery of the readers' property tests: a checked read loop (every call either appends exactly one
 * example or leaves the batch as it was; the only exception is a clean {@link DataException}; nothing hangs),
 * byte-level mutations of valid files, and the reference line splitting and number grammar that the
 * slow, obviously-correct reference parsers of each format share.
 */
final class ReaderFuzz {
    /** Far above what any of these small files needs; a reader that loops forever fails instead of hanging the build. */
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** The decimal grammar of {@link AsciiNumbers#parseFloat}: sign, digits with an optional point, optional exponent. */
    static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

    private ReaderFuzz() {
    }

    interface SourceMaker {
        DataSource make() throws IOException;
    }

    /** What reading gave: every example, in order, in one batch, and the lines skipped; or the clean error. */
    record Outcome(Batch examples, long skipped, DataException error) {
        boolean failed() {
            return error != null;
        }
    }

    /**
     * Makes the source and reads it whole through batches of batchCapacity, checking every call: a call that
     * returns true appends one example and leaves the earlier ones untouched; a call that returns false or throws
     * leaves the batch exactly as it was. A DataException must name one of files, a line in [0, maxLine] and a
     * reason; any other exception, or a read that takes longer than {@link #TIMEOUT}, fails the property.
     */
    static Outcome read(SourceMaker maker, int batchCapacity, int maxExamples, long maxLine, Path... files) {
        return assertTimeoutPreemptively(TIMEOUT, () -> {
            try {
                return readChecked(maker.make(), batchCapacity, maxExamples);
            } catch (DataException e) {
                assertClean(e, maxLine, files);
                return new Outcome(null, 0, e);
            }
        });
    }

    private static Outcome readChecked(DataSource source, int batchCapacity, int maxExamples) throws IOException {
        DataSchema schema = source.schema();
        Batch[] all = {new Batch(1, schema)}; // starts small: an IDX image may hold 2^24 pixels
        try (ExampleReader r = source.open()) {
            assertEquals(schema, r.schema());
            Batch b = new Batch(batchCapacity, schema);
            for (;;) {
                if (b.isFull()) {
                    appendAll(all, b, maxExamples);
                    b.clear();
                }
                Snapshot before = new Snapshot(b);
                boolean more;
                try {
                    more = r.readInto(b);
                } catch (DataException e) {
                    before.assertUnchanged(b, "a read that failed");
                    throw e;
                }
                if (!more) {
                    before.assertUnchanged(b, "the end of the data");
                    break;
                }
                before.assertOneAppended(b);
            }
            appendAll(all, b, maxExamples);
            Batch after = new Batch(1, schema);
            assertFalse(r.readInto(after), "the end of the data stays the end");
            assertEquals(0, after.size);
            return new Outcome(all[0], r.skippedLines(), null);
        }
    }

    /** Appends b's examples to all[0], growing it as needed. */
    private static void appendAll(Batch[] all, Batch b, int maxExamples) {
        assertTrue(all[0].size + b.size <= maxExamples, "more examples than the file can hold: " + (all[0].size + b.size) + " > " + maxExamples);
        if (all[0].size + b.size > all[0].capacity) {
            Batch bigger = new Batch(2 * (all[0].size + b.size), all[0].numDense, all[0].numCat, all[0].sparseOffsets != null);
            for (int i = 0; i < all[0].size; i++) bigger.appendFrom(all[0], i);
            all[0] = bigger;
        }
        for (int i = 0; i < b.size; i++) all[0].appendFrom(b, i);
    }

    /** A clean error: one of the files, a line in range, a reason, and the message built from them. */
    static void assertClean(DataException e, long maxLine, Path... files) {
        List<String> names = new ArrayList<>();
        for (Path f : files) names.add(f.toString());
        assertTrue(names.contains(e.file()), "error names " + e.file() + ", not one of " + names + ": " + e.getMessage());
        assertNotNull(e.reason());
        assertFalse(e.reason().isBlank(), "error has a reason: " + e.getMessage());
        assertTrue(e.line() >= 0 && e.line() <= maxLine, "line " + e.line() + " outside [0, " + maxLine + "]: " + e.getMessage());
        String where = e.line() > 0 ? e.file() + ":" + e.line() : e.file();
        assertEquals(where + ": " + e.reason(), e.getMessage());
    }

    /** A copy of a batch's examples [0, size), to check that a call appended one or changed nothing. */
    private static final class Snapshot {
        final int size;
        final float[] labels;
        final float[] dense;
        final int[] cat;
        final int[] offsets;
        final int[] idx;
        final float[] val;

        Snapshot(Batch b) {
            size = b.size;
            labels = Arrays.copyOf(b.labels, size);
            dense = Arrays.copyOf(b.dense, size * b.numDense);
            cat = Arrays.copyOf(b.cat, size * b.numCat);
            offsets = b.sparseOffsets == null ? null : Arrays.copyOf(b.sparseOffsets, size + 1);
            idx = offsets == null ? null : Arrays.copyOf(b.sparseIdx, offsets[size]);
            val = offsets == null ? null : Arrays.copyOf(b.sparseVal, offsets[size]);
        }

        void assertUnchanged(Batch b, String when) {
            assertEquals(size, b.size, "batch size after " + when);
            assertRowsKept(b, when);
        }

        void assertOneAppended(Batch b) {
            assertEquals(size + 1, b.size, "a successful read appends one example");
            assertRowsKept(b, "a successful read");
            if (offsets != null) assertTrue(b.sparseOffsets[size + 1] >= b.sparseOffsets[size], "CSR offsets never decrease");
        }

        private void assertRowsKept(Batch b, String when) {
            assertArrayEquals(labels, Arrays.copyOf(b.labels, size), "labels of earlier examples after " + when);
            assertArrayEquals(dense, Arrays.copyOf(b.dense, size * b.numDense), "dense features of earlier examples after " + when);
            assertArrayEquals(cat, Arrays.copyOf(b.cat, size * b.numCat), "categorical ids of earlier examples after " + when);
            if (offsets != null) {
                assertArrayEquals(offsets, Arrays.copyOf(b.sparseOffsets, size + 1), "CSR offsets after " + when);
                assertArrayEquals(idx, Arrays.copyOf(b.sparseIdx, offsets[size]), "sparse indices after " + when);
                assertArrayEquals(val, Arrays.copyOf(b.sparseVal, offsets[size]), "sparse values after " + when);
            }
        }
    }

    // ---------------------------------------------------------------- mutations

    /** One edit of a file's bytes; positions are taken modulo what is there, so every mutation applies to any file. */
    record Mutation(Kind kind, int at, int arg) {
        enum Kind {
            FLIP_BYTE, TRUNCATE, DUPLICATE_LINE, DELETE_LINE, SWAP_LINES, REPLACE_FIELD, ADD_FIELD, REMOVE_FIELD,
            GARBAGE, BLANK_LINE, CRLF, NO_FINAL_NEWLINE, BOM
        }
    }

    /** Field texts that readers must refuse or read right: NaN/Inf spellings, huge numbers, empties, odd bytes. */
    static final String[] TOKENS = {
        "", " ", "NaN", "nan", "-nan", "Inf", "inf", "-Infinity", "Infinity", "1e39", "-1e39", "3.4028236e38",
        "3.4028235e38", "1.4e-45", "1e-46", "1e-50", "99999999999999999999", "9223372036854775807",
        "9223372036854775808", "999999999999999999", "1000000000000000000", "2147483647", "2147483648", "4294967296",
        "-", "+", ".", "1.", ".5", "-0", "+0", "-0.0", "1e", "1e+", "1e-", "0x1f", "1f", "1d", "ffffffff", "FFFFFFFF",
        "100000000", "0000000000000000001", "000000000000000001", "\uFF11", "\u00e9", "\"1\"", "\"\"", "\"", "1:2", ":",
        "#", "qid:3", "qid:", "qid:x", "0:1", "1:0", "2147483648:1", "2147483647:1", "1:1e39", "1:nan", "\u0000",
        "\u007f", "\uFEFF1", "1 2", "1,2", "1\t2", "2", "-1", "+1", "3", "1.5", "0.0", "1e0", "1E0", "-1e-0"
    };

    static Arbitrary<List<Mutation>> mutations(int maxCount) {
        Arbitrary<Mutation> one = Combinators.combine(
                Arbitraries.of(Mutation.Kind.class), Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.integers().between(0, 1 << 20)).as(Mutation::new);
        return one.list().ofMaxSize(maxCount);
    }

    /** Applies the mutations in order to text whose fields are separated by sep. */
    static byte[] mutate(byte[] file, List<Mutation> mutations, byte sep) {
        byte[] b = file;
        for (Mutation m : mutations) b = apply(b, m, sep);
        return b;
    }

    private static byte[] apply(byte[] b, Mutation m, byte sep) {
        List<byte[]> lines = splitKeepingEnds(b);
        int n = b.length, at = m.at(), arg = m.arg();
        switch (m.kind()) {
            case FLIP_BYTE -> {
                if (n == 0) return b;
                byte[] c = b.clone();
                c[at % n] = (byte) arg;
                return c;
            }
            case TRUNCATE -> {
                return Arrays.copyOf(b, at % (n + 1));
            }
            case DUPLICATE_LINE -> {
                if (lines.isEmpty()) return b;
                int i = at % lines.size();
                lines.add(i, withNewline(lines.get(i)));
                return join(lines);
            }
            case DELETE_LINE -> {
                if (lines.isEmpty()) return b;
                lines.remove(at % lines.size());
                return join(lines);
            }
            case SWAP_LINES -> {
                if (lines.size() < 2) return b;
                int i = at % lines.size(), j = arg % lines.size();
                byte[] li = withNewline(lines.get(i)), lj = withNewline(lines.get(j));
                lines.set(i, lj);
                lines.set(j, li);
                return join(lines);
            }
            case REPLACE_FIELD, ADD_FIELD, REMOVE_FIELD -> {
                if (lines.isEmpty()) return b;
                int i = at % lines.size();
                lines.set(i, editField(lines.get(i), m.kind(), arg, sep));
                return join(lines);
            }
            case GARBAGE -> {
                SplittableRandom r = new SplittableRandom(arg);
                byte[] g = new byte[1 + r.nextInt(16)];
                for (int k = 0; k < g.length; k++) g[k] = (byte) r.nextInt(256);
                int p = at % (n + 1);
                return concat(Arrays.copyOf(b, p), g, Arrays.copyOfRange(b, p, n));
            }
            case BLANK_LINE -> {
                int i = lines.isEmpty() ? 0 : at % (lines.size() + 1);
                lines.add(i, (arg & 1) == 0 ? new byte[] {'\n'} : new byte[] {' ', '\t', '\n'});
                return join(lines);
            }
            case CRLF -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (byte x : b) {
                    if (x == '\n') out.write('\r');
                    out.write(x);
                }
                return out.toByteArray();
            }
            case NO_FINAL_NEWLINE -> {
                int e = n;
                while (e > 0 && (b[e - 1] == '\n' || b[e - 1] == '\r')) e--;
                return Arrays.copyOf(b, e);
            }
            case BOM -> {
                return concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, b);
            }
            default -> throw new AssertionError(m);
        }
    }

    /** Replaces, adds or removes field (arg % fields) of one line (with its newline kept at the end). */
    private static byte[] editField(byte[] line, Mutation.Kind kind, int arg, byte sep) {
        int end = line.length;
        boolean nl = end > 0 && line[end - 1] == '\n';
        if (nl) end--;
        String text = new String(line, 0, end, StandardCharsets.ISO_8859_1);
        List<String> fields = new ArrayList<>(Arrays.asList(text.split(Pattern.quote(String.valueOf((char) sep)), -1)));
        int f = arg % fields.size();
        switch (kind) {
            case REPLACE_FIELD -> fields.set(f, latin1(TOKENS[(arg >>> 8) % TOKENS.length]));
            case ADD_FIELD -> fields.add(f, latin1(TOKENS[(arg >>> 8) % TOKENS.length]));
            default -> {
                if (fields.size() > 1) fields.remove(f);
                else fields.set(0, "");
            }
        }
        String joined = String.join(String.valueOf((char) sep), fields) + (nl ? "\n" : "");
        return joined.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The UTF-8 bytes of s as a Latin-1 string, so a token with non-ASCII characters goes in as its UTF-8 bytes. */
    private static String latin1(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    private static List<byte[]> splitKeepingEnds(byte[] b) {
        List<byte[]> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n') {
                lines.add(Arrays.copyOfRange(b, start, i + 1));
                start = i + 1;
            }
        }
        if (start < b.length) lines.add(Arrays.copyOfRange(b, start, b.length));
        return lines;
    }

    private static byte[] withNewline(byte[] line) {
        return line.length > 0 && line[line.length - 1] == '\n' ? line : concat(line, new byte[] {'\n'});
    }

    private static byte[] join(List<byte[]> parts) {
        return concat(parts.toArray(new byte[0][]));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- containers

    /** How the bytes are stored: plain, or gzip (named .gz or not), whole, truncated or with a byte flipped. */
    enum Container { PLAIN, GZIP, GZIP_UNNAMED, GZIP_TRUNCATED, GZIP_FLIPPED }

    static Arbitrary<Container> containers() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just(Container.PLAIN)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Container.GZIP)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Container.GZIP_UNNAMED)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Container.GZIP_TRUNCATED)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Container.GZIP_FLIPPED)));
    }

    /** Writes content into dir as name (+ ".gz" for the gzip containers that carry the suffix); seed picks cut points. */
    static Path store(Path dir, String name, byte[] content, Container c, int seed) throws IOException {
        Files.createDirectories(dir);
        byte[] bytes = content;
        String file = name;
        if (c != Container.PLAIN) {
            bytes = gzip(content);
            if (c != Container.GZIP_UNNAMED) file = name + ".gz";
            if (c == Container.GZIP_TRUNCATED) bytes = Arrays.copyOf(bytes, Math.floorMod(seed, bytes.length));
            if (c == Container.GZIP_FLIPPED) {
                bytes[Math.floorMod(seed, bytes.length)] ^= (byte) (1 + Math.floorMod(seed >>> 11, 255));
            }
        }
        Path p = dir.resolve(file);
        Files.write(p, bytes);
        return p;
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }

    /**
     * The bytes a reader sees in a stored file, as the reference parsers take them: gunzipped when the name ends
     * in .gz or the bytes start with the gzip magic; null when the file cannot be a data file (empty, a .gz name
     * without gzip bytes, or corrupt gzip): a reader must then fail.
     */
    static byte[] decoded(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        if (raw.length == 0) return null;
        boolean magic = raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
        if (file.toString().endsWith(".gz") && !magic) return null;
        if (!magic) return raw;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            return in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Reference line splitting: lines end at '\n'; one '\r' before it (or at the very end) is dropped; a last line
     * without '\n' is a line; a UTF-8 byte-order mark at the start of the file is not part of line 1. Lines come
     * back as Latin-1 strings, one char per byte.
     */
    static List<String> lines(byte[] text) {
        int from = text.length >= 3 && (text[0] & 0xff) == 0xEF && (text[1] & 0xff) == 0xBB && (text[2] & 0xff) == 0xBF ? 3 : 0;
        List<String> out = new ArrayList<>();
        int start = from;
        for (int i = from; i <= text.length; i++) {
            if (i == text.length && start == text.length) break;
            if (i == text.length || text[i] == '\n') {
                int end = i > start && text[i - 1] == '\r' ? i - 1 : i;
                out.add(new String(text, start, end - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        return out;
    }

    /** The reference number parser: the documented grammar, then Java's rounding; null unless finite. */
    static Float number(String s) {
        if (!DECIMAL.matcher(s).matches()) return null;
        float f = Float.parseFloat(s);
        return Float.isFinite(f) ? f : null;
    }

    /** The reference label rule of {@link AsciiNumbers#checkLabel}; null when the label does not fit the task. */
    static Float label(String s, int numClasses, boolean plusMinusOne) {
        Float v = number(s);
        if (v == null) return null;
        if (numClasses == 0) return v;
        if (numClasses == 2) {
            if (v == 0f) return 0f;
            if (v == 1f) return 1f;
            return plusMinusOne && v == -1f ? 0f : null;
        }
        return v >= 0 && v < numClasses && v == Math.rint(v) ? v + 0f : null;
    }

    /** Bitwise equality of float ranges (so -0 differs from 0), with the index of the first difference. */
    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(what + "[" + i + "]: expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
