package io.shadowsync.engine;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * How a shadow sync thread idles between two rounds while its trainer trains (an idle strategy, as Agrona's): not at
 * all, a fixed interval ({@code --sync-interval-ms}), or self-paced to a share of the CPU ({@code --sync-cpu}, the
 * default). Called on the sync thread only; after the workers finish, rounds are never paced.
 */
interface SyncPacer {
    /** Waits after a round that took {@code roundNanos} of wall time, before the next one. */
    void afterRound(long roundNanos) throws InterruptedException;

    /** As fast as it can. */
    SyncPacer NONE = roundNanos -> { };

    /** A fixed pause of intervalNanos after every round. */
    static SyncPacer fixed(long intervalNanos) {
        return roundNanos -> Thread.sleep(intervalNanos / 1_000_000L, (int) (intervalNanos % 1_000_000L));
    }

    /**
     * Self-pacing: after each round, waits until the sync thread's CPU time since the end of the previous wait is at
     * most {@code share} of the wall time since then (its own CPU time, from {@link ThreadMXBean}: a round that waits
     * on the network costs little and is followed by a short pause; one that computes, by a long one), and until the
     * workers have made a step since the round began ({@code steps}), whichever is later. The wait for steps ends
     * after {@link CpuShare#MAX_STEP_WAIT_NANOS} or when training ends, so that a trainer whose workers rest (a
     * checkpoint's pause, a slow reader) still takes part in the others' rounds.
     */
    static SyncPacer cpuShare(double share, LongSupplier steps, BooleanSupplier training) {
        return new CpuShare(share, steps, training);
    }

    /** See {@link #cpuShare}. */
    final class CpuShare implements SyncPacer {
        /** The longest a round waits for the workers to step. */
        static final long MAX_STEP_WAIT_NANOS = 20_000_000L;
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private final double share;
        private final LongSupplier steps;
        private final BooleanSupplier training;
        private final boolean cpuClock = THREADS.isCurrentThreadCpuTimeSupported();
        /** At the previous round's end: the thread's CPU time and the wall clock (cpu0 -1: no round yet). */
        private long cpu0 = -1, wall0;
        /** Wall time still owed for CPU spent: the wait before the next round (never negative: idle earns no credit). */
        private long debt;

        CpuShare(double share, LongSupplier steps, BooleanSupplier training) {
            if (!(share > 0 && share <= 1)) throw new IllegalArgumentException("--sync-cpu must be in (0, 1], got " + share);
            this.share = share;
            this.steps = steps;
            this.training = training;
        }

        @Override
        public void afterRound(long roundNanos) throws InterruptedException {
            long now = System.nanoTime();
            long cpu = cpuClock ? THREADS.getCurrentThreadCpuTime() : 0;
            // everything since the previous round's end (the wait's own CPU too); before the first, the thread's CPU
            // time so far (a sync thread is started for its loop); without a CPU clock, the round's wall time (an upper
            // bound). Not the first round's wall time: it holds the wait for the other trainers to start.
            long spent = !cpuClock ? roundNanos : cpu0 < 0 ? cpu : cpu - cpu0;
            long elapsed = cpu0 < 0 ? roundNanos : now - wall0;
            debt = Math.max(0, debt + (long) (spent / share) - elapsed);
            long stepsAtRound = steps.getAsLong();
            long until = now + debt, giveUp = now + MAX_STEP_WAIT_NANOS;
            cpu0 = cpu;
            wall0 = now;
            boolean waitSteps = stepsAtRound == lastSteps;
            for (;;) {
                if (Thread.interrupted()) throw new InterruptedException();
                long t = System.nanoTime();
                if (!training.getAsBoolean()) break;
                if (t - until < 0) {
                    LockSupport.parkNanos(Math.min(until - t, 5_000_000L));
                    continue;
                }
                if (!waitSteps || steps.getAsLong() != stepsAtRound || t - giveUp >= 0) break;
                LockSupport.parkNanos(500_000L);
            }
            lastSteps = steps.getAsLong();
        }

        /** The workers' steps when the previous wait ended (the round after it began there). */
        private long lastSteps = -1;
    }
}
