package io.shadowsync.engine;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.LongSupplier;

/**
 * The CPU time a trainer's threads other than its sync thread (its workers and its reader) have used, from the JVM's
 * per-thread CPU clocks: what a self-paced sync thread measures its own share against ({@link SyncPacer#cpuShare}).
 * A thread records its final time itself as it ends ({@link #ended}), since an ended thread's clock can no longer be
 * read. Without per-thread CPU clocks every reading is 0. Thread-safe.
 */
final class TrainerCpu implements LongSupplier {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final boolean CLOCKS = THREADS.isThreadCpuTimeSupported() && THREADS.isCurrentThreadCpuTimeSupported();
    private final Thread[] threads;
    /** Per thread, its CPU time when last read (an unstarted thread's is 0). */
    private final long[] last;

    /** threads: those to count (null entries are skipped). */
    TrainerCpu(Thread... threads) {
        this.threads = threads.clone();
        this.last = new long[threads.length];
    }

    /** The CPU time of every thread so far, in nanoseconds. */
    @Override
    public synchronized long getAsLong() {
        long sum = 0;
        for (int i = 0; i < threads.length; i++) {
            if (CLOCKS && threads[i] != null && threads[i].isAlive()) {
                long c = THREADS.getThreadCpuTime(threads[i].getId());
                if (c > last[i]) last[i] = c;
            }
            sum += last[i];
        }
        return sum;
    }

    /**
     * Whether none of the threads is runnable: each waits (for a batch, at a checkpoint's pause) or has ended. A thread
     * that waits for a core on a loaded machine is runnable, though its CPU clock stands still.
     */
    boolean resting() {
        for (Thread t : threads) {
            if (t != null && t.getState() == Thread.State.RUNNABLE) return false;
        }
        return true;
    }

    /** Called by a counted thread as it ends: records its final CPU time. */
    synchronized void ended() {
        Thread me = Thread.currentThread();
        for (int i = 0; i < threads.length; i++) {
            if (threads[i] == me && CLOCKS) last[i] = Math.max(last[i], THREADS.getCurrentThreadCpuTime());
        }
    }
}
