package io.shadowsync.data;

/**
 * A source that passes its layout and description on to another: wrappers that count, pace or break its readers
 * extend it and implement {@link #open} (usually with a {@link ForwardingReader}).
 */
public abstract class ForwardingSource implements DataSource {
    protected final DataSource source;

    protected ForwardingSource(DataSource source) {
        this.source = source;
    }

    @Override
    public DataSchema schema() {
        return source.schema();
    }

    @Override
    public String describe() {
        return source.describe();
    }
}
