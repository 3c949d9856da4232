package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** A message that failed its checks: thrown before anything is changed, answered with {@link #status()}. */
final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    private final Refusal reason;

    Refused(Refusal reason, String description) {
        super(description, null, false, false);
        this.reason = reason;
    }

    Refusal reason() {
        return reason;
    }

    StatusRuntimeException status() {
        return Status.fromCode(reason.code()).withDescription(getMessage()).asRuntimeException();
    }
}
