package io.shadowsync.comm;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One emulated network link (a NIC's port) for in-process communication: it makes a message cost the time it
 * would on a real network, by making someone sleep, so emulation costs no CPU.
 *
 * <p>Timing model ({@link LinkModel}): a message of b bytes occupies the link for {@code b / bandwidth}; messages
 * on one link are serialized (a message starts when the link is free, at {@code max(now, busyUntil)}); latency is
 * added after the last byte leaves and does not occupy the link (it is pipelined: back-to-back messages overlap
 * their latencies). A message is delivered at {@code start + b / bandwidth + latency}.
 *
 * <p>Two ways to use it: {@link #transmit} reserves the link and sleeps until delivery (a blocking send);
 * {@link #reserve} only reserves the link and returns the delivery time, for senders that hand the message over
 * at once and let the receiver {@link #awaitDeadline wait} for it (the ring collectives, whose senders run ahead).
 * An ideal link ({@link LinkModel#NONE}) never reads the clock or sleeps; it only counts.
 *
 * <p>Thread-safe and lock-free: any number of threads may send on one link (the busy-until time is claimed with a
 * compare-and-set, so concurrent messages queue up in the order they win it).
 */
public final class EmulatedLink {
    private final LinkModel model;
    private final boolean ideal;
    private final boolean unlimited;
    private final double nanosPerByte;
    private final long latencyNanos;
    /** System.nanoTime() at which the last reserved message has left the link. */
    private final AtomicLong busyUntil;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong messages = new AtomicLong();

    public EmulatedLink(LinkModel model) {
        if (model == null) throw new IllegalArgumentException("a link needs a LinkModel; use LinkModel.NONE for an ideal one");
        this.model = model;
        this.ideal = model.isIdeal();
        this.unlimited = Double.isInfinite(model.bytesPerSecond());
        this.nanosPerByte = unlimited ? 0 : 1e9 / model.bytesPerSecond();
        this.latencyNanos = Math.round(model.latencySeconds() * 1e9);
        this.busyUntil = new AtomicLong(ideal ? 0 : System.nanoTime());
    }

    /** A new ideal link: no delay, counts only. */
    public static EmulatedLink ideal() {
        return new EmulatedLink(LinkModel.NONE);
    }

    public LinkModel model() {
        return model;
    }

    public boolean isIdeal() {
        return ideal;
    }

    /** Sends one message of the given payload size and returns when it has been delivered. */
    public void transmit(long bytes) throws InterruptedException {
        awaitDeadline(reserve(bytes, 1, 1));
    }

    /** Reserves the link for one message and returns its delivery time; see {@link #reserve(long, int, int)}. */
    public long reserve(long bytes) {
        return reserve(bytes, 1, 1);
    }

    /**
     * Reserves the link for {@code bytes} (serialized after what is already on it) and returns the
     * {@link System#nanoTime()} at which they are delivered, {@code latencies} latencies after the last byte
     * leaves; {@code messages} is only counted. A request and its reply over one link are {@code (b, 2, 2)}.
     * Returns 0 on an ideal link, a time that {@link #awaitDeadline} treats as passed.
     */
    public long reserve(long bytes, int messages, int latencies) {
        if (bytes < 0 || messages < 0 || latencies < 0) {
            throw new IllegalArgumentException("bytes, messages and latencies must be ≥ 0, got " + bytes + ", "
                    + messages + ", " + latencies);
        }
        this.bytes.addAndGet(bytes);
        this.messages.addAndGet(messages);
        if (ideal) return 0;
        long now = System.nanoTime();
        long sent = now;
        if (!unlimited && bytes > 0) {
            long occupy = (long) Math.ceil(bytes * nanosPerByte);
            for (;;) {
                long busy = busyUntil.get();
                long start = busy - now > 0 ? busy : now;
                if (busyUntil.compareAndSet(busy, start + occupy)) {
                    sent = start + occupy;
                    break;
                }
            }
        }
        long deadline = sent + latencies * latencyNanos;
        return deadline == 0 ? 1 : deadline; // 0 means "no wait"; a real clock reading of 0 is nudged
    }

    /**
     * Sleeps until {@code System.nanoTime()} reaches the deadline (0: returns at once). Parks in a loop, so the
     * precision is the scheduler's (tens of microseconds), not a millisecond as with Thread.sleep.
     */
    public static void awaitDeadline(long deadlineNanos) throws InterruptedException {
        if (deadlineNanos == 0) return;
        for (;;) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) return;
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) throw new InterruptedException("interrupted while a message was in flight");
        }
    }

    /** Payload bytes reserved on this link so far. */
    public long bytes() {
        return bytes.get();
    }

    /** Messages counted on this link so far. */
    public long messages() {
        return messages.get();
    }

    @Override
    public String toString() {
        return "EmulatedLink" + model + "[" + bytes() + " bytes, " + messages() + " messages]";
    }
}
