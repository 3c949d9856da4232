package io.shadowsync.engine;

/** A training run stopped by a failure of its reader (bad data, I/O) or of a worker; the cause says which. */
public final class TrainingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingException(Throwable cause) {
        super(cause.getMessage() != null ? cause.getMessage() : cause.toString(), cause);
    }
}
