package io.shadowsync.engine;

import io.shadowsync.nn.RowBytes;

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
 * @param compressionRatio   per trainer, what its rounds would have sent as float32 over what they sent encoded
 *                           ({@code --compress}; 1 without a lossy codec), this run's rounds
 * @param syncCpuShare       per trainer, its sync thread's share of the trainer's CPU while the workers trained
 *                           ({@link SyncStats#cpuShare()}; 0 without a sync thread), this run's
 * @param rowBytes           the embedding rows' traffic, all trainers ({@link RowBytes#snapshot}: rows and value bytes
 *                           pulled and pushed, encoded by {@code --compress-rows} and as float32); null where no row
 *                           travelled (an in-process job without a row codec)
 */
public record JobResult(long examples, double seconds, TrainResult[] trainers, long[] syncRounds, double[] meanRoundMillis,
                        long[] syncBytes, double workerWaitFraction, double[] compressionRatio, double[] syncCpuShare,
                        long[] rowBytes) {
    /** A result without a record of the sync threads' CPU (every share 0) and without row traffic. */
    public JobResult(long examples, double seconds, TrainResult[] trainers, long[] syncRounds, double[] meanRoundMillis,
                     long[] syncBytes, double workerWaitFraction, double[] compressionRatio) {
        this(examples, seconds, trainers, syncRounds, meanRoundMillis, syncBytes, workerWaitFraction, compressionRatio,
                new double[syncBytes.length], null);
    }

    /** A result without compression (every ratio 1). */
    public JobResult(long examples, double seconds, TrainResult[] trainers, long[] syncRounds, double[] meanRoundMillis,
                     long[] syncBytes, double workerWaitFraction) {
        this(examples, seconds, trainers, syncRounds, meanRoundMillis, syncBytes, workerWaitFraction, ones(syncBytes.length));
    }

    private static double[] ones(int n) {
        double[] r = new double[n];
        java.util.Arrays.fill(r, 1);
        return r;
    }

    /** Per trainer, the mean bytes a sync round sent (encoded), the runs before a resumed checkpoint included. */
    public long[] bytesPerRound() {
        long[] b = new long[syncBytes.length];
        for (int t = 0; t < b.length; t++) b[t] = syncRounds[t] == 0 ? 0 : syncBytes[t] / syncRounds[t];
        return b;
    }

    public double examplesPerSecond() {
        return seconds > 0 ? examples / seconds : 0;
    }
}
