package io.shadowsync.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Opens data files for the readers of this package: refuses a missing, unreadable or empty file with one
 * sentence, and decompresses gzip when the name ends in {@code .gz} or the bytes start with the gzip magic.
 */
final class DataFiles {
    /** Read-ahead of the file (and of the compressed bytes of a gzip file); reads larger than this bypass it. */
    static final int STREAM_BUFFER_BYTES = 1 << 16;

    private DataFiles() {
    }

    /** Examples {@link DataSource#fingerprint()} reads from a source that is not a file. */
    static final int FINGERPRINT_EXAMPLES = 65_536;

    /** See {@link DataSource#fileFingerprint}: the form checkpoints have recorded as {@code train-data} since they exist. */
    static String fingerprint(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            CRC32C crc = new CRC32C();
            crc.update(in.readNBytes(1 << 20));
            return "size=" + Files.size(file) + " crc32c(first MiB)=" + Long.toHexString(crc.getValue());
        }
    }

    /** See {@link DataSource#fingerprint()}: the first examples of source, counted and checksummed. */
    static String fingerprintExamples(DataSource source) throws IOException {
        CRC32C crc = new CRC32C();
        DataSchema schema = source.schema();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4 * (1 + schema.numDense() + schema.numCat()) + 8);
        Batch b = new Batch(1024, schema);
        long n = 0;
        try (ExampleReader r = source.open()) {
            boolean more = true;
            while (more && n < FINGERPRINT_EXAMPLES) {
                b.clear();
                while (!b.isFull() && (more = r.readInto(b))) {
                    // fill the batch
                }
                int size = (int) Math.min(b.size, FINGERPRINT_EXAMPLES - n);
                for (int i = 0; i < size; i++) {
                    buf.clear();
                    buf.putFloat(b.labels[i]);
                    for (int j = 0; j < b.numDense; j++) buf.putFloat(b.dense[i * b.numDense + j]);
                    for (int j = 0; j < b.numCat; j++) buf.putInt(b.cat[i * b.numCat + j]);
                    crc.update(buf.flip());
                    if (b.sparseOffsets != null) {
                        for (int k = b.sparseOffsets[i]; k < b.sparseOffsets[i + 1]; k++) {
                            buf.clear();
                            crc.update(buf.putInt(b.sparseIdx[k]).putFloat(b.sparseVal[k]).flip());
                        }
                    }
                }
                n += size;
            }
        }
        return "examples(first " + FINGERPRINT_EXAMPLES + ")=" + n + " crc32c=" + Long.toHexString(crc.getValue());
    }

    /** The name used in error messages: the path as the user gave it. */
    static String name(Path file) {
        return file.toString();
    }

    /**
     * Opens file for sequential reading, decompressing gzip. Throws {@link DataException} for a missing,
     * unreadable or empty file, and for a {@code .gz} name whose bytes are not gzip.
     */
    static InputStream open(Path file) throws IOException {
        String name = name(file);
        if (!Files.exists(file)) throw new DataException(name, 0, "no such file");
        if (Files.isDirectory(file)) throw new DataException(name, 0, "is a directory, not a data file");
        if (!Files.isReadable(file)) throw new DataException(name, 0, "file is not readable");
        if (Files.size(file) == 0) throw new DataException(name, 0, "empty file");
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), STREAM_BUFFER_BYTES);
        try {
            in.mark(2);
            int b0 = in.read(), b1 = in.read();
            in.reset();
            boolean gzipMagic = b0 == 0x1f && b1 == 0x8b;
            if (name.endsWith(".gz") && !gzipMagic) {
                throw new DataException(name, 0, "not a gzip file, though its name ends in .gz");
            }
            return gzipMagic ? new GZIPInputStream(in, STREAM_BUFFER_BYTES) : in;
        } catch (IOException | RuntimeException e) {
            in.close();
            if (e instanceof ZipException || e instanceof EOFException) {
                throw new DataException(name, 0, "corrupt gzip header (" + e.getMessage() + ")", e);
            }
            throw e;
        }
    }

    /**
     * Opens a plain (not compressed) file for sequential reading from byte offset from (an input split). Refuses what
     * {@link #open} refuses, and a gzip file: its bytes cannot be read from the middle.
     */
    static InputStream openAt(Path file, long from) throws IOException {
        String name = name(file);
        if (isCompressed(file)) throw new DataException(name, 0, "a gzip file is read whole; it cannot be split at byte " + from);
        open(file).close(); // the checks of a whole file: exists, readable, not empty
        java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file);
        try {
            ch.position(from);
            return new BufferedInputStream(java.nio.channels.Channels.newInputStream(ch), STREAM_BUFFER_BYTES);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * The bytes of file once decompressed: its size, or for gzip the size its trailer records (modulo 2^32: a trailer
     * smaller than the compressed size has wrapped, and four times the compressed size stands in).
     */
    static long uncompressedSize(Path file) throws IOException {
        long size = Files.size(file);
        if (!isCompressed(file) || size < 18) return size;
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file)) {
            java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.position(size - 4);
            while (tail.hasRemaining() && ch.read(tail) >= 0) {
                // the last four bytes: ISIZE
            }
            long isize = Integer.toUnsignedLong(tail.getInt(0));
            return isize >= size ? isize : 4 * size;
        }
    }

    /** Whether file is gzip (by its name or its first two bytes): read whole, never split by bytes. */
    static boolean isCompressed(Path file) throws IOException {
        if (name(file).endsWith(".gz")) return true;
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    /**
     * Reads up to len bytes, fewer only at the end of the stream; turns a truncated or corrupt gzip stream into
     * a {@link DataException} at the given line (or record).
     */
    static int read(InputStream in, byte[] buf, int off, int len, String name, long line) throws IOException {
        int done = 0;
        try {
            while (done < len) {
                int n = in.read(buf, off + done, len - done);
                if (n < 0) break;
                done += n;
            }
        } catch (ZipException | EOFException e) {
            throw new DataException(name, line, "truncated or corrupt gzip data (" + e.getMessage() + ")", e);
        }
        return done;
    }
}
