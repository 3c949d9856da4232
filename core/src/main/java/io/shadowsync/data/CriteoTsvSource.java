package io.shadowsync.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Criteo-format TSV (the Criteo display-ads layout), one example per line, tab-separated: label 0/1, 13 integer
 * counts, 26 categorical ids of up to 8 hex digits. Plain or gzip ({@code .gz}); {@code \n} or {@code \r\n}.
 *
 * <p>As the PyTorch peer reads it ({@code read_criteo_tsv}): an empty field is missing (count 0, id 0); dense
 * feature j is {@code (float) Math.log1p(Math.max(count, 0))} computed in double; ids keep all 32 bits (stored
 * as int). Fields are numbered from 1 within their group in messages ("integer field 3", "categorical field 7",
 * i.e. Criteo's I3 and C7).
 *
 * <p>Made {@link #allowingUnlabeled}, a source also reads files of 39 fields, without the label (the test files of the
 * Criteo challenge), for scoring: each file's first line tells which it is (its label reads as 0), and a line of the
 * other kind in it is an error naming the line.
 *
 * <p>Parsing is byte-level, straight from the read buffer into the batch: no String, regex or allocation per
 * line, so one reader thread keeps ahead of a training loop at a million examples per second.
 */
public final class CriteoTsvSource implements TextFileSource {
    static final int NUM_INT = 13;
    static final int NUM_CAT = 26;
    static final int NUM_FIELDS = 1 + NUM_INT + NUM_CAT;
    /** log1p(count) for small counts, computed once with the same expression as for large ones. */
    private static final float[] LOG1P = new float[4096];
    /** ASCII byte to hex digit value, -1 when not a hex digit. */
    private static final byte[] HEX = new byte[256];

    static {
        for (int i = 0; i < LOG1P.length; i++) LOG1P[i] = (float) Math.log1p(i);
        Arrays.fill(HEX, (byte) -1);
        for (int i = 0; i < 10; i++) HEX['0' + i] = (byte) i;
        for (int i = 0; i < 6; i++) {
            HEX['a' + i] = (byte) (10 + i);
            HEX['A' + i] = (byte) (10 + i);
        }
    }

    private final Path file;
    private final boolean skipBadLines;
    private final int bufferBytes;
    private final boolean unlabeledAllowed;
    /** The byte range read (see {@link TextFileSource#range}); the whole file is {@code [0, MAX_VALUE)}. */
    private final long from, to;

    /**
     * @param file         the TSV file; gzip when its name ends in {@code .gz}
     * @param skipBadLines skip malformed lines and count them ({@link ExampleReader#skippedLines()}) instead of failing
     */
    public CriteoTsvSource(Path file, boolean skipBadLines) {
        this(file, skipBadLines, LineScanner.DEFAULT_BUFFER_BYTES);
    }

    /** With a chosen read buffer size (tests force a small one so that lines cross buffer boundaries). */
    CriteoTsvSource(Path file, boolean skipBadLines, int bufferBytes) {
        this(file, skipBadLines, bufferBytes, false, 0, Long.MAX_VALUE);
    }

    private CriteoTsvSource(Path file, boolean skipBadLines, int bufferBytes, boolean unlabeledAllowed, long from, long to) {
        this.file = Objects.requireNonNull(file, "file");
        this.skipBadLines = skipBadLines;
        this.bufferBytes = bufferBytes;
        this.unlabeledAllowed = unlabeledAllowed;
        this.from = from;
        this.to = to;
    }

    /** This source, also reading files without the label column (39 fields), for scoring; see the class comment. */
    public CriteoTsvSource allowingUnlabeled() {
        return new CriteoTsvSource(file, skipBadLines, bufferBytes, true, from, to);
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public ByteRange byteRange() {
        return new ByteRange(from, to);
    }

    @Override
    public CriteoTsvSource range(long from, long to) {
        return new CriteoTsvSource(file, skipBadLines, bufferBytes, unlabeledAllowed, from, to);
    }

    @Override
    public DataSchema schema() {
        return DataSchema.CRITEO;
    }

    @Override
    public ExampleReader open() throws IOException {
        boolean labeled = !unlabeledAllowed || firstLineFields() != NUM_FIELDS - 1;
        return new Reader(new LineScanner(file, bufferBytes, from, to), skipBadLines, labeled);
    }

    /** Tab-separated fields on the file's first line. */
    private int firstLineFields() throws IOException {
        try (LineScanner lines = new LineScanner(file, bufferBytes)) {
            if (!lines.next()) return NUM_FIELDS;
            int fields = 1;
            for (int i = lines.start; i < lines.end; i++) {
                if (lines.buf[i] == '\t') fields++;
            }
            return fields;
        }
    }

    @Override
    public String describe() {
        return "criteo:" + file + (from == 0 && to == Long.MAX_VALUE ? "" : " [bytes " + from + ".." + to + ")");
    }

    /** The size and CRC32C of the first MiB of the file (see {@link DataSource#fileFingerprint}). */
    @Override
    public String fingerprint() throws IOException {
        return DataFiles.fingerprint(file);
    }

    /** One pass over the file; owned by one thread. */
    private static final class Reader implements ExampleReader {
        private final LineScanner lines;
        private final boolean skip;
        /** Whether lines start with the label (40 fields) or not (39: a file to score). */
        private final boolean labeled;
        private long skipped;
        private boolean closed;

        Reader(LineScanner lines, boolean skip, boolean labeled) {
            this.lines = lines;
            this.skip = skip;
            this.labeled = labeled;
        }

        @Override
        public DataSchema schema() {
            return DataSchema.CRITEO;
        }

        @Override
        public boolean readInto(Batch batch) throws IOException {
            checkBatch(batch);
            while (lines.next()) {
                String reason = parse(lines.buf, lines.start, lines.end, batch);
                if (reason == null) {
                    batch.endDenseExample();
                    return true;
                }
                if (!skip) throw lines.error(reason);
                skipped++;
            }
            return false;
        }

        private void checkBatch(Batch batch) {
            if (closed) throw new IllegalStateException("reader of " + lines.file + " is closed");
            if (batch.numDense != NUM_INT || batch.numCat != NUM_CAT) {
                throw new IllegalArgumentException("Criteo rows need a batch with 13 dense and 26 categorical slots, got "
                        + batch.numDense + " and " + batch.numCat);
            }
            if (batch.isFull()) throw new IllegalStateException("batch is full (" + batch.capacity + " examples)");
        }

        /** Parses line b[s, e) into row batch.size; returns null, or why the line is malformed. */
        private String parse(byte[] b, int s, int e, Batch batch) {
            int row = batch.size;
            int p = s;
            if (labeled) {
                if (e - s < 2 || (b[s] != '0' && b[s] != '1') || b[s + 1] != '\t') return badLabel(b, s, e);
                batch.labels[row] = b[s] - '0';
                p = s + 2;
            } else {
                batch.labels[row] = 0;
            }
            float[] dense = batch.dense;
            int at = row * NUM_INT;
            for (int j = 0; j < NUM_INT; j++) {
                int q = p;
                boolean neg = false;
                if (q < e && (b[q] == '-' || b[q] == '+')) neg = b[q++] == '-';
                int d0 = q;
                long v = 0;
                for (; q < e; q++) {
                    int d = b[q] - '0';
                    if (d < 0 || d > 9) break;
                    v = v * 10 + d;
                }
                if (q == e) return fieldCountOr(b, s, e, null); // too few fields
                if (b[q] != '\t' || (q == d0 && q != p)) {
                    return fieldCountOr(b, s, e, "integer field " + (j + 1) + " is not an integer: " + lines.quote(p, fieldEnd(b, p, e)));
                }
                if (q - d0 > 18) {
                    return fieldCountOr(b, s, e, "integer field " + (j + 1) + " has more than 18 digits: " + lines.quote(p, q));
                }
                long count = neg ? 0 : v;
                dense[at + j] = count < LOG1P.length ? LOG1P[(int) count] : (float) Math.log1p(count);
                p = q + 1;
            }
            int[] cat = batch.cat;
            at = row * NUM_CAT;
            for (int j = 0; j < NUM_CAT; j++) {
                int q = p, id = 0;
                for (; q < e; q++) {
                    byte c = b[q];
                    if (c == '\t') break;
                    int h = HEX[c & 0xff];
                    if (h < 0) {
                        return fieldCountOr(b, s, e, "categorical field " + (j + 1) + " is not hex: " + lines.quote(p, fieldEnd(b, p, e)));
                    }
                    id = id << 4 | h;
                }
                if (q - p > 8) {
                    return fieldCountOr(b, s, e, "categorical field " + (j + 1) + " has more than 8 hex digits: " + lines.quote(p, q));
                }
                if (j < NUM_CAT - 1 ? q == e : q != e) return fieldCountOr(b, s, e, null);
                cat[at + j] = id;
                p = q + 1;
            }
            return null;
        }

        private String badLabel(byte[] b, int s, int e) {
            return fieldCountOr(b, s, e, "label must be 0 or 1, got " + lines.quote(s, fieldEnd(b, s, e)));
        }

        /** A wrong field count explains the line best; otherwise the given reason. */
        private String fieldCountOr(byte[] b, int s, int e, String reason) {
            int fields = 1;
            for (int i = s; i < e; i++) {
                if (b[i] == '\t') fields++;
            }
            int expected = labeled ? NUM_FIELDS : NUM_FIELDS - 1;
            if (fields != expected || reason == null) {
                return "expected " + expected + (labeled ? " tab-separated fields (label, 13 integer, 26 categorical), got "
                        : " tab-separated fields (13 integer, 26 categorical, no label, as on the file's first line), got ") + fields;
            }
            return reason;
        }

        private static int fieldEnd(byte[] b, int p, int e) {
            int q = p;
            while (q < e && b[q] != '\t') q++;
            return q;
        }

        @Override
        public long skippedLines() {
            return skipped;
        }

        @Override
        public void close() throws IOException {
            closed = true;
            lines.close();
        }
    }
}
