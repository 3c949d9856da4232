package io.shadowsync.fed;

/** A secure-aggregation round that cannot give its sum: too few survivors to recover the masks, or a value out of range. */
public final class SecureAggregationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SecureAggregationException(String message) {
        super(message);
    }
}
