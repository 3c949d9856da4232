package io.shadowsync.engine;

import io.shadowsync.metrics.TrainWindow;

/**
 * What a finished training run did.
 *
 * @param examples          examples trained on (all workers)
 * @param seconds           wall time from the workers' start to the last worker's end
 * @param workerExamples    examples per worker
 * @param skippedLines      malformed input lines skipped (only with skip-bad-lines)
 * @param nonFiniteBatches  batches whose loss or gradient (dense or embedding) was NaN/inf: skipped, no update
 * @param trainLoss         mean training loss over the examples trained on, each measured before its update (the
 *                          skipped non-finite batches have no loss to count; NaN when every batch was skipped)
 * @param readerWaitFraction share of worker time spent taking batches (waiting for the reader thread, or at a pause)
 * @param syncWaitFraction  share of worker time spent waiting on synchronization and the parameter servers (shadow
 *                          mode: the server round trips only; a sync round never holds a worker)
 * @param window            training loss (and NE for binary labels) over the last examples trained on
 */
public record TrainResult(long examples, double seconds, long[] workerExamples, long skippedLines,
                          long nonFiniteBatches, double trainLoss, double readerWaitFraction, double syncWaitFraction,
                          TrainWindow.Snapshot window) {
    public double examplesPerSecond() {
        return seconds > 0 ? examples / seconds : 0;
    }
}
