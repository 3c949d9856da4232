package io.shadowsync.net.rdv;

import java.io.Serial;

/** A process could not join its job: refused by the coordinator, timed out, or no coordinator answered. */
public final class RendezvousException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    public RendezvousException(String message) {
        super(message);
    }

    public RendezvousException(String message, Throwable cause) {
        super(message, cause);
    }
}
