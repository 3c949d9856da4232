package io.shadowsync.engine;

/**
 * What a finished job did.
 *
 * @param examples           examples trained on, all trainers
 * @param seconds            wall time until the last trainer's workers finished
 * @param trainers           per-trainer results
 * @param syncRounds         sync rounds per trainer
 * @param meanRoundMillis    mean duration of a sync round per trainer
 * @param syncBytes          bytes each trainer sent for synchronization
 * @param workerWaitFraction share of worker time spent waiting, the mean over the trainers: for a batch (the reader, a
 *                           pause), on synchronization (phaser, barrier, collective) and on the parameter servers
 */
public record JobResult(long examples, double seconds, TrainResult[] trainers, long[] syncRounds, double[] meanRoundMillis,
                        long[] syncBytes, double workerWaitFraction) {
    public double examplesPerSecond() {
        return seconds > 0 ? examples / seconds : 0;
    }
}
