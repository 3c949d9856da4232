package io.shadowsync.data;

import java.io.IOException;

/**
 * A data set that can be read from the start any number of times (once per epoch).
 * Opening checks what can be checked up front (the file exists, is not empty, looks like its format) and
 * throws {@link DataException} with one clear sentence otherwise.
 */
public interface DataSource {
    DataSchema schema();

    ExampleReader open() throws IOException;

    /** For logs and provenance, e.g. "criteo:/data/train.tsv". */
    String describe();
}
