package io.shadowsync.cli;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.GroupChangedException;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.metrics.TrainWindow;

/**
 * Gathers what each trainer process did into the whole job's {@link JobResult}, so that a multi-process job's summary
 * is built exactly as an in-process one. Each trainer's numbers (longs, and doubles as their 64 bits) travel on the
 * control group's typed channel ({@link Collective#allGatherLongs}): exact, and everybody's reach every rank.
 */
final class JobStats {
    /** examples, seconds, skipped, nonFinite, trainLoss, readerWait, syncWait, rounds, roundMs, bytes, window ×3. */
    private static final int FIELDS = 13;

    private JobStats() {}

    /** Every rank calls this with its own result; each gets the job's. */
    static JobResult gather(Collective control, JobResult mine, long rounds, double roundMs, long bytes) throws InterruptedException {
        TrainResult r = mine.trainers()[0];
        TrainWindow.Snapshot w = r.window();
        long[] bits = {r.examples(), d(r.seconds()), r.skippedLines(), r.nonFiniteBatches(), d(r.trainLoss()), d(r.readerWaitFraction()),
                d(r.syncWaitFraction()), rounds, d(roundMs), bytes, w.examples(), d(w.sumLoss()), d(w.sumLabels())};
        int n;
        long[] all;
        while (true) {
            try {
                all = control.allGatherLongs(bits);
                n = all.length / FIELDS;
                break;
            } catch (GroupChangedException e) {
                // elastic trainers: a member left during the gather; ask again over those still here
                if (e.rejoined()) throw new IllegalStateException("this trainer was dropped from the group as the job ended: " + e.getMessage(), e);
            }
        }
        TrainResult[] results = new TrainResult[n];
        long[] syncRounds = new long[n], syncBytes = new long[n];
        double[] meanRound = new double[n];
        long examples = 0;
        double seconds = 0, wait = 0;
        for (int t = 0; t < n; t++) {
            long[] v = java.util.Arrays.copyOfRange(all, t * FIELDS, (t + 1) * FIELDS);
            TrainWindow.Snapshot win = new TrainWindow.Snapshot(v[10], dbl(v[11]), dbl(v[12]));
            results[t] = new TrainResult(v[0], dbl(v[1]), new long[0], v[2], v[3], dbl(v[4]), dbl(v[5]), dbl(v[6]), win);
            syncRounds[t] = v[7];
            meanRound[t] = dbl(v[8]);
            syncBytes[t] = v[9];
            examples += v[0];
            seconds = Math.max(seconds, dbl(v[1]));
            wait += dbl(v[5]) + dbl(v[6]); // taking batches, synchronization and servers, as in process
        }
        return new JobResult(examples, seconds, results, syncRounds, meanRound, syncBytes, wait / n);
    }

    private static long d(double v) {
        return Double.doubleToRawLongBits(v);
    }

    private static double dbl(long bits) {
        return Double.longBitsToDouble(bits);
    }
}
