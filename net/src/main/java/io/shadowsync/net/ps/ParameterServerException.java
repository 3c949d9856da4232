package io.shadowsync.net.ps;

import io.grpc.Status;
import io.shadowsync.net.HostPort;

/**
 * A call to a parameter-server shard that failed: the shard could not be reached, did not answer within the call
 * deadline, or refused the message. The message names the shard and its address, e.g. {@code parameter server
 * shard 1 (10.0.0.7:7070) is unreachable: ...}, so that a failed job says which process to look at.
 */
public final class ParameterServerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int shard;
    private final transient HostPort address;
    private final Status.Code code;

    ParameterServerException(String message, int shard, HostPort address, Status.Code code, Throwable cause) {
        super(message, cause);
        this.shard = shard;
        this.address = address;
        this.code = code;
    }

    /** The shard's index in the job's shard list. */
    public int shard() {
        return shard;
    }

    public HostPort address() {
        return address;
    }

    /** The gRPC status of the failed call (UNAVAILABLE, DEADLINE_EXCEEDED, INVALID_ARGUMENT, ...). */
    public Status.Code code() {
        return code;
    }
}
