package io.shadowsync.sim;

/**
 * A resource that serves one request at a time in arrival order: a network link (a NIC, a server shard's port), as
 * {@link io.shadowsync.comm.EmulatedLink} emulates it: a message of b bytes occupies the link for b / bandwidth from
 * when the link is free; latency is added after its last byte and does not occupy the link (back-to-back messages
 * overlap their latencies). Also a FIFO server of given service times (a shard's CPU). Counts the busy time that falls
 * after {@link #measureFrom} for its utilisation.
 */
public final class FifoLink {
    private final double bytesPerSecond;
    private final double latency;
    private double busyUntil;
    private double busy;
    private double from;
    private long bytes;

    /** A link of the given bandwidth (bytes/s; infinity: none) and one-way latency (s). */
    public FifoLink(double bytesPerSecond, double latency) {
        if (!(bytesPerSecond > 0)) throw new IllegalArgumentException("bandwidth must be positive, got " + bytesPerSecond);
        if (!(latency >= 0)) throw new IllegalArgumentException("latency must be ≥ 0, got " + latency);
        this.bytesPerSecond = bytesPerSecond;
        this.latency = latency;
    }

    /** A FIFO server of explicit service times (no bandwidth, no latency). */
    public static FifoLink server() {
        return new FifoLink(Double.POSITIVE_INFINITY, 0);
    }

    /** Reserves the link at time now for b bytes and returns their delivery time, {@code latencies} latencies after the last byte leaves. */
    public double send(double now, long b, int latencies) {
        bytes += b;
        return serve(now, Double.isInfinite(bytesPerSecond) ? 0 : b / bytesPerSecond) + latencies * latency;
    }

    /** Serves a request of the given service time arriving at now, after those before it; returns when it is done. */
    public double serve(double now, double service) {
        double start = Math.max(now, busyUntil);
        busyUntil = start + service;
        if (busyUntil > from) busy += busyUntil - Math.max(start, from);
        return busyUntil;
    }

    /** Starts counting busy time (and bytes) at t, the start of the measured window. */
    public void measureFrom(double t) {
        from = t;
        busy = Math.max(0, busyUntil - t);
        bytes = 0;
    }

    /** Busy share of [measureFrom, t]: service time that has run or is booked up to t, over the window. */
    public double utilisation(double t) {
        double over = Math.max(0, busyUntil - t);
        return t > from ? Math.min(1, Math.max(0, busy - over) / (t - from)) : 0;
    }

    /** Bytes sent since {@link #measureFrom}. */
    public long bytes() {
        return bytes;
    }

    public double latency() {
        return latency;
    }

    public double bytesPerSecond() {
        return bytesPerSecond;
    }
}
