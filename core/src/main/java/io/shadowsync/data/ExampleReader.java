package io.shadowsync.data;

import java.io.Closeable;
import java.io.IOException;

/**
 * A streaming pass over one data source: examples are parsed one at a time straight into a {@link Batch},
 * so a file larger than memory trains fine and nothing is allocated per example.
 *
 * <p>Malformed input throws {@link DataException} ({@code file:line: reason}) unless the reader was opened to
 * skip bad lines, in which case it skips and counts them ({@link #skippedLines()}).
 */
public interface ExampleReader extends Closeable {
    DataSchema schema();

    /**
     * Parses the next example and appends it to batch at index {@code batch.size}, incrementing
     * {@code batch.size}. Returns false, leaving batch unchanged, at the end of the data. The batch must not be full.
     */
    boolean readInto(Batch batch) throws IOException;

    /** Lines (records) skipped as malformed so far; always 0 unless skipping was requested. */
    long skippedLines();

    @Override
    void close() throws IOException;
}
