package io.shadowsync.data;

import java.io.IOException;
import java.nio.file.Path;

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

    /**
     * What tells this data from other data of the same layout, for provenance and for checking that a resumed run
     * reads what it was trained on. A source read from a file gives {@link #fileFingerprint} of it (the size and the
     * CRC32C of its first MiB: not its name or modification time, so a copied or moved file is the same data). This
     * default, for sources without a file, reads the first 65,536 examples and gives
     * their count and the CRC32C of their labels and features.
     */
    default String fingerprint() throws IOException {
        return DataFiles.fingerprintExamples(this);
    }

    /** A file's size and the CRC32C of its first MiB, e.g. {@code size=1234 crc32c(first MiB)=89abcdef}. */
    static String fileFingerprint(Path file) throws IOException {
        return DataFiles.fingerprint(file);
    }
}
