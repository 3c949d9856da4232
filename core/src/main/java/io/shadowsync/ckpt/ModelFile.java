package io.shadowsync.ckpt;

import io.shadowsync.nn.EmbeddingStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The saved-model file: versioned, checksummed, written atomically ({@link AtomicFiles}).
 *
 * <pre>
 * "SHDWSYNC"  magic, 8 bytes
 * u32         format version (1)
 * map         model spec (string properties, see ModelSpec#toProperties)
 * map         provenance (job settings, data fingerprint, metrics, version, time)
 * u64 n, f32[n]            dense parameters
 * u32 t, t × (u64 rows, u32 dim, f32[rows·dim])   embedding tables
 * u32         CRC32C of every byte above
 * "SSYNCEND"  end magic, 8 bytes
 * map = u32 count, count × (u32 len, UTF-8 key, u32 len, UTF-8 value); all numbers little-endian.
 * </pre>
 * A file that is truncated, has a bad checksum or an unknown version is refused with a sentence saying so;
 * nothing is built from it.
 */
public final class ModelFile {
    static final byte[] MAGIC = "SHDWSYNC".getBytes(StandardCharsets.US_ASCII);
    static final byte[] END_MAGIC = "SSYNCEND".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    private static final int CHUNK_ROWS = 4096;

    private ModelFile() {}

    /** What a model file holds. Tables are row-major {@code [rows×dim]} arrays. */
    public record Contents(Map<String, String> spec, Map<String, String> provenance, float[] dense,
                           long[][] tableShapes, float[][] tables) {}

    /** Saves spec, provenance, dense parameters and every embedding table (pulled row block by row block). */
    public static void write(Path file, Map<String, String> spec, Map<String, String> provenance, float[] dense,
                             EmbeddingStore tables) throws IOException {
        AtomicFiles.write(file, ch -> {
            BinaryOut out = new BinaryOut(ch);
            out.bytes(MAGIC);
            out.u32(VERSION);
            out.map(spec);
            out.map(provenance);
            out.u64(dense.length);
            out.f32s(dense, 0, dense.length);
            int t = tables == null ? 0 : tables.numTables();
            out.u32(t);
            for (int k = 0; k < t; k++) {
                long rows = tables.rows(k);
                int dim = tables.dim(k);
                out.u64(rows);
                out.u32(dim);
                int[] ids = new int[CHUNK_ROWS];
                float[] rowsBuf = new float[CHUNK_ROWS * dim];
                for (long r = 0; r < rows; r += CHUNK_ROWS) {
                    int n = (int) Math.min(CHUNK_ROWS, rows - r);
                    for (int j = 0; j < n; j++) ids[j] = (int) (r + j);
                    tables.pull(k, ids, 0, n, rowsBuf, 0);
                    out.f32s(rowsBuf, 0, n * dim);
                }
            }
            out.flush();
            out.u32(out.crc()); // the checksum covers every byte before it
            out.bytes(END_MAGIC);
            out.flush();
        });
    }

    /** Reads and verifies a model file. */
    public static Contents read(Path file) throws IOException {
        long size;
        if (Files.isDirectory(file)) throw new ModelFileException(file, "is a directory, not a model file");
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "no such file");
        }
        if (size < MAGIC.length + 4 + 4 + END_MAGIC.length) throw new ModelFileException(file, "too short to be a shadowsync model file (" + size + " bytes)");
        long heap = Runtime.getRuntime().maxMemory();
        if (size > heap * 0.85) { // its arrays are about as large as the file
            throw new ModelFileException(file, "is " + (size >> 20) + " MiB, more than this JVM's heap of " + (heap >> 20)
                    + " MiB can read; raise the heap (JAVA_OPTS=-Xmx" + (2 * size / (1L << 30) + 2) + "g)");
        }
        verifyChecksum(file, size);
        try (BinaryIn in = new BinaryIn(file, size - 12, "truncated or inconsistent: a length field points past the end")) {
            if (!java.util.Arrays.equals(in.bytes(MAGIC.length), MAGIC)) throw new ModelFileException(file, "not a shadowsync model file (bad magic)");
            int version = in.u32();
            if (version != VERSION) throw new ModelFileException(file, "format version " + version + " is not supported (this build reads version " + VERSION + ")");
            Map<String, String> spec = in.map();
            Map<String, String> prov = in.map();
            long n = in.u64();
            if (n < 0 || n > Integer.MAX_VALUE - 16) throw new ModelFileException(file, "implausible dense parameter count " + n);
            float[] dense = in.f32s((int) n);
            int t = in.u32();
            if (t < 0 || t > 1 << 16) throw new ModelFileException(file, "implausible embedding table count " + t);
            long[][] shapes = new long[t][];
            float[][] tables = new float[t][];
            for (int k = 0; k < t; k++) {
                long rows = in.u64();
                int dim = in.u32();
                if (rows < 0 || dim <= 0 || rows * dim > Integer.MAX_VALUE - 16) throw new ModelFileException(file, "embedding table " + k + " has an invalid shape " + rows + "x" + dim);
                shapes[k] = new long[] {rows, dim};
                tables[k] = in.f32s((int) (rows * dim));
            }
            if (in.remaining() != 0) throw new ModelFileException(file, "unexpected bytes after the embedding tables");
            return new Contents(spec, prov, dense, shapes, tables);
        }
    }

    private static void verifyChecksum(Path file, long size) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] tail = new byte[12];
        try (InputStream is = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = size - 12;
            while (left > 0) {
                int n = is.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) throw new ModelFileException(file, "truncated while reading");
                crc.update(buf, 0, n);
                left -= n;
            }
            if (is.readNBytes(tail, 0, 12) != 12) throw new ModelFileException(file, "truncated while reading");
        }
        ByteBuffer tb = ByteBuffer.wrap(tail).order(ByteOrder.LITTLE_ENDIAN);
        int stored = tb.getInt();
        byte[] end = new byte[8];
        tb.get(end);
        if (!java.util.Arrays.equals(end, END_MAGIC)) throw new ModelFileException(file, "truncated or not a shadowsync model file (end marker missing)");
        if (stored != (int) crc.getValue()) throw new ModelFileException(file, "checksum mismatch: the file is corrupt");
    }
}
