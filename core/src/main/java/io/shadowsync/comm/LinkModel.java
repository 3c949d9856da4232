package io.shadowsync.comm;

/**
 * An emulated network link for in-process communication: a message of n bytes takes
 * {@code latency + n / bandwidth} seconds, and messages on one link are serialized (a link sends one message at a
 * time). The delay is slept, so emulation costs no CPU. {@link #NONE} is an ideal link (no delay).
 *
 * @param bytesPerSecond bandwidth; {@code Double.POSITIVE_INFINITY} for unlimited
 * @param latencySeconds one-way latency added to every message
 */
public record LinkModel(double bytesPerSecond, double latencySeconds) {
    public static final LinkModel NONE = new LinkModel(Double.POSITIVE_INFINITY, 0);

    public LinkModel {
        if (!(bytesPerSecond > 0)) throw new IllegalArgumentException("link bandwidth must be positive, got " + bytesPerSecond);
        if (!(latencySeconds >= 0) || Double.isInfinite(latencySeconds)) throw new IllegalArgumentException("link latency must be finite and ≥ 0, got " + latencySeconds);
    }

    public boolean isIdeal() {
        return latencySeconds == 0 && Double.isInfinite(bytesPerSecond);
    }

    /** Seconds a message of the given size occupies the link, latency included. */
    public double seconds(long bytes) {
        return latencySeconds + (Double.isInfinite(bytesPerSecond) ? 0 : bytes / bytesPerSecond);
    }
}
