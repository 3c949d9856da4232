package io.shadowsync.engine;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A job's stop on failure: the first failure anywhere (a reader's bad data, a worker, a round, a sync thread) is
 * kept, and every blocking point that registered a release — the trainers' feeders, foreground phasers and
 * synchronous-SGD barriers, the pause gate, the collectives and servers of the cluster, the threads themselves — is
 * released at once, so every thread of the job ends promptly instead of waiting for a peer that will never come.
 * Later failures are mostly echoes of the first (a collective broken by the abort) and are dropped.
 *
 * <p>Thread-safe: any thread may fail it; releases run on the thread of the first failure (or at once on the
 * registering thread when the job has already failed, so possibly twice), and must be idempotent and not block.
 */
final class FailureSignal {
    private final AtomicReference<Throwable> first = new AtomicReference<>();
    private final List<Runnable> releases = new CopyOnWriteArrayList<>();

    /** Records t when it is the first failure and then runs every release; returns whether it was the first. */
    boolean fail(Throwable t) {
        if (t instanceof TrainingException te && te.getCause() != null) t = te.getCause();
        if (!first.compareAndSet(null, t)) return false;
        for (Runnable r : releases) runQuietly(r);
        return true;
    }

    /** Whether the job has failed. */
    boolean failed() {
        return first.get() != null;
    }

    /** The first failure, or null. */
    Throwable first() {
        return first.get();
    }

    /** Registers what to release on failure; runs it at once when the job has already failed. */
    void onFailure(Runnable release) {
        releases.add(release);
        if (failed()) runQuietly(release);
    }

    private static void runQuietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // releasing is best effort: one that fails must not keep the others from running
        }
    }
}
