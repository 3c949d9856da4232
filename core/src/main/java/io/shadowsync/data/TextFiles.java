package io.shadowsync.data;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * A data set of one or more text files of one format (a file, a directory, a glob such as {@code day_*.gz}), read one
 * after the other, and cut into input splits by bytes.
 *
 * <p>{@link #share} is Hadoop's input split over the files laid end to end in name order: part k of n covers the bytes
 * {@code [T·k/n, T·(k+1)/n)} of the T bytes on disk; a plain file is cut on line boundaries (see
 * {@link TextFileSource#range}), a gzip file cannot be read from its middle and goes whole to the part its first byte
 * falls in. Every line is read by exactly one part, and each part parses only its own bytes.
 */
public final class TextFiles implements SplittableSource {
    private final List<TextFileSource> pieces;
    private final DataSchema schema;
    private final String description;

    private TextFiles(List<TextFileSource> pieces, DataSchema schema, String description) {
        this.pieces = List.copyOf(pieces);
        this.schema = schema;
        this.description = description;
    }

    /**
     * The files one after the other; each must have the schema of the first (a CSV header that differs is refused,
     * naming the file).
     */
    public static TextFiles of(List<? extends TextFileSource> files) {
        if (files.isEmpty()) throw new IllegalArgumentException("no files");
        DataSchema schema = files.get(0).schema();
        for (TextFileSource f : files) {
            if (!f.schema().equals(schema)) {
                throw new DataException(DataFiles.name(f.file()), 0, "has a different layout (" + f.schema() + ") than "
                        + files.get(0).file() + " (" + schema + ")");
            }
        }
        return new TextFiles(List.copyOf(files), schema, describe(files));
    }

    /** Each file of path (see {@link #expand}) as source builds it, one after the other. */
    public static TextFiles of(Path path, Function<Path, ? extends TextFileSource> source) throws IOException {
        List<TextFileSource> files = new ArrayList<>();
        for (Path f : expand(path)) files.add(source.apply(f));
        return of(files);
    }

    /**
     * The data files a path names: a file itself; a directory's files (not those whose name starts with {@code .} or
     * {@code _}, as Hadoop's {@code _SUCCESS}, nor empty ones), in name order; a glob ({@code * ? [ ] { }}) in the last
     * name, the matching files of its directory, likewise. Refuses a path that names no file, with one sentence.
     */
    public static List<Path> expand(Path path) throws IOException {
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        boolean glob = name.chars().anyMatch(c -> "*?[]{}".indexOf(c) >= 0) && !Files.exists(path);
        if (!glob && !Files.isDirectory(path)) return List.of(path); // a file: its readers refuse a missing or empty one
        Path dir = glob ? (path.getParent() == null ? Path.of(".") : path.getParent()) : path;
        if (!Files.isDirectory(dir)) throw new DataException(path.toString(), 0, "no such directory: " + dir);
        PathMatcher match = glob ? FileSystems.getDefault().getPathMatcher("glob:" + name) : p -> true;
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> in = Files.newDirectoryStream(dir)) {
            for (Path f : in) {
                String n = f.getFileName().toString();
                if (n.startsWith(".") || n.startsWith("_") || !match.matches(f.getFileName())) continue;
                if (Files.isRegularFile(f) && Files.size(f) > 0) files.add(f);
            }
        }
        if (files.isEmpty()) {
            throw new DataException(path.toString(), 0, glob ? "no non-empty file matches this pattern" : "directory holds no non-empty data file");
        }
        files.sort(null);
        return List.copyOf(files);
    }

    /**
     * What tells this data set from another: for one file its {@link DataSource#fileFingerprint} (the form checkpoints
     * have always recorded); for several, their count and the CRC32C of their fingerprints in name order.
     */
    public static String fingerprint(List<Path> files) throws IOException {
        if (files.size() == 1) return DataFiles.fingerprint(files.get(0));
        CRC32C crc = new CRC32C();
        long size = 0;
        for (Path f : files) {
            crc.update(DataFiles.fingerprint(f).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            size += Files.size(f);
        }
        return "files=" + files.size() + " size=" + size + " crc32c(fingerprints)=" + Long.toHexString(crc.getValue());
    }

    /**
     * These files as a source that does not split: trainers each read all of it and keep every N-th example (the
     * behaviour before input splits).
     */
    public DataSource unsplit() {
        TextFiles files = this;
        return new DataSource() {
            @Override
            public DataSchema schema() {
                return files.schema();
            }

            @Override
            public ExampleReader open() throws IOException {
                return files.open();
            }

            @Override
            public String describe() {
                return files.describe();
            }

            @Override
            public String fingerprint() throws IOException {
                return files.fingerprint();
            }
        };
    }

    /**
     * Whether every file is plain text (none gzip): its size on disk is its text's, and it can be cut into byte ranges
     * parsed in parallel.
     */
    public boolean plain() throws IOException {
        for (TextFileSource f : pieces) {
            if (DataFiles.isCompressed(f.file())) return false;
        }
        return true;
    }

    /** The files, or pieces of files, read one after the other. */
    public List<TextFileSource> pieces() {
        return pieces;
    }

    @Override
    public DataSource share(int index, int count) {
        if (count < 1 || index < 0 || index >= count) throw new IllegalArgumentException("share " + index + " of " + count);
        try {
            long total = 0;
            long[] sizes = new long[pieces.size()];
            // a piece that is a byte range already (a part of a part: the threads that load one trainer's split) counts its range
            for (int i = 0; i < sizes.length; i++) total += sizes[i] = bytesOf(pieces.get(i));
            long lo = boundary(total, index, count), hi = boundary(total, index + 1, count);
            List<TextFileSource> mine = new ArrayList<>();
            long at = 0;
            for (int i = 0; i < sizes.length; i++) {
                TextFileSource f = pieces.get(i);
                long s = sizes[i];
                if (DataFiles.isCompressed(f.file())) {
                    if (at >= lo && at < hi) mine.add(f);
                } else {
                    long a = Math.max(lo - at, 0), b = Math.min(hi - at, s);
                    if (b > a) mine.add(a == 0 && b == s ? f : f.range(f.byteRange().from() + a, f.byteRange().from() + b));
                }
                at += s;
            }
            String what = describe(pieces) + " (part " + index + " of " + count + ")";
            return new TextFiles(mine, schema, what);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Whether each of count parts gets a file or a byte range of one: not so with fewer gzip files (read whole) than parts. */
    @Override
    public boolean splitsInto(int count) {
        for (int k = 0; k < count; k++) {
            if (((TextFiles) share(k, count)).pieces.isEmpty()) return false;
        }
        return true;
    }

    /** The bytes of its file a piece reads: the whole file's size, or its byte range's length within it. */
    private static long bytesOf(TextFileSource f) throws IOException {
        long size = Files.size(f.file());
        if (DataFiles.isCompressed(f.file())) return size;
        TextFileSource.ByteRange r = f.byteRange();
        return Math.max(0, Math.min(r.to(), size) - Math.min(r.from(), size));
    }

    /** {@code total·i/n} without overflow: parts k and k+1 compute their common boundary alike. */
    private static long boundary(long total, int i, int n) {
        return BigInteger.valueOf(total).multiply(BigInteger.valueOf(i)).divide(BigInteger.valueOf(n)).longValueExact();
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public String describe() {
        return description;
    }

    private static String describe(List<? extends TextFileSource> files) {
        return files.size() == 1 ? files.get(0).describe() : files.get(0).describe() + " and " + (files.size() - 1) + " more file(s)";
    }

    @Override
    public String fingerprint() throws IOException {
        List<Path> files = new ArrayList<>();
        for (TextFileSource f : pieces) files.add(f.file());
        return fingerprint(files);
    }

    @Override
    public ExampleReader open() throws IOException {
        return new Reader();
    }

    /** The pieces' readers one after the other; one open at a time. */
    private final class Reader implements ExampleReader {
        private int next;
        private ExampleReader current;
        private long skippedBefore;

        @Override
        public DataSchema schema() {
            return schema;
        }

        @Override
        public boolean readInto(Batch batch) throws IOException {
            for (;;) {
                if (current == null) {
                    if (next == pieces.size()) return false;
                    current = pieces.get(next++).open();
                }
                if (current.readInto(batch)) return true;
                skippedBefore += current.skippedLines();
                ExampleReader done = current;
                current = null;
                done.close();
            }
        }

        @Override
        public long skippedLines() {
            return skippedBefore + (current == null ? 0 : current.skippedLines());
        }

        @Override
        public void close() throws IOException {
            if (current != null) current.close();
            current = null;
            next = pieces.size();
        }
    }
}
