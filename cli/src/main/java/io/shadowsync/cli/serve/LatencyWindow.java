package io.shadowsync.cli.serve;

import java.util.Arrays;

/**
 * The latencies of the last {@code capacity} requests (a ring), for percentiles, and the count and sum of all of them.
 * Thread-safe.
 */
final class LatencyWindow {
    private final long[] ring;
    private long count, sumNanos;

    LatencyWindow(int capacity) {
        ring = new long[capacity];
    }

    synchronized void record(long nanos) {
        ring[(int) (count % ring.length)] = nanos;
        count++;
        sumNanos += nanos;
    }

    synchronized long count() {
        return count;
    }

    synchronized long sumNanos() {
        return sumNanos;
    }

    /** The q-quantile (nearest rank) of the latencies in the window, in nanoseconds; 0 before any request. */
    long quantileNanos(double q) {
        long[] w;
        synchronized (this) {
            w = Arrays.copyOf(ring, (int) Math.min(count, ring.length));
        }
        if (w.length == 0) return 0;
        Arrays.sort(w);
        int rank = (int) Math.ceil(q * w.length);
        return w[Math.max(0, Math.min(w.length - 1, rank - 1))];
    }
}
