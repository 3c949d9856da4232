package io.shadowsync.net.rdv;

import io.shadowsync.net.proto.JoinRole;

/** What a process is in a job: a trainer, or a parameter server (embedding shard or dense sync server). */
public enum Role {
    TRAINER("trainer", JoinRole.JOIN_ROLE_TRAINER),
    PS("ps", JoinRole.JOIN_ROLE_PS);

    private final String label;
    private final JoinRole wire;

    Role(String label, JoinRole wire) {
        this.label = label;
        this.wire = wire;
    }

    /** "trainer" or "ps", as messages and flags write it. */
    public String label() {
        return label;
    }

    JoinRole wire() {
        return wire;
    }

    /** The role a request names, or null for none. */
    static Role of(JoinRole wire) {
        return switch (wire) {
            case JOIN_ROLE_TRAINER -> TRAINER;
            case JOIN_ROLE_PS -> PS;
            default -> null;
        };
    }
}
