package io.shadowsync.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Brings the threads of a job to rest between operations, so that its state can be read whole (a checkpoint), then
 * lets them go on. Participants are the threads whose operations change the state: workers (an operation is a step,
 * from taking a batch to applying it) and sync threads (an operation is a round). Each calls {@link #beforeOp} before
 * every operation and {@link #exit} when it has none left.
 *
 * <p><b>Lockstep groups.</b> Some participants cannot stop independently: the ranks of a collective (MA and BMUF
 * rounds, synchronous-SGD steps) all take part in operation k together, so one that stops before k while another has
 * begun k would leave that one waiting forever. For those the gate picks a common target: the coordinator raises the
 * request, then reads how many operations each participant has <em>begun</em> (a participant counts an operation
 * before it looks at the request); the largest count T is the target, and every member finishes exactly T operations
 * and rests before operation T + 1. The count is taken before the request is read and the request is raised before
 * the counts are read (both volatile), so an operation begun without seeing the request is always counted: nobody
 * can be past T. Independent participants (Hogwild workers, EASGD rounds) just finish the operation they began.
 *
 * <p>Sharing contract: {@link #beforeOp} is called by its participant only; its fast path, while no pause is asked
 * for, is one atomic increment of the participant's own padded counter and one volatile read. Everything else runs
 * under one monitor, off the hot path. Every wait ends on {@link #release}, {@link #abort} or an interrupt.
 */
final class PauseGate {
    private static final int RUNNING = 0, PARKED = 1, EXITED = 2;
    /** Counters 64 bytes apart: participants on different cores never share a cache line. */
    private static final int PAD = 8;

    private final String[] names;
    private final int[] group;
    private final boolean[] lockstep;
    private final AtomicLongArray begun;
    private final Object lock = new Object();
    private volatile boolean requested;
    /** Guarded by lock. */
    private final int[] state;
    private long[] targets;
    private long generation;
    private boolean aborted;
    /** The counts read by {@link #raise}, until {@link #awaitRest} uses them; written and read by the pausing thread. */
    private volatile long[] raisedAt;

    /**
     * @param names    per participant, its thread's name (for the message when it does not come to rest)
     * @param group    per participant, its group
     * @param lockstep per group, whether its members take part in every operation together
     */
    PauseGate(String[] names, int[] group, boolean[] lockstep) {
        if (names.length != group.length) throw new IllegalArgumentException(names.length + " names for " + group.length + " participants");
        for (int g : group) {
            if (g < 0 || g >= lockstep.length) throw new IllegalArgumentException("participant group " + g + " is not in 0.." + (lockstep.length - 1));
        }
        this.names = names.clone();
        this.group = group.clone();
        this.lockstep = lockstep.clone();
        this.begun = new AtomicLongArray(names.length * PAD);
        this.state = new int[names.length];
    }

    int participants() {
        return names.length;
    }

    /** Participant p is about to begin an operation; parks it first while a pause holds it at rest. */
    void beforeOp(int p) throws InterruptedException {
        long op = begun.incrementAndGet(p * PAD);
        if (!requested) return;
        synchronized (lock) {
            while (requested && !aborted) {
                if (targets == null) {
                    lock.wait(); // the coordinator is reading the counts
                } else if (op <= targets[p]) {
                    return; // an operation the others need (or that was begun): do it
                } else {
                    state[p] = PARKED;
                    lock.notifyAll();
                    long g = generation;
                    try {
                        while (generation == g && !aborted) lock.wait();
                    } finally {
                        if (state[p] == PARKED) state[p] = RUNNING; // woken by an interrupt or abort (release resets it)
                    }
                }
            }
        }
    }

    /** Whether a pause is asked for now (a participant about to take on more than its next operation checks it). */
    boolean pauseRequested() {
        return requested;
    }

    /** Participant p has no more operations (its worker ran out of data, its sync thread ended, or it failed). */
    void exit(int p) {
        synchronized (lock) {
            state[p] = EXITED;
            lock.notifyAll();
        }
    }

    /**
     * Asks every participant to come to rest and waits until each has parked or exited.
     *
     * @throws TimeoutException      when some did not within the timeout (the request is then withdrawn); names them
     * @throws IllegalStateException when the gate was aborted (the job failed or stopped) or a pause is in progress
     */
    void pause(long timeoutNanos) throws InterruptedException, TimeoutException {
        awaitRest(raise(), timeoutNanos);
    }

    /**
     * Phase one of a pause: raises the request (participants that reach their next operation wait for the targets)
     * and returns, per group, the most operations any member has begun. A pause agreed across processes exchanges
     * these counts, takes the largest of each lockstep group and passes them to {@link #awaitRest}; in between, it
     * must call either that or {@link #release}.
     *
     * @throws IllegalStateException when the gate was aborted (the job failed or stopped) or a pause is in progress
     */
    long[] raise() {
        synchronized (lock) {
            if (aborted) throw new IllegalStateException("the job has stopped");
            if (requested) throw new IllegalStateException("the job is already paused");
            targets = null;
            requested = true;
        }
        int n = names.length;
        long[] t = new long[n];
        for (int p = 0; p < n; p++) t[p] = begun.get(p * PAD);
        raisedAt = t;
        long[] groupMax = new long[lockstep.length];
        for (int p = 0; p < n; p++) groupMax[group[p]] = Math.max(groupMax[group[p]], t[p]);
        return groupMax;
    }

    /**
     * Phase two: members of a lockstep group finish {@code groupTargets[g]} operations (at least what they have begun
     * here), the others the operation they began, and this waits until every participant has parked or exited.
     *
     * @param groupTargets per group, the operations its lockstep members take before they rest (the largest count
     *                     any member begun, in this process and, for a job of several processes, in every one)
     * @throws TimeoutException      when some did not within the timeout (the request is then withdrawn); names them
     * @throws IllegalStateException when the gate was aborted, or {@link #raise} was not called first
     */
    void awaitRest(long[] groupTargets, long timeoutNanos) throws InterruptedException, TimeoutException {
        long[] raised = raisedAt;
        if (raised == null || !requested) throw new IllegalStateException("no pause was raised");
        if (groupTargets.length != lockstep.length) {
            throw new IllegalArgumentException(groupTargets.length + " group targets for " + lockstep.length + " groups");
        }
        int n = names.length;
        long[] t = raised.clone();
        for (int p = 0; p < n; p++) {
            if (lockstep[group[p]]) t[p] = Math.max(t[p], groupTargets[group[p]]);
        }
        raisedAt = null;
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (lock) {
            targets = t;
            lock.notifyAll();
            try {
                while (true) {
                    if (aborted) throw new IllegalStateException("the job stopped before it came to rest");
                    List<String> moving = moving();
                    if (moving.isEmpty()) return;
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new TimeoutException(String.join(", ", moving) + " did not reach the end of a step or round within "
                                + String.format(java.util.Locale.ROOT, "%.1f", timeoutNanos / 1e9) + " s");
                    }
                    lock.wait(Math.max(1, left / 1_000_000));
                }
            } catch (InterruptedException | RuntimeException | TimeoutException e) {
                releaseLocked();
                throw e;
            }
        }
    }

    private List<String> moving() {
        List<String> m = new ArrayList<>();
        for (int p = 0; p < names.length; p++) {
            if (state[p] == RUNNING) m.add(names[p]);
        }
        return m;
    }

    /** Lets every parked participant go on. */
    void release() {
        synchronized (lock) {
            releaseLocked();
        }
    }

    private void releaseLocked() {
        requested = false;
        raisedAt = null;
        targets = null;
        generation++;
        // running again from now on, though they wake later: the next pause must not count them at rest already
        for (int p = 0; p < state.length; p++) {
            if (state[p] == PARKED) state[p] = RUNNING;
        }
        lock.notifyAll();
    }

    /** The job is ending (a failure, a stop): parked participants go on and no new pause is granted. */
    void abort() {
        synchronized (lock) {
            aborted = true;
            requested = false;
            lock.notifyAll();
        }
    }
}
