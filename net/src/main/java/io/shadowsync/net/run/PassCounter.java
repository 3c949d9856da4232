package io.shadowsync.net.run;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.ForwardingReader;
import io.shadowsync.data.ForwardingSource;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A streamed training source that counts the examples of the first pass read to its end, for an elastic job's
 * {@code examples_asked} (epochs × examples) without a pass of its own: every trainer reads the whole stream each
 * epoch (it keeps every N-th example), and a trainer that trained its share of epochs to the end read at least one
 * pass whole. Thread-safe: readers count on their own, the first finished pass is kept.
 */
final class PassCounter extends ForwardingSource {
    private final AtomicLong perPass = new AtomicLong(-1);

    PassCounter(DataSource source) {
        super(source);
    }

    /** Examples in one whole pass, or −1 while no pass has been read to its end. */
    long perPass() {
        return perPass.get();
    }

    @Override
    public ExampleReader open() throws IOException {
        return new ForwardingReader(source.open()) {
            private long read;

            @Override
            public boolean readInto(Batch batch) throws IOException {
                if (inner.readInto(batch)) {
                    read++;
                    return true;
                }
                perPass.compareAndSet(-1, read);
                return false;
            }
        };
    }
}
