package io.shadowsync.net.ps;

import io.grpc.Status;

/** Why a parameter server refused a call, and the gRPC status it answers with; {@link PsServer} counts each. */
public enum Refusal {
    /** No token, or the wrong one (refused by the transport before any handler runs). */
    UNAUTHENTICATED(Status.Code.UNAUTHENTICATED),
    /** A message over the transport's size limit (refused by gRPC before any handler runs). */
    MESSAGE_TOO_LARGE(Status.Code.RESOURCE_EXHAUSTED),
    /** More rows than the server's per-request cap, or a reply that would exceed the message size limit. */
    TOO_MANY_ROWS(Status.Code.RESOURCE_EXHAUSTED),
    /** A table index the node does not hold. */
    NO_SUCH_TABLE(Status.Code.INVALID_ARGUMENT),
    /** A row id outside [0, rows) of its table. */
    ROW_OUT_OF_RANGE(Status.Code.OUT_OF_RANGE),
    /** A row id that lives on another shard (id mod shards ≠ this shard): the client's shard list is wrong. */
    WRONG_SHARD(Status.Code.INVALID_ARGUMENT),
    /** Byte lengths that disagree with the ids, the rows' dims or the dense block. */
    LENGTH_MISMATCH(Status.Code.INVALID_ARGUMENT),
    /** A NaN or infinite gradient or delta. */
    NOT_FINITE(Status.Code.INVALID_ARGUMENT),
    /** A dense push, or a row call, in a codec this node does not know. */
    UNKNOWN_CODEC(Status.Code.INVALID_ARGUMENT),
    /**
     * A finite gradient or delta element beyond {@link PsShardSpec#MAX_ABS_VALUE} in magnitude: applied, it would
     * wreck the parameters it touches (every later batch that reads them goes non-finite), so nothing of it is.
     */
    VALUE_TOO_LARGE(Status.Code.INVALID_ARGUMENT),
    /** A dense gradient pushed to a node built without a dense optimizer. */
    NO_DENSE_OPTIMIZER(Status.Code.FAILED_PRECONDITION),
    /** A call for a shard this node holds no replica of, or naming the wrong chain position for it. */
    NO_SUCH_REPLICA(Status.Code.INVALID_ARGUMENT),
    /**
     * A call to a replica that another one has replaced as the shard's primary (a client's call to a deposed primary,
     * or a forward from one): the sender moves on to the next replica of the chain. ABORTED, which a client's
     * failover takes like UNAVAILABLE.
     */
    NOT_PRIMARY(Status.Code.ABORTED);

    private final Status.Code code;

    Refusal(Status.Code code) {
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }
}
