package io.shadowsync.spark;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.InMemorySource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Row;

/**
 * A trainer's share larger than its part of the executor's memory, spilled to a local temporary file and streamed
 * from there every epoch. The partition's rows are read once ({@link PartitionData}, which also takes the share's
 * fingerprint); while they fit {@code maxBytes} they stay in memory and the share is an {@link InMemorySource}, as
 * every share that fits is. Once they do not, everything read so far and every later row goes to the file, in a
 * compact little-endian binary form at the same 4 bytes per value as the in-memory columns:
 * <pre>
 * "SSSHARE1" u32 numDense u32 numCat, then per example: f32 label, f32[numDense], i32[numCat]
 * </pre>
 * {@link #close} deletes the file (the task does, at its end; a JVM that dies leaves it to {@code deleteOnExit} and
 * Spark's clean-up of its local directories). A spilled share is read in file order each epoch (the trainer's batch
 * feeder reads a streamed source), an in-memory one in the order the trainer's shuffle setting gives.
 */
final class SpilledShare implements DataSource, AutoCloseable {
    private static final byte[] MAGIC = "SSSHARE1".getBytes(StandardCharsets.US_ASCII);
    private static final int BATCH = 4096;
    /** Shares spilled in this JVM (for the tests). */
    static final AtomicInteger SPILLS = new AtomicInteger();

    private final Path file;
    private final DataSchema schema;
    private final String where;
    private final String fingerprint;

    private SpilledShare(Path file, DataSchema schema, String where, String fingerprint) {
        this.file = file;
        this.schema = schema;
        this.where = where;
        this.fingerprint = fingerprint;
    }

    /**
     * The partition's rows as the trainer's share: in memory when they take at most maxBytes (4 bytes per value),
     * else spilled to a new file in dir (a {@code SpilledShare}, to close at the end).
     */
    static DataSource load(Iterator<Row> rows, RowLayout layout, String where, long maxBytes, Path dir) throws IOException {
        PartitionData data = PartitionData.of(rows, layout, where);
        DataSchema s = layout.schema();
        if (s.sparse()) return InMemorySource.load(data); // the layouts of a DataFrame give dense and categorical columns only
        long perExample = 4L * (1 + s.numDense() + s.numCat());
        List<Batch> kept = new ArrayList<>();
        long bytes = 0;
        FileChannel out = null;
        Path file = null;
        ByteBuffer buf = null;
        try (ExampleReader r = data.open()) {
            Batch b = new Batch(BATCH, s);
            while (true) {
                boolean more = r.readInto(b);
                if (more) bytes += perExample;
                if (b.isFull() || (!more && b.size > 0)) {
                    if (out != null) {
                        write(out, buf, b, s);
                        b.clear();
                    } else {
                        kept.add(b);
                        b = new Batch(BATCH, s);
                    }
                }
                if (out == null && bytes > maxBytes) {
                    file = Files.createTempFile(dir, "shadowsync-share-", ".bin");
                    file.toFile().deleteOnExit();
                    out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                    buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                    buf.put(MAGIC).putInt(s.numDense()).putInt(s.numCat());
                    for (Batch k : kept) write(out, buf, k, s);
                    kept.clear();
                    if (b.size > 0) {
                        write(out, buf, b, s);
                        b.clear();
                    }
                }
                if (!more) break;
            }
            if (out != null) {
                buf.flip();
                while (buf.hasRemaining()) out.write(buf);
                out.close();
                out = null;
                SPILLS.incrementAndGet();
                return new SpilledShare(file, s, where, data.fingerprint());
            }
        } catch (IOException | RuntimeException | Error e) {
            if (out != null) out.close();
            if (file != null) Files.deleteIfExists(file);
            throw e;
        }
        return InMemorySource.load(new Replay(kept, data));
    }

    /** Appends batch's examples to the file through buf (flushed when full). */
    private static void write(FileChannel out, ByteBuffer buf, Batch b, DataSchema s) throws IOException {
        int nd = s.numDense(), nc = s.numCat();
        for (int k = 0; k < b.size; k++) {
            if (buf.remaining() < 4 * (1 + nd + nc)) {
                buf.flip();
                while (buf.hasRemaining()) out.write(buf);
                buf.clear();
            }
            buf.putFloat(b.labels[k]);
            for (int j = 0; j < nd; j++) buf.putFloat(b.dense[k * nd + j]);
            for (int j = 0; j < nc; j++) buf.putInt(b.cat[k * nc + j]);
        }
    }

    /** Copies example k of from into batch to at its end. */
    private static void copy(Batch from, int k, Batch to, DataSchema s) {
        int nd = s.numDense(), nc = s.numCat(), i = to.size;
        to.labels[i] = from.labels[k];
        System.arraycopy(from.dense, k * nd, to.dense, i * nd, nd);
        System.arraycopy(from.cat, k * nc, to.cat, i * nc, nc);
        to.size = i + 1;
    }

    /** The file (for the tests). */
    Path file() {
        return file;
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public String describe() {
        return where + " (spilled to " + file + ")";
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public ExampleReader open() throws IOException {
        FileChannel ch = FileChannel.open(file);
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        int nd = schema.numDense(), nc = schema.numCat(), per = 4 * (1 + nd + nc);
        buf.limit(0);
        return new ExampleReader() {
            private boolean headerRead;

            @Override
            public DataSchema schema() {
                return schema;
            }

            /** At least n bytes in buf, or false at the end of the file. */
            private boolean fill(int n) throws IOException {
                if (buf.remaining() >= n) return true;
                buf.compact();
                while (buf.position() < n) {
                    if (ch.read(buf) < 0) break;
                }
                buf.flip();
                if (buf.remaining() == 0) return false;
                if (buf.remaining() < n) throw new IOException(file + ": ends part way through an example");
                return true;
            }

            @Override
            public boolean readInto(Batch b) throws IOException {
                if (!headerRead) {
                    byte[] magic = new byte[MAGIC.length];
                    if (!fill(MAGIC.length + 8)) throw new IOException(file + ": empty, not a spilled share");
                    buf.get(magic);
                    if (!Arrays.equals(magic, MAGIC) || buf.getInt() != nd || buf.getInt() != nc) {
                        throw new IOException(file + ": not this share's spill file");
                    }
                    headerRead = true;
                }
                if (!fill(per)) return false;
                int i = b.size;
                b.labels[i] = buf.getFloat();
                for (int j = 0; j < nd; j++) b.dense[i * nd + j] = buf.getFloat();
                for (int j = 0; j < nc; j++) b.cat[i * nc + j] = buf.getInt();
                b.size = i + 1;
                return true;
            }

            @Override
            public long skippedLines() {
                return 0;
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }

    /** Deletes the file. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }

    /** The batches kept in memory, read once into an {@link InMemorySource} (each let go as it is copied). */
    private static final class Replay implements DataSource {
        private final List<Batch> batches;
        private final PartitionData origin;

        Replay(List<Batch> batches, PartitionData origin) {
            this.batches = batches;
            this.origin = origin;
        }

        @Override
        public DataSchema schema() {
            return origin.schema();
        }

        @Override
        public String describe() {
            return origin.describe();
        }

        @Override
        public String fingerprint() {
            return origin.fingerprint();
        }

        @Override
        public ExampleReader open() {
            DataSchema s = origin.schema();
            return new ExampleReader() {
                private int batch;
                private int k;

                @Override
                public DataSchema schema() {
                    return s;
                }

                @Override
                public boolean readInto(Batch b) {
                    while (batch < batches.size() && k >= batches.get(batch).size) {
                        batches.set(batch++, null); // copied: let it go
                        k = 0;
                    }
                    if (batch >= batches.size()) return false;
                    copy(batches.get(batch), k++, b, s);
                    return true;
                }

                @Override
                public long skippedLines() {
                    return 0;
                }

                @Override
                public void close() {
                }
            };
        }
    }
}
