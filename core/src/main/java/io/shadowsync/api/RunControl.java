package io.shadowsync.api;

import io.shadowsync.engine.Job;

/**
 * Lets another thread end one {@link TrainingJob#run(RunControl)} early: {@link #stop()} has the run end as if its data
 * had run out — every worker finishes the batch in hand, the trainers take their last synchronization, the model is
 * evaluated and returned. A stop asked before the run has begun ends it at its first batch. One control serves one run.
 * Thread-safe.
 */
public final class RunControl {
    private boolean stopRequested;
    private Job job;

    /** Ends the run early (see the class comment); later calls do nothing more. */
    public synchronized void stop() {
        stopRequested = true;
        if (job != null) job.stop();
    }

    /** Whether {@link #stop()} was called. */
    public synchronized boolean stopRequested() {
        return stopRequested;
    }

    /** The run's job, once it is built: a stop asked before reaches it now. */
    synchronized void attach(Job job) {
        if (this.job != null) throw new IllegalStateException("a RunControl serves one run, and this one has run already");
        this.job = job;
        if (stopRequested) job.stop();
    }
}
