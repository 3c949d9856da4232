package io.shadowsync.engine.feed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.ForwardingReader;
import java.io.IOException;

/** Trainer k of N's share of a streamed source: examples k, k+N, k+2N, … (each trainer parses the whole stream). */
final class EveryNthSource implements DataSource {
    private final DataSource source;
    private final int n;
    private final int k;

    EveryNthSource(DataSource source, int n, int k) {
        if (n < 1 || k < 0 || k >= n) throw new IllegalArgumentException("share " + k + " of " + n);
        this.source = source;
        this.n = n;
        this.k = k;
    }

    @Override
    public DataSchema schema() {
        return source.schema();
    }

    @Override
    public String describe() {
        return source.describe() + " (every " + n + "th from " + k + ")";
    }

    @Override
    public ExampleReader open() throws IOException {
        return new ForwardingReader(source.open()) {
            private long index;

            @Override
            public boolean readInto(Batch batch) throws IOException {
                while (true) {
                    int before = batch.size;
                    if (!inner.readInto(batch)) return false;
                    if (index++ % n == k) return true;
                    batch.size = before; // not ours: drop it
                    if (batch.sparseOffsets != null) batch.sparseOffsets[before + 1] = 0;
                }
            }
        };
    }
}
