package io.shadowsync.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A host's cores, shared by every thread that computes on it (workers, sync threads, parameter-server calls made in
 * the caller's thread). A task that waits (on a link, a barrier) holds no core. The cores may be fractional: a shared
 * machine's cores left over by others. Some of them may be {@link #reserve reserved}: what the host's processes burn
 * whatever their threads do (the JIT, timers), taken from the tasks' cores.
 *
 * <p>Two disciplines. <b>Processor sharing</b> (quantum 0): with k tasks on c cores each advances at min(1, c/k) of a
 * core, so a task of w core-seconds takes w while the host has cores to spare and k·w/c when it has not; tasks that
 * start together finish together. <b>Time slices</b> (quantum q &gt; 0), as an operating system's scheduler runs
 * threads: a run queue in arrival order served by ceil(c) cores; a task runs on a core until it is through or has
 * run q, and then, if others wait, goes to the back of the queue; a task shorter than its slice runs to completion.
 * The running tasks share the c cores (each min(1, c / running) of one, so a fractional host runs its last core
 * slower, never more tasks at once than it has whole or partial cores). Tasks that start together then finish one
 * after another, the first after its own work, not after all of theirs; the total work and the busy time are the
 * same as under processor sharing.
 */
public final class CpuPool {
    private final EventQueue q;
    private final double cores;
    private final double quantum;
    private final List<Task> running = new ArrayList<>();
    private final ArrayDeque<Task> waiting = new ArrayDeque<>();
    private double reserved;
    private double last;
    private long version;
    private double busyCoreSeconds;
    private double from;

    private static final class Task {
        double remaining;
        /** Time slices: seconds left of the task's current slice. */
        double slice;
        final Runnable done;

        Task(double work, Runnable done) {
            this.remaining = work;
            this.done = done;
        }
    }

    /** A host of processor-sharing cores. */
    public CpuPool(EventQueue q, double cores) {
        this(q, cores, 0);
    }

    /**
     * A host of the given cores, time-sliced with the given quantum (seconds), or processor sharing for a quantum of
     * 0.
     */
    public CpuPool(EventQueue q, double cores, double quantum) {
        if (!(cores > 0) || Double.isInfinite(cores)) throw new IllegalArgumentException("a host needs a positive number of cores, got " + cores);
        if (!(quantum >= 0) || Double.isInfinite(quantum)) throw new IllegalArgumentException("a scheduler quantum is finite and ≥ 0 seconds, got " + quantum);
        this.q = q;
        this.cores = cores;
        this.quantum = quantum;
    }

    public double cores() {
        return cores;
    }

    /** The scheduler's quantum in seconds; 0 for processor sharing. */
    public double quantum() {
        return quantum;
    }

    /**
     * Takes f cores from the tasks for good: a process's own CPU (its JIT, GC and timer threads), which runs beside
     * its threads all the time; the tasks share what is left.
     */
    public void reserve(double f) {
        if (!(f >= 0) || !(cores - reserved - f > 0)) {
            throw new IllegalArgumentException("the processes' own CPU (" + (reserved + f) + " cores) leaves nothing of a host of " + cores + " cores to their threads");
        }
        advance();
        reserved += f;
        // time slices: fewer cores left send the tasks beyond them back to the queue's head (processor sharing runs all)
        if (quantum > 0) while (running.size() > slots()) waiting.addFirst(running.remove(running.size() - 1));
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
        Task t = new Task(work, done);
        if (quantum == 0) running.add(t);
        else waiting.add(t);
        reschedule();
    }

    /** Tasks computing now (on a core; under time slices not those waiting in the run queue). */
    public int running() {
        return running.size();
    }

    /** Tasks in the run queue waiting for a core (always 0 under processor sharing). */
    public int queued() {
        return waiting.size();
    }

    /** Time slices: tasks that can run at once, one a core or part of one. */
    private int slots() {
        double c = cores - reserved;
        return Math.max(1, (int) Math.ceil(c - 1e-9));
    }

    private double rate() {
        return running.isEmpty() ? 0 : Math.min(1.0, (cores - reserved) / running.size());
    }

    private void advance() {
        double dt = q.now() - last;
        if (dt > 0 && !running.isEmpty()) {
            double r = rate();
            for (Task t : running) {
                t.remaining -= dt * r;
                if (quantum == 0) continue;
                t.slice -= dt;
                // nobody waits: a slice that runs out is renewed at once, so only time since the last renewal counts
                if (waiting.isEmpty() && t.slice <= 0) t.slice = quantum - (-t.slice % quantum);
            }
            double used = r * running.size() * Math.max(0, q.now() - Math.max(last, from));
            busyCoreSeconds += used;
        }
        last = q.now();
    }

    private void reschedule() {
        long v = ++version;
        if (quantum > 0) {
            while (running.size() < slots() && !waiting.isEmpty()) {
                Task t = waiting.poll();
                t.slice = quantum;
                running.add(t);
            }
        }
        if (running.isEmpty()) return;
        double r = rate();
        double next = Double.POSITIVE_INFINITY;
        for (Task t : running) {
            next = Math.min(next, Math.max(0, t.remaining) / r);
            if (!waiting.isEmpty()) next = Math.min(next, Math.max(0, t.slice));
        }
        q.after(next, () -> complete(v));
    }

    private void complete(long v) {
        if (v != version) return; // the set of running tasks changed since: a newer completion is scheduled
        advance();
        double r = rate();
        double min = Double.POSITIVE_INFINITY;
        for (Task t : running) min = Math.min(min, t.remaining);
        double eps = 1e-12 + 1e-9 * Math.abs(min);
        List<Task> done = new ArrayList<>();
        List<Task> expired = new ArrayList<>();
        for (int i = 0; i < running.size(); ) {
            Task t = running.get(i);
            // processor sharing: the event was the least remaining work's end; time slices: it may be a slice's end
            boolean through = quantum == 0 ? t.remaining <= min + eps : t.remaining <= eps || q.now() + t.remaining / r == q.now();
            if (through) done.add(running.remove(i));
            else if (quantum > 0 && !waiting.isEmpty() && t.slice <= 1e-12) expired.add(running.remove(i));
            else i++;
        }
        waiting.addAll(expired); // to the back of the run queue, in the order they ran
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
