package io.shadowsync.ckpt;

import java.nio.file.Path;

/** A model or checkpoint file that cannot be used: names the file and what is wrong with it. */
public final class ModelFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFileException(Path file, String reason) {
        super(file + ": " + reason);
    }

    /** where: the file as its store names it ({@link CheckpointStore#where}). */
    public ModelFileException(String where, String reason) {
        super(where + ": " + reason);
    }
}
