package io.shadowsync.engine;

import io.shadowsync.sync.SyncAlgorithm;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.BooleanSupplier;

/**
 * The shadow: a trainer's sync thread. Loops rounds of the sync algorithm on the live replica for as long as
 * training runs, never blocking a worker, paced by its {@link SyncPacer}; then keeps taking part until the last
 * synchronization (see {@link SyncAlgorithm} on termination). Also used, without pacing, to finish the rounds of a
 * foreground trainer whose workers are done.
 */
final class SyncLoop implements Runnable {
    private final SyncAlgorithm algorithm;
    private final float[] params;
    private final BooleanSupplier training;
    private final SyncPacer pacer;
    private final SyncStats stats;
    private final FailureSignal failures;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final boolean cpuClock = THREADS.isCurrentThreadCpuTimeSupported();

    /** A round that throws fails the job through {@code failures}; a failed job ends the loop before its next round. */
    SyncLoop(SyncAlgorithm algorithm, float[] params, BooleanSupplier training, SyncPacer pacer, SyncStats stats,
             FailureSignal failures) {
        this.failures = failures;
        this.algorithm = algorithm;
        this.params = params;
        this.training = training;
        this.pacer = pacer;
        this.stats = stats;
    }

    /** This thread's CPU time so far (0 without a CPU clock). */
    private long cpu() {
        return cpuClock ? THREADS.getCurrentThreadCpuTime() : 0;
    }

    @Override
    public void run() {
        try {
            while (!failures.failed()) {
                boolean stillTraining = training.getAsBoolean();
                long c0 = cpu(), t0 = System.nanoTime();
                int active = algorithm.round(params, stillTraining);
                long took = System.nanoTime() - t0, c1 = cpu();
                stats.recordRound(took, algorithm.bytesSent(), algorithm.rawBytesSent());
                if (active == 0 || (active < 0 && !stillTraining)) return;
                if (stillTraining) {
                    pacer.afterRound(took);
                    stats.recordCpu(c1 - c0, cpu() - c1);
                }
            }
        } catch (InterruptedException e) {
            // only a failure elsewhere interrupts a sync thread (then this is its echo) or the job's own interruption
            failures.fail(e);
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failures.fail(t);
        }
    }
}
