package io.shadowsync.nn;

import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes of embedding row values a store moved ({@link EmbeddingStore#rowBytes}): the rows pulled and pushed, their
 * values' bytes as encoded ({@code --compress-rows}) and as float32 would have been (4 per value). Ids, segments and
 * headers are not counted: they are the same under every codec. Thread-safe (Hogwild workers add at once).
 */
public final class RowBytes {
    private final LongAdder rowsPulled = new LongAdder(), rowsPushed = new LongAdder();
    private final LongAdder pulled = new LongAdder(), pushed = new LongAdder();
    private final LongAdder rawPulled = new LongAdder(), rawPushed = new LongAdder();

    /** Rows of dim values that came back from a pull, encoded in rowBytes bytes each. */
    public void pulled(long rows, int dim, long rowBytes) {
        rowsPulled.add(rows);
        pulled.add(rows * rowBytes);
        rawPulled.add(rows * 4L * dim);
    }

    /** Rows of dim values pushed, encoded in rowBytes bytes each. */
    public void pushed(long rows, int dim, long rowBytes) {
        rowsPushed.add(rows);
        pushed.add(rows * rowBytes);
        rawPushed.add(rows * 4L * dim);
    }

    /**
     * {rows pulled, rows pushed, bytes pulled, bytes pushed (encoded), bytes pulled, bytes pushed (as float32)}: the
     * order {@link #add} and the job's result keep.
     */
    public long[] snapshot() {
        return new long[] {rowsPulled.sum(), rowsPushed.sum(), pulled.sum(), pushed.sum(), rawPulled.sum(), rawPushed.sum()};
    }

    /** Fields of {@link #snapshot}. */
    public static final int FIELDS = 6;

    /** a += b, field by field (snapshots of several stores, or of several processes). */
    public static long[] add(long[] a, long[] b) {
        for (int i = 0; i < FIELDS; i++) a[i] += b[i];
        return a;
    }

    /** Float32 bytes over encoded bytes of a snapshot, pulls and pushes together (1 when nothing moved). */
    public static double ratio(long[] s) {
        long enc = s[2] + s[3];
        return enc == 0 ? 1 : (double) (s[4] + s[5]) / enc;
    }
}
