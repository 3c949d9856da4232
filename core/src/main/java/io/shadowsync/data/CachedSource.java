package io.shadowsync.data;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A streamed source kept in memory after its first whole pass: the first reader parses the data and fills a compact
 * columnar copy ({@link InMemorySource}'s form) as it goes; once a pass has reached the end, every later pass replays
 * the copy, in the same order, as streaming would (a trainer's workers read the finished {@link #copy} in shards
 * instead: {@code engine.feed.CachedFeeder}). A pass stopped early leaves no copy, and a copy that grows past {@code maxBytes} (the
 * estimate was wrong) is dropped and the source streams.
 *
 * <p>Sharing contract: one reader at a time fills (the first to open claims it; readers opened meanwhile stream); the
 * finished copy is published through a volatile field and read by any number of readers.
 */
public final class CachedSource implements SplittableSource {
    private final SplittableSource source;
    private final long maxBytes;
    private final AtomicBoolean filling = new AtomicBoolean();
    private volatile InMemorySource copy;
    /** Malformed lines the filling pass skipped: each replay reports them, as each streamed pass would. */
    private volatile long skipped;
    private volatile boolean abandoned;

    /** @param maxBytes the most heap the copy may take; past it, the copy is dropped */
    public CachedSource(SplittableSource source, long maxBytes) {
        if (maxBytes <= 0) throw new IllegalArgumentException("a cache needs a positive size, got " + maxBytes);
        this.source = source;
        this.maxBytes = maxBytes;
    }

    /** The source this one keeps in memory (to read it without filling the copy). */
    public SplittableSource source() {
        return source;
    }

    /** Whether the copy is complete (a whole pass has been read). */
    public boolean cached() {
        return copy != null;
    }

    /** The finished copy, or null before a whole pass has been read (or when the copy was dropped). */
    public InMemorySource copy() {
        return copy;
    }

    /** Whether the copy outgrew its bound and was dropped: the source streams. */
    public boolean abandoned() {
        return abandoned;
    }

    /**
     * Part index of count, cached on its own: the source's input split (a trainer keeps only its own part in memory),
     * with its share of the bound.
     */
    @Override
    public DataSource share(int index, int count) {
        DataSource part = source.share(index, count);
        // parts are alike in bytes, not exactly in examples: a quarter more than an even share before giving up
        long bound = Math.max(1, maxBytes / count + maxBytes / count / 4);
        return part instanceof SplittableSource s ? new CachedSource(s, bound) : part;
    }

    @Override
    public boolean splitsInto(int count) {
        return source.splitsInto(count);
    }

    @Override
    public DataSchema schema() {
        return source.schema();
    }

    @Override
    public String describe() {
        return source.describe();
    }

    @Override
    public String fingerprint() throws IOException {
        return source.fingerprint();
    }

    @Override
    public ExampleReader open() throws IOException {
        InMemorySource c = copy;
        if (c != null) {
            return new ForwardingReader(c.open()) {
                @Override
                public long skippedLines() {
                    return skipped;
                }
            };
        }
        ExampleReader r = source.open();
        if (abandoned || !filling.compareAndSet(false, true)) return r;
        return new Filling(r);
    }

    /** The first pass: streams and copies each example; publishes the copy at the end of the data. */
    private final class Filling extends ForwardingReader {
        private InMemorySource.Builder builder = new InMemorySource.Builder(source);
        private long sinceCheck;

        Filling(ExampleReader inner) {
            super(inner);
        }

        @Override
        public boolean readInto(Batch batch) throws IOException {
            if (inner.readInto(batch)) {
                if (builder != null) {
                    builder.append(batch, batch.size - 1, 1);
                    if (++sinceCheck == 4096) {
                        sinceCheck = 0;
                        if (builder.bytes() > maxBytes) {
                            builder = null; // the estimate was wrong: stream from now on
                            abandoned = true;
                        }
                    }
                }
                return true;
            }
            if (builder != null && builder.size() > 0) { // an empty part has nothing to keep
                skipped = inner.skippedLines();
                copy = builder.build(skipped);
                builder = null;
            }
            return false;
        }

        @Override
        public void close() throws IOException {
            if (builder != null) filling.set(false); // stopped before the end: a later pass fills
            builder = null;
            super.close();
        }
    }

    /** Examples the estimate reads from the start of the first file. */
    private static final int SAMPLE_EXAMPLES = 4096;

    /**
     * The heap the examples of files would take in memory, estimated before reading them: the text bytes (of a gzip
     * file, the uncompressed size its trailer records) over the mean line length of the first file's first lines,
     * times the bytes of one example in memory (for sparse data, with the mean count of features of those lines).
     */
    public static long estimateBytes(TextFiles files) throws IOException {
        long text = 0;
        for (TextFileSource f : files.pieces()) text += DataFiles.uncompressedSize(f.file());
        TextFileSource first = files.pieces().get(0);
        long lineBytes = 0, lines = 0;
        try (LineScanner s = new LineScanner(first.file(), LineScanner.DEFAULT_BUFFER_BYTES)) {
            while (lines < SAMPLE_EXAMPLES && s.next()) {
                lineBytes += s.end - s.start + 1;
                lines++;
            }
        }
        double examples = lines == 0 ? 0 : text / (lineBytes / (double) lines);
        DataSchema schema = files.schema();
        double perExample = 4.0 * (1 + schema.numDense() + schema.numCat());
        if (schema.sparse()) {
            Batch b = new Batch(SAMPLE_EXAMPLES, schema);
            try (ExampleReader r = first.open()) {
                while (!b.isFull() && r.readInto(b)) {
                    // the sample
                }
            }
            perExample += 8 + (b.size == 0 ? 0 : 8.0 * b.sparseOffsets[b.size] / b.size);
        }
        return (long) Math.ceil(examples * perExample);
    }
}
