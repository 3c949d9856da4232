package io.shadowsync.cli;

/** A command-line or job-file mistake: the message is the one sentence the user sees. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
