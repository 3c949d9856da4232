package io.shadowsync.data;

import java.io.IOException;

/**
 * A reader that passes every call on to another: wrappers that watch, pace or filter the examples extend it and
 * override {@link #readInto}.
 */
public abstract class ForwardingReader implements ExampleReader {
    protected final ExampleReader inner;

    protected ForwardingReader(ExampleReader inner) {
        this.inner = inner;
    }

    @Override
    public DataSchema schema() {
        return inner.schema();
    }

    @Override
    public boolean readInto(Batch batch) throws IOException {
        return inner.readInto(batch);
    }

    @Override
    public long skippedLines() {
        return inner.skippedLines();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
