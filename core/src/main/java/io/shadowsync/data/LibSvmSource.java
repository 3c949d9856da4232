package io.shadowsync.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * LibSVM / SVMlight text: one example per line, {@code label idx:val idx:val ...}, separated by spaces or tabs.
 * A {@code qid:n} token is checked and ignored; {@code #} starts a comment to the end of the line; blank and
 * comment-only lines are not examples and are passed over. Plain or gzip ({@code .gz}).
 *
 * <p>Labels: binary (numClasses 2) 0/1 or -1/+1 (stored 0/1); multiclass an integer 0..C-1; regression
 * (numClasses 0) any finite number. Indices are 1-based unless zeroBased and stored 0-based; they need not
 * increase along a line. Features go into the batch's CSR arrays; the schema's sparseDim is 0 (unknown
 * without a pass over the file).
 */
public final class LibSvmSource implements TextFileSource {
    private final Path file;
    private final boolean zeroBased;
    private final boolean skipBadLines;
    private final int bufferBytes;
    private final DataSchema schema;
    /** The byte range read (see {@link TextFileSource#range}); the whole file is {@code [0, MAX_VALUE)}. */
    private final long from, to;

    /**
     * @param file         the LibSVM file; gzip when its name ends in {@code .gz}
     * @param numClasses   2 binary, C &gt; 2 multiclass, 0 regression
     * @param zeroBased    whether the file's feature indices start at 0 (LibSVM's convention is 1)
     * @param skipBadLines skip malformed lines and count them instead of failing
     */
    public LibSvmSource(Path file, int numClasses, boolean zeroBased, boolean skipBadLines) {
        this(file, numClasses, zeroBased, skipBadLines, LineScanner.DEFAULT_BUFFER_BYTES);
    }

    LibSvmSource(Path file, int numClasses, boolean zeroBased, boolean skipBadLines, int bufferBytes) {
        this(file, numClasses, zeroBased, skipBadLines, bufferBytes, 0, Long.MAX_VALUE);
    }

    private LibSvmSource(Path file, int numClasses, boolean zeroBased, boolean skipBadLines, int bufferBytes, long from, long to) {
        this.file = Objects.requireNonNull(file, "file");
        this.zeroBased = zeroBased;
        this.skipBadLines = skipBadLines;
        this.bufferBytes = bufferBytes;
        this.schema = new DataSchema(0, 0, true, 0, AsciiNumbers.checkNumClasses(numClasses));
        this.from = from;
        this.to = to;
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
    public LibSvmSource range(long from, long to) {
        return new LibSvmSource(file, schema.numClasses(), zeroBased, skipBadLines, bufferBytes, from, to);
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public ExampleReader open() throws IOException {
        return new Reader(new LineScanner(file, bufferBytes, from, to), this);
    }

    @Override
    public String describe() {
        return "libsvm:" + file + (from == 0 && to == Long.MAX_VALUE ? "" : " [bytes " + from + ".." + to + ")");
    }

    /** The size and CRC32C of the first MiB of the file (see {@link DataSource#fileFingerprint}). */
    @Override
    public String fingerprint() throws IOException {
        return DataFiles.fingerprint(file);
    }

    /** One pass over the file; owned by one thread. */
    private static final class Reader implements ExampleReader {
        private final LineScanner lines;
        private final DataSchema schema;
        private final int numClasses;
        private final int minIndex;
        private final boolean skip;
        private long skipped;
        private long examples;
        private boolean closed;

        Reader(LineScanner lines, LibSvmSource source) {
            this.lines = lines;
            this.schema = source.schema;
            this.numClasses = source.schema.numClasses();
            this.minIndex = source.zeroBased ? 0 : 1;
            this.skip = source.skipBadLines;
        }

        @Override
        public DataSchema schema() {
            return schema;
        }

        @Override
        public boolean readInto(Batch batch) throws IOException {
            if (closed) throw new IllegalStateException("reader of " + lines.file + " is closed");
            if (batch.sparseOffsets == null) throw new IllegalArgumentException("LibSVM rows need a batch with sparse arrays");
            if (batch.isFull()) throw new IllegalStateException("batch is full (" + batch.capacity + " examples)");
            while (lines.next()) {
                String reason = parse(lines.buf, lines.start, lines.end, batch);
                if (reason == null) {
                    batch.size++;
                    examples++;
                    return true;
                }
                if (reason.isEmpty()) continue; // blank or comment-only line
                if (!skip) throw lines.error(reason);
                skipped++;
            }
            if (examples == 0 && skipped == 0) throw new DataException(lines.file, 0, "no examples (only blank or comment lines)");
            return false;
        }

        /** Parses b[s, e) into row batch.size; null when it is an example, "" when blank, else why it is malformed. */
        private String parse(byte[] b, int s, int e, Batch batch) {
            for (int i = s; i < e; i++) {
                if (b[i] == '#') {
                    e = i;
                    break;
                }
            }
            int p = skipSpace(b, s, e);
            if (p == e) return "";
            int q = tokenEnd(b, p, e);
            float label = AsciiNumbers.checkLabel(AsciiNumbers.parseFloat(b, p, q), numClasses, true);
            if (Float.isNaN(label)) return AsciiNumbers.labelRule(numClasses, true) + ", got " + lines.quote(p, q);
            int row = batch.size;
            batch.labels[row] = label;
            int n = batch.sparseOffsets[row];
            for (p = skipSpace(b, q, e); p < e; p = skipSpace(b, q, e)) {
                q = tokenEnd(b, p, e);
                int colon = p;
                while (colon < q && b[colon] != ':') colon++;
                if (colon == q || colon == p) return "expected index:value, got " + lines.quote(p, q);
                if (colon - p == 3 && b[p] == 'q' && b[p + 1] == 'i' && b[p + 2] == 'd') {
                    if (AsciiNumbers.parseNonNegativeInt(b, colon + 1, q) == AsciiNumbers.BAD_INT) {
                        return "qid must be a non-negative integer, got " + lines.quote(p, q);
                    }
                    continue;
                }
                int idx = AsciiNumbers.parseNonNegativeInt(b, p, colon);
                if (idx == AsciiNumbers.BAD_INT) return "feature index is not a non-negative integer: " + lines.quote(p, q);
                if (idx < minIndex) return "feature index must be >= 1 (indices are 1-based), got " + lines.quote(p, q);
                float v = AsciiNumbers.parseFloat(b, colon + 1, q);
                if (Float.isNaN(v)) return "feature value is not a finite number: " + lines.quote(p, q);
                // ensureSparseCapacity counts from this row's start, sparseOffsets[size]; it doubles, so this is rare
                if (n == batch.sparseIdx.length) batch.ensureSparseCapacity(n - batch.sparseOffsets[row] + 1);
                batch.sparseIdx[n] = idx - minIndex;
                batch.sparseVal[n] = v;
                n++;
            }
            batch.sparseOffsets[row + 1] = n;
            return null;
        }

        private static int skipSpace(byte[] b, int p, int e) {
            while (p < e && (b[p] == ' ' || b[p] == '\t')) p++;
            return p;
        }

        private static int tokenEnd(byte[] b, int p, int e) {
            while (p < e && b[p] != ' ' && b[p] != '\t') p++;
            return p;
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
