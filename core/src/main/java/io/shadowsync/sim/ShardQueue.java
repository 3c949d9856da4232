package io.shadowsync.sim;

import java.util.ArrayDeque;

/**
 * A server shard that shares a host's cores with the trainers ({@code launch --local}: the servers are processes on
 * the same machine): it serves its calls one at a time, in arrival order, and each call's work runs on the host's
 * {@link CpuPool}, so it slows when the trainers' threads take the cores and slows them in turn.
 */
final class ShardQueue {
    private final EventQueue q;
    private final CpuPool host;
    private final ArrayDeque<Object[]> waiting = new ArrayDeque<>();
    private boolean serving;
    private double servingSince, from, busy;

    ShardQueue(EventQueue q, CpuPool host) {
        this.q = q;
        this.host = host;
    }

    /** Serves a call of the given work (core-seconds) after those before it, then done. */
    void serve(double work, Runnable done) {
        waiting.add(new Object[] {work, done});
        if (!serving) next();
    }

    private void next() {
        Object[] c = waiting.poll();
        if (c == null) {
            serving = false;
            return;
        }
        serving = true;
        servingSince = q.now();
        host.run((Double) c[0], () -> {
            busy += q.now() - Math.max(servingSince, from);
            ((Runnable) c[1]).run();
            next();
        });
    }

    void measureFrom(double t) {
        from = t;
        busy = 0;
    }

    /** Share of [measureFrom, t] spent serving. */
    double utilisation(double t) {
        double b = busy + (serving ? t - Math.max(servingSince, from) : 0);
        return t > from ? Math.min(1, b / (t - from)) : 0;
    }
}
