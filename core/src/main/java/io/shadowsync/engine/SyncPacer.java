package io.shadowsync.engine;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * How a shadow sync thread idles between two rounds while its trainer trains (an idle strategy, as Agrona's): not at
 * all, a fixed interval ({@code --sync-interval-ms}), or self-paced to a share of its trainer's CPU ({@code --sync-cpu},
 * the default). Called on the sync thread only; after the workers finish, rounds are never paced.
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
     * Self-pacing: after each round, waits until the sync thread has used at most {@code share} of its trainer's CPU
     * time — its own CPU time (from {@link ThreadMXBean}, the pacer's waits included) against that of the trainer's
     * other threads ({@code trainerCpu}: the workers and the reader) — and until the workers have made a step since
     * the round began ({@code steps}), whichever is later. A share of the trainer's CPU, not of a core: on a host with
     * fewer cores than threads (or one loaded by other work) the workers get less than a core each, and so does the
     * sync thread, so the workers keep at least {@code 1 − share} of what they would have had without it. A round
     * that waits on the network costs little and is followed by a short pause; one that computes, by a long one.
     *
     * <p>The wait for steps ends after {@link CpuShare#MAX_STEP_WAIT_NANOS}, and the wait for CPU when the trainer's
     * threads have used none for {@link CpuShare#REST_NANOS} and none of them is runnable ({@code resting}: they wait
     * at a checkpoint's pause or for a slow reader, so a round takes nothing from them; threads that only wait for a
     * core on a loaded machine do not rest), or when training ends: a trainer whose workers rest still takes part in
     * the others' rounds.
     */
    static SyncPacer cpuShare(double share, LongSupplier steps, LongSupplier trainerCpu, BooleanSupplier resting,
                              BooleanSupplier training) {
        return new CpuShare(share, steps, trainerCpu, resting, training);
    }

    /** See {@link #cpuShare}. */
    final class CpuShare implements SyncPacer {
        /** The longest a round waits for the workers to step. */
        static final long MAX_STEP_WAIT_NANOS = 20_000_000L;
        /** The trainer's threads that have used no CPU for this long, none of them runnable, rest: the wait for CPU ends. */
        static final long REST_NANOS = 50_000_000L;
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        /** The trainer's other threads' CPU time owed per nanosecond the sync thread uses: (1 − share) / share. */
        private final double perNano;
        private final LongSupplier steps;
        private final LongSupplier trainerCpu;
        private final BooleanSupplier resting;
        private final BooleanSupplier training;
        private final boolean cpuClock = THREADS.isCurrentThreadCpuTimeSupported();
        /** At the previous round's end: this thread's CPU time and the trainer's other threads' (cpu0 -1: no round yet). */
        private long cpu0 = -1, others0;
        /** The trainer's CPU time still owed for CPU this thread spent (never negative: idle earns no credit). */
        private long debt;
        /** The workers' steps when the previous wait ended (the round after it began there). */
        private long lastSteps = -1;

        CpuShare(double share, LongSupplier steps, LongSupplier trainerCpu, BooleanSupplier resting, BooleanSupplier training) {
            if (!(share > 0 && share <= 1)) throw new IllegalArgumentException("--sync-cpu must be in (0, 1], got " + share);
            this.perNano = (1 - share) / share;
            this.steps = steps;
            this.trainerCpu = trainerCpu;
            this.resting = resting;
            this.training = training;
        }

        @Override
        public void afterRound(long roundNanos) throws InterruptedException {
            long cpu = cpuClock ? THREADS.getCurrentThreadCpuTime() : 0;
            long others = trainerCpu.getAsLong();
            // everything since the previous round's end (the wait's own CPU too); before the first, the thread's CPU
            // time so far (a sync thread is started for its loop) against the trainer's so far; without a CPU clock,
            // the round's wall time (an upper bound)
            long spent = !cpuClock ? roundNanos : cpu0 < 0 ? cpu : cpu - cpu0;
            long earned = cpu0 < 0 ? others : others - others0;
            debt = Math.max(0, debt + (long) (spent * perNano) - earned);
            long owedUntil = others + debt;
            long stepsAtRound = steps.getAsLong();
            long now = System.nanoTime(), giveUp = now + MAX_STEP_WAIT_NANOS;
            cpu0 = cpu;
            others0 = others;
            boolean waitSteps = stepsAtRound == lastSteps;
            long seen = others, movedAt = now;
            for (;;) {
                if (Thread.interrupted()) throw new InterruptedException();
                if (!training.getAsBoolean()) break;
                long t = System.nanoTime();
                long o = trainerCpu.getAsLong();
                if (o != seen) {
                    seen = o;
                    movedAt = t;
                }
                if (owedUntil - o > 0 && (t - movedAt < REST_NANOS || !resting.getAsBoolean())) {
                    // the others cannot use more CPU than wall time per thread; 0.5 to 10 ms between looks
                    LockSupport.parkNanos(Math.min(Math.max(owedUntil - o, 500_000L), 10_000_000L));
                    continue;
                }
                if (!waitSteps || steps.getAsLong() != stepsAtRound || t - giveUp >= 0) break;
                LockSupport.parkNanos(500_000L);
            }
            lastSteps = steps.getAsLong();
        }
    }
}
