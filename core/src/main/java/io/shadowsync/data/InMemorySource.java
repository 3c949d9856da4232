package io.shadowsync.data;

import java.io.IOException;
import java.util.Arrays;

/**
 * A data source parsed once into memory and replayed for every epoch: for data that fits in memory and is read
 * many times, and for benchmarks that must not time the parser (the PyTorch peer pre-loads its arrays too).
 * Storage is columnar primitive arrays (labels, dense, categorical, sparse CSR), about 4 bytes per value.
 */
public final class InMemorySource implements DataSource {
    private final DataSchema schema;
    private final String description;
    private final int count;
    private final float[] labels;
    private final float[] dense;
    private final int[] cat;
    private final long[] sparseOffsets;
    private final int[] sparseIdx;
    private final float[] sparseVal;
    private final long skipped;
    /** Where the examples were read from (its fingerprint is this source's). */
    private final DataSource origin;

    private InMemorySource(DataSchema schema, String description, int count, float[] labels, float[] dense, int[] cat,
                           long[] sparseOffsets, int[] sparseIdx, float[] sparseVal, long skipped, DataSource origin) {
        this.origin = origin;
        this.schema = schema;
        this.description = description;
        this.count = count;
        this.labels = labels;
        this.dense = dense;
        this.cat = cat;
        this.sparseOffsets = sparseOffsets;
        this.sparseIdx = sparseIdx;
        this.sparseVal = sparseVal;
        this.skipped = skipped;
    }

    /** Reads all of source into memory (one pass). Refuses more than 2^31 − 1 examples or values per column. */
    public static InMemorySource load(DataSource source) throws IOException {
        Builder builder = new Builder(source);
        return builder.build(fill(builder, source));
    }

    /**
     * Reads all of source into memory with {@code threads} threads, each parsing its own part ({@link SplittableSource#share}:
     * for text files a byte range), and lays the parts end to end in part order: the examples of {@link #load}, in its
     * order. A part's failure (bad data, I/O) is the load's, the first part's first.
     */
    public static InMemorySource load(SplittableSource source, int threads) throws IOException {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (threads == 1) return load(source);
        Builder[] parts = new Builder[threads];
        long[] skipped = new long[threads];
        Throwable[] failed = new Throwable[threads];
        Thread[] readers = new Thread[threads];
        for (int k = 0; k < threads; k++) {
            int part = k;
            readers[k] = new Thread(() -> {
                try {
                    DataSource mine = source.share(part, threads);
                    parts[part] = new Builder(source);
                    skipped[part] = fill(parts[part], mine);
                } catch (Throwable e) {
                    failed[part] = e;
                }
            }, "load-" + k);
            readers[k].setDaemon(true);
            readers[k].start();
        }
        try {
            for (Thread t : readers) t.join(); // publishes each part's builder and counts
        } catch (InterruptedException e) {
            for (Thread t : readers) t.interrupt();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while loading " + source.describe());
        }
        for (Throwable e : failed) {
            if (e instanceof IOException io) throw io;
            if (e instanceof RuntimeException r) throw r;
            if (e instanceof Error err) throw err;
        }
        long skippedAll = 0;
        for (long n : skipped) skippedAll += n;
        return Builder.concat(source, parts, skippedAll);
    }

    /** Appends every example of source to builder; returns the malformed lines it skipped. */
    private static long fill(Builder builder, DataSource source) throws IOException {
        Batch b = new Batch(4096, source.schema());
        try (ExampleReader r = source.open()) {
            boolean more = true;
            while (more) {
                b.clear();
                while (!b.isFull() && (more = r.readInto(b))) {
                    // fill
                }
                if (b.size == 0) break;
                builder.append(b, 0, b.size);
            }
            return r.skippedLines();
        }
    }

    /**
     * Examples appended one batch (or one example) at a time, the columns growing by doubling: what {@link #load} and
     * a cache filled during a first streamed pass ({@link CachedSource}) build. Owned by one thread.
     */
    static final class Builder {
        private final DataSource source;
        private final DataSchema s;
        private int n;
        private float[] labels;
        private float[] dense;
        private int[] cat;
        private long[] offs;
        private int[] idx;
        private float[] val;
        private int nnz;

        Builder(DataSource source) {
            this.source = source;
            this.s = source.schema();
            int chunk = 4096;
            labels = new float[chunk];
            dense = new float[chunk * s.numDense()];
            cat = new int[chunk * s.numCat()];
            offs = s.sparse() ? new long[chunk + 1] : null;
            idx = s.sparse() ? new int[chunk * 8] : null;
            val = s.sparse() ? new float[chunk * 8] : null;
        }

        int size() {
            return n;
        }

        /** Bytes the examples take in the columns (their spare capacity, up to as much again, not counted). */
        long bytes() {
            long b = 4L * n * (1 + s.numDense() + s.numCat());
            if (offs != null) b += 8L * n + 8L * nnz;
            return b;
        }

        /** Appends examples {@code [from, from + count)} of b. */
        void append(Batch b, int from, int count) {
            if ((long) n + count > Integer.MAX_VALUE - 16) throw new DataException(source.describe(), 0, "too many examples to hold in memory");
            int need = n + count;
            if (need > labels.length) {
                int cap = (int) Math.min(Integer.MAX_VALUE - 16L, Math.max(need, labels.length * 2L));
                labels = Arrays.copyOf(labels, cap);
                dense = Arrays.copyOf(dense, Math.multiplyExact(cap, s.numDense()));
                cat = Arrays.copyOf(cat, Math.multiplyExact(cap, s.numCat()));
                if (offs != null) offs = Arrays.copyOf(offs, cap + 1);
            }
            System.arraycopy(b.labels, from, labels, n, count);
            System.arraycopy(b.dense, from * s.numDense(), dense, n * s.numDense(), count * s.numDense());
            System.arraycopy(b.cat, from * s.numCat(), cat, n * s.numCat(), count * s.numCat());
            if (offs != null) {
                int lo = b.sparseOffsets[from], m = b.sparseOffsets[from + count] - lo;
                if (nnz + m > idx.length) {
                    int cap = (int) Math.min(Integer.MAX_VALUE - 16L, Math.max((long) nnz + m, idx.length * 2L));
                    idx = Arrays.copyOf(idx, cap);
                    val = Arrays.copyOf(val, cap);
                }
                System.arraycopy(b.sparseIdx, lo, idx, nnz, m);
                System.arraycopy(b.sparseVal, lo, val, nnz, m);
                for (int i = 0; i < count; i++) offs[n + i + 1] = nnz + b.sparseOffsets[from + i + 1] - lo;
                nnz += m;
            }
            n = need;
        }

        /**
         * The examples of parts laid end to end, in order, as one source (of origin): each column is copied into its
         * final array and the parts' are let go one column at a time, so the load needs about one copy of the data
         * beyond the parts, not two.
         */
        static InMemorySource concat(DataSource origin, Builder[] parts, long skipped) {
            DataSchema s = origin.schema();
            long total = 0, totalNnz = 0;
            for (Builder p : parts) {
                total += p.n;
                totalNnz += p.nnz;
            }
            if (total == 0) throw new DataException(origin.describe(), 0, "no examples");
            if (total > Integer.MAX_VALUE - 16 || totalNnz > Integer.MAX_VALUE - 16) {
                throw new DataException(origin.describe(), 0, "too many examples to hold in memory");
            }
            int n = (int) total, nd = s.numDense(), nc = s.numCat();
            float[] labels = joined(new float[n], parts, 1, p -> p.labels, p -> p.labels = null);
            float[] dense = joined(new float[Math.multiplyExact(n, nd)], parts, nd, p -> p.dense, p -> p.dense = null);
            int[] cat = joined(new int[Math.multiplyExact(n, nc)], parts, nc, p -> p.cat, p -> p.cat = null);
            long[] offs = null;
            int[] idx = null;
            float[] val = null;
            if (s.sparse()) {
                offs = new long[n + 1];
                idx = new int[(int) totalNnz];
                val = new float[(int) totalNnz];
                int row = 0, nz = 0;
                for (Builder p : parts) {
                    for (int i = 1; i <= p.n; i++) offs[row + i] = nz + p.offs[i];
                    System.arraycopy(p.idx, 0, idx, nz, p.nnz);
                    System.arraycopy(p.val, 0, val, nz, p.nnz);
                    row += p.n;
                    nz += p.nnz;
                    p.offs = null;
                    p.idx = null;
                    p.val = null;
                }
            }
            return new InMemorySource(s, "memory:" + origin.describe(), n, labels, dense, cat, offs, idx, val, skipped, origin);
        }

        /** Each part's column ({@code width} values an example) laid end to end into {@code into}, the part's let go after its copy. */
        private static <A> A joined(A into, Builder[] parts, int width, java.util.function.Function<Builder, A> column,
                                    java.util.function.Consumer<Builder> release) {
            int at = 0;
            for (Builder p : parts) {
                System.arraycopy(column.apply(p), 0, into, at, p.n * width);
                at += p.n * width;
                release.accept(p);
            }
            return into;
        }

        /** The examples appended; skipped: the malformed lines passed over while reading them. */
        InMemorySource build(long skipped) {
            if (n == 0) throw new DataException(source.describe(), 0, "no examples");
            return new InMemorySource(s, "memory:" + source.describe(), n, labels, dense, cat, offs, idx, val, skipped, source);
        }
    }

    public int size() {
        return count;
    }

    /**
     * Copies examples {@code [from, from + n)} to the end of batch in bulk (column by column), the fast path of
     * workers that read their own shard without a reader thread.
     */
    public void copyInto(int from, int n, Batch b) {
        if (from < 0 || n < 0 || from + n > count) throw new IndexOutOfBoundsException("examples [" + from + ", " + (from + n) + ") of " + count);
        if (b.size + n > b.capacity) throw new IllegalArgumentException("batch has room for " + (b.capacity - b.size) + " examples, not " + n);
        int k = b.size, nd = schema.numDense(), nc = schema.numCat();
        System.arraycopy(labels, from, b.labels, k, n);
        System.arraycopy(dense, from * nd, b.dense, k * nd, n * nd);
        System.arraycopy(cat, from * nc, b.cat, k * nc, n * nc);
        if (sparseOffsets != null) {
            int lo = (int) sparseOffsets[from], m = (int) (sparseOffsets[from + n] - lo);
            b.ensureSparseCapacity(m);
            int at = b.sparseOffsets[k];
            System.arraycopy(sparseIdx, lo, b.sparseIdx, at, m);
            System.arraycopy(sparseVal, lo, b.sparseVal, at, m);
            for (int i = 1; i <= n; i++) b.sparseOffsets[k + i] = at + (int) (sparseOffsets[from + i] - lo);
        }
        b.size = k + n;
    }

    /**
     * A new in-memory data set of the examples {@code rows} of this one, in that order (copied: the two share nothing),
     * e.g. the training part of a cross-validation fold. Its fingerprint is this source's origin's; description names it.
     */
    public InMemorySource select(int[] rows, String description) {
        if (rows.length == 0) throw new IllegalArgumentException("select(): no rows for " + description);
        Builder b = new Builder(this);
        Batch one = new Batch(1, schema);
        for (int r : rows) {
            one.clear();
            copyInto(r, 1, one);
            b.append(one, 0, 1);
        }
        InMemorySource all = b.build(0);
        return new InMemorySource(schema, description, all.count, all.labels, all.dense, all.cat, all.sparseOffsets, all.sparseIdx,
                all.sparseVal, 0, origin);
    }

    /** Example i's label (0/1, the class index, or the regression target). */
    public float label(int i) {
        return labels[java.util.Objects.checkIndex(i, count)];
    }

    /** Example i's dense feature j. */
    public float denseValue(int i, int j) {
        java.util.Objects.checkIndex(i, count);
        return dense[i * schema.numDense() + java.util.Objects.checkIndex(j, schema.numDense())];
    }

    /** Example i's raw id in categorical field j. */
    public int catValue(int i, int j) {
        java.util.Objects.checkIndex(i, count);
        return cat[i * schema.numCat() + java.util.Objects.checkIndex(j, schema.numCat())];
    }

    /** Malformed lines skipped while loading. */
    public long skippedWhileLoading() {
        return skipped;
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public String describe() {
        return description;
    }

    /** The fingerprint of the source the examples were loaded from: the same data, in memory. */
    @Override
    public String fingerprint() throws IOException {
        return origin.fingerprint();
    }

    @Override
    public ExampleReader open() {
        return new ExampleReader() {
            private int next;

            @Override
            public DataSchema schema() {
                return schema;
            }

            @Override
            public boolean readInto(Batch b) {
                if (next >= count) return false;
                int i = next++, k = b.size, nd = schema.numDense(), nc = schema.numCat();
                b.labels[k] = labels[i];
                System.arraycopy(dense, i * nd, b.dense, k * nd, nd);
                System.arraycopy(cat, i * nc, b.cat, k * nc, nc);
                if (sparseOffsets != null) {
                    int lo = (int) sparseOffsets[i], m = (int) (sparseOffsets[i + 1] - lo);
                    b.ensureSparseCapacity(m);
                    int at = b.sparseOffsets[k];
                    System.arraycopy(sparseIdx, lo, b.sparseIdx, at, m);
                    System.arraycopy(sparseVal, lo, b.sparseVal, at, m);
                    b.sparseOffsets[k + 1] = at + m;
                }
                b.size = k + 1;
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
