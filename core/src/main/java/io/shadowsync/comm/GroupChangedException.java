package io.shadowsync.comm;

import java.io.Serial;

/**
 * The members of an {@link ElasticGroup} changed during an operation that cannot simply be run again over the new
 * members (its layout depends on the group's size or on a root that left). The group has already been re-formed:
 * the caller asks again, with the new {@link Collective#size()} and {@link Collective#rank()}. When {@link
 * #rejoined()}, this rank had been dropped (a straggler) and was admitted again: it must receive the state first.
 */
public final class GroupChangedException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final boolean rejoined;

    public GroupChangedException(String message, boolean rejoined) {
        super(message);
        this.rejoined = rejoined;
    }

    /** Whether this rank was dropped and admitted again, and so must receive the state before it goes on. */
    public boolean rejoined() {
        return rejoined;
    }
}
