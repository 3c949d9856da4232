package io.shadowsync.sim;

import java.util.PriorityQueue;

/**
 * The discrete-event engine: actions scheduled at simulated times (seconds) and run in time order; actions at the same
 * time run in the order they were scheduled (FIFO ties), so a run is a function of what was scheduled and nothing else.
 * An action may schedule more, never in the past. Single-threaded.
 */
public final class EventQueue {
    private record Event(double time, long seq, Runnable action) {}

    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> {
        int c = Double.compare(a.time, b.time);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    });
    private double now;
    private long seq;
    private long processed;

    /** The current simulated time: that of the action running, or where {@link #runUntil} stopped. */
    public double now() {
        return now;
    }

    /** Actions run so far. */
    public long processed() {
        return processed;
    }

    /** Schedules action at time t (at least now). */
    public void at(double t, Runnable action) {
        if (!(t >= now) || Double.isInfinite(t)) throw new IllegalArgumentException("an event at " + t + " s is not at or after now, " + now + " s");
        events.add(new Event(t, seq++, action));
    }

    /** Schedules action delay seconds from now (delay ≥ 0). */
    public void after(double delay, Runnable action) {
        at(now + delay, action);
    }

    /** Runs the actions due at or before t in order, then sets the clock to t (if it is later). */
    public void runUntil(double t) {
        runUntil(t, () -> true);
    }

    /**
     * As {@link #runUntil(double)}, but stops (the clock at the last action run) as soon as {@code more} says false,
     * checked before each action.
     */
    public void runUntil(double t, java.util.function.BooleanSupplier more) {
        while (!events.isEmpty() && events.peek().time <= t) {
            if (!more.getAsBoolean()) return;
            Event e = events.poll();
            now = e.time;
            processed++;
            e.action.run();
        }
        if (t > now) now = t;
    }

    /** Whether no action is scheduled. */
    public boolean isEmpty() {
        return events.isEmpty();
    }
}
