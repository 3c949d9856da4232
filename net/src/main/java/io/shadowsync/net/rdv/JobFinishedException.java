package io.shadowsync.net.rdv;

import java.io.Serial;

/** A trainer asked to join a running job that has finished (or finished while it waited): nothing to do, not a failure. */
public final class JobFinishedException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    public JobFinishedException(String message) {
        super(message);
    }
}
