package io.shadowsync.comm;

import java.io.Serial;

/**
 * A rank waited longer than its group's timeout for one peer (a message from it, or room in its inbox): the peer
 * died, hangs, or calls different operations. The group is failed when this is thrown, so the other ranks wake
 * up too instead of hanging.
 */
public final class CollectiveTimeoutException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int rank;
    private final int waitedFor;

    CollectiveTimeoutException(int rank, int waitedFor, String op, String what, long timeoutNanos) {
        this(rank, waitedFor, "rank " + waitedFor, op, what, timeoutNanos);
    }

    /**
     * For transports outside this package (the networked ring).
     *
     * @param rank         the rank that gave up
     * @param waitedFor    the peer it waited for
     * @param peer         how to name that peer, e.g. {@code "rank 2 at 10.0.0.7:7100"}
     * @param op           the operation it was in
     * @param what         what it waited for, e.g. {@code "for a message"}
     * @param timeoutNanos how long it waited
     */
    public CollectiveTimeoutException(int rank, int waitedFor, String peer, String op, String what, long timeoutNanos) {
        super("rank " + rank + " waited " + String.format(java.util.Locale.ROOT, "%.3f", timeoutNanos / 1e9) + " s in "
                + op + " for " + peer + " (" + what + "); is rank " + waitedFor
                + " alive and calling the same collective operations in the same order?");
        this.rank = rank;
        this.waitedFor = waitedFor;
    }

    /** The rank that gave up. */
    public int rank() {
        return rank;
    }

    /** The peer it waited for. */
    public int waitedFor() {
        return waitedFor;
    }
}
