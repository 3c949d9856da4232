package io.shadowsync.api;

import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.metrics.Metrics;

/**
 * What {@link TrainingJob#run()} gives back.
 *
 * @param model the trained model, its provenance filled in (settings, data fingerprint, metrics)
 * @param job   what the job did: examples, time, per-trainer results, synchronization rounds and bytes
 * @param eval  the model's metrics on the job's evaluation data, or null when it had none
 */
public record TrainingResult(TrainedModel model, JobResult job, Metrics eval) {
    /** The mean training loss over every example of every trainer (NaN when none was trained). */
    public double trainLoss() {
        double sum = 0;
        for (TrainResult r : job.trainers()) sum += r.trainLoss() * r.examples();
        return job.examples() == 0 ? Double.NaN : sum / job.examples();
    }

    /** Examples trained on, all trainers together. */
    public long examples() {
        return job.examples();
    }

    /** Training throughput, all trainers together. */
    public double examplesPerSecond() {
        return job.examplesPerSecond();
    }
}
