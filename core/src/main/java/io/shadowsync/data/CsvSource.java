package io.shadowsync.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Dense CSV with a header row: comma-separated, one example per line; the label column is chosen by name, every
 * other column is a float feature, in header order. Header names may be quoted; cells are decimal numbers
 * (spaces around them and surrounding quotes are allowed). An empty or non-numeric cell is an error naming
 * the line and column. Blank lines are passed over; a file with no row after the header is an error. Plain or
 * gzip ({@code .gz}).
 *
 * <p>The header is read when the source is made, so that {@link #schema()} knows the number of features.
 */
public final class CsvSource implements TextFileSource {
    private final Path file;
    private final String labelColumn;
    private final boolean skipBadLines;
    private final int bufferBytes;
    private final List<String> columns;
    private final int labelIndex;
    private final DataSchema schema;
    /** The byte range read (see {@link TextFileSource#range}); the whole file is {@code [0, MAX_VALUE)}. */
    private final long from, to;

    /**
     * @param file         the CSV file; gzip when its name ends in {@code .gz}
     * @param labelColumn  name of the label column in the header
     * @param numClasses   2 binary (labels 0/1), C &gt; 2 multiclass (0..C-1), 0 regression
     * @param skipBadLines skip malformed lines and count them instead of failing
     * @throws DataException when the file is missing or empty, or the header has no such column (the message
     *                       lists the columns)
     */
    public CsvSource(Path file, String labelColumn, int numClasses, boolean skipBadLines) throws IOException {
        this(file, labelColumn, numClasses, skipBadLines, LineScanner.DEFAULT_BUFFER_BYTES);
    }

    CsvSource(Path file, String labelColumn, int numClasses, boolean skipBadLines, int bufferBytes) throws IOException {
        this.file = Objects.requireNonNull(file, "file");
        this.labelColumn = Objects.requireNonNull(labelColumn, "labelColumn");
        this.skipBadLines = skipBadLines;
        this.bufferBytes = bufferBytes;
        AsciiNumbers.checkNumClasses(numClasses);
        try (LineScanner lines = new LineScanner(file, bufferBytes)) {
            this.columns = readHeader(lines);
        }
        this.labelIndex = columns.indexOf(labelColumn);
        String name = DataFiles.name(file);
        if (labelIndex < 0) {
            throw new DataException(name, 1, "no label column '" + labelColumn + "'; the columns are: " + String.join(", ", columns));
        }
        if (columns.lastIndexOf(labelColumn) != labelIndex) {
            throw new DataException(name, 1, "label column '" + labelColumn + "' appears more than once in the header");
        }
        if (columns.size() < 2) throw new DataException(name, 1, "the header names only the label column, no features");
        this.schema = new DataSchema(columns.size() - 1, 0, false, 0, numClasses);
        this.from = 0;
        this.to = Long.MAX_VALUE;
    }

    /** A byte range of whole's file; the header was read by whole. */
    private CsvSource(CsvSource whole, long from, long to) {
        this.file = whole.file;
        this.labelColumn = whole.labelColumn;
        this.skipBadLines = whole.skipBadLines;
        this.bufferBytes = whole.bufferBytes;
        this.columns = whole.columns;
        this.labelIndex = whole.labelIndex;
        this.schema = whole.schema;
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

    /** A byte range of the file: the range from 0 reads the header first; the others hold rows only. */
    @Override
    public CsvSource range(long from, long to) {
        return new CsvSource(this, from, to);
    }

    private boolean whole() {
        return from == 0 && to == Long.MAX_VALUE;
    }

    /** The header's column names, label included, in file order. */
    public List<String> columns() {
        return columns;
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public ExampleReader open() throws IOException {
        LineScanner lines = new LineScanner(file, bufferBytes, from, to);
        try {
            if (from == 0 && !readHeader(lines).equals(columns)) throw lines.error("the header changed since the source was made");
            if (whole() && lines.atEnd()) throw new DataException(lines.file, 0, "has a header but no data rows");
            return new Reader(lines, this);
        } catch (IOException | RuntimeException e) {
            lines.close();
            throw e;
        }
    }

    @Override
    public String describe() {
        return "csv:" + file + (whole() ? "" : " [bytes " + from + ".." + to + ")") + " (label " + labelColumn + ")";
    }

    /** The size and CRC32C of the first MiB of the file (see {@link DataSource#fileFingerprint}). */
    @Override
    public String fingerprint() throws IOException {
        return DataFiles.fingerprint(file);
    }

    private static List<String> readHeader(LineScanner lines) throws IOException {
        if (!lines.next()) throw new DataException(lines.file, 0, "empty file");
        String header = new String(lines.buf, lines.start, lines.end - lines.start, StandardCharsets.UTF_8);
        List<String> names = new ArrayList<>();
        for (String cell : header.split(",", -1)) {
            String name = cell.strip();
            if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) name = name.substring(1, name.length() - 1);
            if (name.isEmpty()) throw lines.error("header column " + (names.size() + 1) + " has no name");
            names.add(name);
        }
        return List.copyOf(names);
    }

    /** One pass over the rows; owned by one thread. */
    private static final class Reader implements ExampleReader {
        private final LineScanner lines;
        private final CsvSource source;
        private final int numColumns;
        private final int numClasses;
        private long skipped;
        private long examples;
        private boolean closed;

        Reader(LineScanner lines, CsvSource source) {
            this.lines = lines;
            this.source = source;
            this.numColumns = source.columns.size();
            this.numClasses = source.schema.numClasses();
        }

        @Override
        public DataSchema schema() {
            return source.schema;
        }

        @Override
        public boolean readInto(Batch batch) throws IOException {
            if (closed) throw new IllegalStateException("reader of " + lines.file + " is closed");
            if (batch.numDense != source.schema.numDense()) {
                throw new IllegalArgumentException("this CSV has " + source.schema.numDense() + " features, the batch holds "
                        + batch.numDense);
            }
            if (batch.isFull()) throw new IllegalStateException("batch is full (" + batch.capacity + " examples)");
            while (lines.next()) {
                if (isBlank(lines.buf, lines.start, lines.end)) continue;
                String reason = parse(lines.buf, lines.start, lines.end, batch);
                if (reason == null) {
                    batch.endDenseExample();
                    examples++;
                    return true;
                }
                if (!source.skipBadLines) throw lines.error(reason);
                skipped++;
            }
            // only blank lines after the header: as empty as a header alone (refused in open())
            if (examples == 0 && skipped == 0 && source.whole()) throw new DataException(lines.file, 0, "has a header but no data rows");
            return false;
        }

        /** Parses b[s, e) into row batch.size; null, or why the line is malformed. */
        private String parse(byte[] b, int s, int e, Batch batch) {
            int row = batch.size;
            int at = row * (numColumns - 1);
            int p = s;
            for (int c = 0; c < numColumns; c++) {
                int q = p;
                while (q < e && b[q] != ',') q++;
                if (q == e && c < numColumns - 1) return fieldCount(b, s, e);
                int lo = p, hi = q;
                while (lo < hi && (b[lo] == ' ' || b[lo] == '\t')) lo++;
                while (hi > lo && (b[hi - 1] == ' ' || b[hi - 1] == '\t')) hi--;
                if (hi - lo >= 2 && b[lo] == '"' && b[hi - 1] == '"') {
                    lo++;
                    hi--;
                }
                if (lo == hi) return "column '" + source.columns.get(c) + "' is empty";
                float v = AsciiNumbers.parseFloat(b, lo, hi);
                if (c == source.labelIndex) {
                    float label = AsciiNumbers.checkLabel(v, numClasses, false);
                    if (Float.isNaN(label)) {
                        return AsciiNumbers.labelRule(numClasses, false) + " (column '" + source.labelColumn + "'), got "
                                + lines.quote(p, q);
                    }
                    batch.labels[row] = label;
                } else {
                    if (Float.isNaN(v)) return "column '" + source.columns.get(c) + "' is not a number: " + lines.quote(p, q);
                    batch.dense[at++] = v;
                }
                p = q + 1;
            }
            if (p <= e) return fieldCount(b, s, e); // a comma after the last column
            return null;
        }

        private String fieldCount(byte[] b, int s, int e) {
            int fields = 1;
            for (int i = s; i < e; i++) {
                if (b[i] == ',') fields++;
            }
            return "expected " + numColumns + " comma-separated fields as in the header, got " + fields;
        }

        private static boolean isBlank(byte[] b, int s, int e) {
            for (int i = s; i < e; i++) {
                if (b[i] != ' ' && b[i] != '\t') return false;
            }
            return true;
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
