package io.shadowsync.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * A host's cores, shared by every thread that computes on it (workers, sync threads, parameter-server calls made in
 * the caller's thread): processor sharing. With k tasks running on c cores each advances at min(1, c/k) of a core,
 * so a task of w core-seconds takes w while the host has cores to spare and k·w/c when it has not. A task that waits
 * (on a link, a barrier) holds no core. The cores may be fractional: a shared machine's cores left over by others.
 * Some of them may be {@link #reserve reserved}: what the host's processes burn whatever their threads do (the JIT,
 * timers), taken from every task's share.
 */
public final class CpuPool {
    private final EventQueue q;
    private final double cores;
    private final List<Task> running = new ArrayList<>();
    private double reserved;
    private double last;
    private long version;
    private double busyCoreSeconds;
    private double from;

    private static final class Task {
        double remaining;
        final Runnable done;

        Task(double work, Runnable done) {
            this.remaining = work;
            this.done = done;
        }
    }

    public CpuPool(EventQueue q, double cores) {
        if (!(cores > 0) || Double.isInfinite(cores)) throw new IllegalArgumentException("a host needs a positive number of cores, got " + cores);
        this.q = q;
        this.cores = cores;
    }

    public double cores() {
        return cores;
    }

    /**
     * Takes f cores from the tasks for good: a process's own CPU (its JIT, GC and timer threads), which runs beside
     * its threads all the time; the tasks share what is left, each at min(1, (cores − reserved) / tasks).
     */
    public void reserve(double f) {
        if (!(f >= 0) || !(cores - reserved - f > 0)) {
            throw new IllegalArgumentException("the processes' own CPU (" + (reserved + f) + " cores) leaves nothing of a host of " + cores + " cores to their threads");
        }
        advance();
        reserved += f;
        reschedule();
    }

    /** Cores reserved for the processes' own CPU. */
    public double reserved() {
        return reserved;
    }

    /** Runs work core-seconds from now and calls done when they are through (at once for no work). */
    public void run(double work, Runnable done) {
        if (!(work >= 0)) throw new IllegalArgumentException("work must be ≥ 0 core-seconds, got " + work);
        if (work == 0) {
            done.run();
            return;
        }
        advance();
        running.add(new Task(work, done));
        reschedule();
    }

    /** Tasks computing now. */
    public int running() {
        return running.size();
    }

    private double rate() {
        return running.isEmpty() ? 0 : Math.min(1.0, (cores - reserved) / running.size());
    }

    private void advance() {
        double dt = q.now() - last;
        if (dt > 0 && !running.isEmpty()) {
            double r = rate();
            for (Task t : running) t.remaining -= dt * r;
            double used = r * running.size() * Math.max(0, q.now() - Math.max(last, from));
            busyCoreSeconds += used;
        }
        last = q.now();
    }

    private void reschedule() {
        long v = ++version;
        if (running.isEmpty()) return;
        double min = Double.POSITIVE_INFINITY;
        for (Task t : running) min = Math.min(min, t.remaining);
        q.after(Math.max(0, min) / rate(), () -> complete(v));
    }

    private void complete(long v) {
        if (v != version) return; // the set of running tasks changed since: a newer completion is scheduled
        advance();
        double min = Double.POSITIVE_INFINITY;
        for (Task t : running) min = Math.min(min, t.remaining);
        double eps = 1e-12 + 1e-9 * Math.abs(min);
        List<Task> done = new ArrayList<>();
        for (int i = 0; i < running.size(); ) {
            if (running.get(i).remaining <= min + eps) done.add(running.remove(i));
            else i++;
        }
        reschedule();
        for (Task t : done) t.done.run();
    }

    /** Starts counting busy core-seconds at t. */
    public void measureFrom(double t) {
        advance();
        from = t;
        busyCoreSeconds = 0;
    }

    /**
     * Share of the cores the job's threads on this host could use (min(cores − reserved, threads)) that were busy
     * over [measureFrom, now]: 1 when every thread computes all the time or every core is taken.
     */
    public double utilisation(int threads) {
        advance();
        double span = q.now() - from;
        return span > 0 && threads > 0 ? Math.min(1, busyCoreSeconds / (span * Math.min(cores - reserved, threads))) : 0;
    }
}
