package io.shadowsync.data;

import java.io.IOException;
import java.util.Objects;

/**
 * Data that is already one trainer's share of a job's data, not the whole of it: a multi-process trainer given an
 * {@code OwnShare} trains on all of it instead of taking its 1/N (as when a Spark barrier task reads its own
 * partition). Every trainer of such a job gets its own. An in-process job of several trainers refuses one (they would
 * all train the same examples).
 */
public final class OwnShare implements DataSource {
    private final DataSource data;

    public OwnShare(DataSource data) {
        this.data = Objects.requireNonNull(data, "the share's data");
    }

    /** The share's examples. */
    public DataSource data() {
        return data;
    }

    @Override
    public DataSchema schema() {
        return data.schema();
    }

    @Override
    public ExampleReader open() throws IOException {
        return data.open();
    }

    @Override
    public String describe() {
        return data.describe();
    }

    @Override
    public String fingerprint() throws IOException {
        return data.fingerprint();
    }
}
