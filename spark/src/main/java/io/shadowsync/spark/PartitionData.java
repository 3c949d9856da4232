package io.shadowsync.spark;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.InMemorySource;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.apache.spark.sql.Row;

/**
 * One Spark partition's rows as a trainer's share: read once from the partition's iterator into an
 * {@link InMemorySource} (columnar arrays, about 4 bytes per value), which the trainer then replays every epoch.
 * Nothing is written to disk.
 *
 * <p>The fingerprint (provenance, and the check that a resumed job reads the data it was checkpointed on) is the row
 * count and a CRC32C of every label and feature, taken while reading: a retried stage that recomputes the same
 * partition gets the same one.
 */
final class PartitionData implements DataSource {
    private final Iterator<Row> rows;
    private final RowLayout layout;
    private final String where;
    private final CRC32C crc = new CRC32C();
    private long count;
    private boolean opened;
    private boolean done;

    private PartitionData(Iterator<Row> rows, RowLayout layout, String where) {
        this.rows = rows;
        this.layout = layout;
        this.where = where;
    }

    /** Reads every row of the partition into memory (one pass). An empty partition is refused (no examples). */
    static InMemorySource load(Iterator<Row> rows, RowLayout layout, int partition) throws IOException {
        return load(rows, layout, "spark partition " + partition);
    }

    /** The rows as a source to read once (its fingerprint is known once it has been read to its end). */
    static PartitionData of(Iterator<Row> rows, RowLayout layout, String where) {
        return new PartitionData(rows, layout, where);
    }

    /** As above, for rows described as where (in messages: "where:row: reason"). */
    static InMemorySource load(Iterator<Row> rows, RowLayout layout, String where) throws IOException {
        return InMemorySource.load(new PartitionData(rows, layout, where));
    }

    @Override
    public DataSchema schema() {
        return layout.schema();
    }

    @Override
    public String describe() {
        return where;
    }

    @Override
    public String fingerprint() {
        if (!done) throw new IllegalStateException(where + " has not been read to its end");
        return String.format(Locale.ROOT, "rows=%d crc32c(labels and features)=%08x", count, crc.getValue());
    }

    @Override
    public ExampleReader open() {
        if (opened) throw new IllegalStateException(where + ": a partition's rows can be read once");
        opened = true;
        return new ExampleReader() {
            private final byte[] word = new byte[4];

            @Override
            public DataSchema schema() {
                return layout.schema();
            }

            @Override
            public boolean readInto(Batch b) {
                if (!rows.hasNext()) {
                    done = true;
                    return false;
                }
                int k = b.size;
                layout.append(rows.next(), b, where, ++count);
                DataSchema s = layout.schema();
                put(Float.floatToIntBits(b.labels[k]));
                for (int j = 0; j < s.numDense(); j++) put(Float.floatToIntBits(b.dense[k * s.numDense() + j]));
                for (int j = 0; j < s.numCat(); j++) put(b.cat[k * s.numCat() + j]);
                return true;
            }

            private void put(int v) {
                word[0] = (byte) v;
                word[1] = (byte) (v >>> 8);
                word[2] = (byte) (v >>> 16);
                word[3] = (byte) (v >>> 24);
                crc.update(word, 0, 4);
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
