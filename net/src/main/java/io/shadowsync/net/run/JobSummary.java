package io.shadowsync.net.run;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.GroupChangedException;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.kernels.Blas;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.RowBytes;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A job's JSON summary ({@link #of}) — what {@code shadowsync train} and a multi-process job's leader print as their
 * last line — and the gathering of every trainer process's result into the whole job's ({@link #gather}), so that a
 * multi-process job's summary is built exactly as an in-process one.
 */
public final class JobSummary {
    /**
     * examples, seconds, skipped, nonFinite, trainLoss, readerWait, syncWait, rounds, roundMs, bytes, window ×3, ratio,
     * sync CPU share, row traffic.
     */
    private static final int FIELDS = 15 + RowBytes.FIELDS;

    private JobSummary() {}

    /**
     * The summary of a job's result (everything but {@code eval}, {@code saved} and what only a multi-process job has).
     *
     * @param network        how the emulated network was asked for ("1gbit / 0.5ms"), or null: from the job's link model
     */
    public static Map<String, Object> of(TrainingJob job, JobResult result, String network) {
        TrainResult first = result.trainers()[0];
        long skipped = 0, nonFinite = 0; // each trainer's feeder counts the lines it skipped (a loaded source's, once)
        double lossSum = 0, readerWait = 0;
        for (TrainResult r : result.trainers()) {
            skipped += r.skippedLines();
            nonFinite += r.nonFiniteBatches();
            lossSum += r.trainLoss() * r.examples();
            readerWait += r.readerWaitFraction() / result.trainers().length;
        }
        LinkModel link = job.config().link();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", job.model().kind());
        summary.put("examples", result.examples());
        summary.put("seconds", round(result.seconds(), 3));
        summary.put("examples_per_sec", round(result.examplesPerSecond(), 1));
        summary.put("trainers", job.config().trainers());
        summary.put("workers", job.config().trainer().workers());
        summary.put("algorithm", job.config().sync().algorithm());
        Map<String, Object> syncInfo = new LinkedHashMap<>();
        syncInfo.put("rounds_per_trainer", result.syncRounds());
        syncInfo.put("mean_round_ms", roundAll(result.meanRoundMillis(), 3));
        syncInfo.put("bytes_sent", result.syncBytes());
        syncInfo.put("bytes_per_round", result.bytesPerRound()); // encoded, as sent
        syncInfo.put("compression_ratio", roundAll(result.compressionRatio(), 3)); // float32 bytes / encoded bytes
        syncInfo.put("cpu_share", roundAll(result.syncCpuShare(), 4)); // the sync thread's share of its trainer's CPU
        if (!link.isIdeal()) syncInfo.put("network", network != null ? network : describe(link));
        summary.put("sync", syncInfo);
        long[] rb = result.rowBytes();
        if (rb != null) { // embedding rows' values to and from the parameter servers (ids and headers not counted)
            Map<String, Object> rows = new LinkedHashMap<>();
            rows.put("codec", job.config().rowCodec().name());
            rows.put("pulled", rb[0]);
            rows.put("pushed", rb[1]);
            rows.put("bytes_pulled", rb[2]);
            rows.put("bytes_pushed", rb[3]);
            rows.put("compression_ratio", round(RowBytes.ratio(rb), 3)); // float32 bytes / encoded bytes
            summary.put("rows", rows);
        }
        summary.put("worker_wait_fraction", round(result.workerWaitFraction(), 4));
        summary.put("batch", job.config().trainer().batchSize());
        summary.put("optimizer", job.optimizer().name());
        summary.put("lr", job.optimizer().lr());
        summary.put("train_loss", round(result.examples() == 0 ? Double.NaN : lossSum / result.examples(), 6));
        Map<String, Object> window = new LinkedHashMap<>();
        window.put("examples", first.window().examples());
        window.put("logloss", round(first.window().meanLoss(), 6));
        if (job.data().schema().numClasses() == 2) window.put("ne", round(first.window().ne(), 6));
        summary.put("train_window", window);
        summary.put("skipped_lines", skipped);
        summary.put("non_finite_batches", nonFinite);
        summary.put("reader_wait_fraction", round(readerWait, 4));
        summary.put("blas", Blas.backend());
        return summary;
    }

    private static String describe(LinkModel link) {
        return String.format(Locale.ROOT, "%.0f bytes/s / %.6f s", link.bytesPerSecond(), link.latencySeconds());
    }

    /**
     * Every trainer process calls this with its own result (one trainer) and its sync thread's totals; each gets the
     * whole job's, trainer by trainer in the control group's rank order. The numbers (longs, and doubles as their 64
     * bits) travel on the control group's typed channel ({@link Collective#allGatherLongs}): exact. With elastic
     * trainers a member that leaves during the gather is left out: the others ask again.
     */
    public static JobResult gather(Collective control, JobResult mine, long rounds, double roundMs, long bytes, double ratio)
            throws InterruptedException {
        TrainResult r = mine.trainers()[0];
        TrainWindow.Snapshot w = r.window();
        long[] bits = {r.examples(), d(r.seconds()), r.skippedLines(), r.nonFiniteBatches(), d(r.trainLoss()), d(r.readerWaitFraction()),
                d(r.syncWaitFraction()), rounds, d(roundMs), bytes, w.examples(), d(w.sumLoss()), d(w.sumLabels()), d(ratio),
                d(mine.syncCpuShare().length == 0 ? 0 : mine.syncCpuShare()[0]), 0, 0, 0, 0, 0, 0};
        if (mine.rowBytes() != null) System.arraycopy(mine.rowBytes(), 0, bits, 15, RowBytes.FIELDS);
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
        double[] meanRound = new double[n], ratios = new double[n], cpuShares = new double[n];
        long[] rowBytes = new long[RowBytes.FIELDS];
        long examples = 0;
        double seconds = 0, wait = 0;
        for (int t = 0; t < n; t++) {
            long[] v = Arrays.copyOfRange(all, t * FIELDS, (t + 1) * FIELDS);
            TrainWindow.Snapshot win = new TrainWindow.Snapshot(v[10], dbl(v[11]), dbl(v[12]));
            results[t] = new TrainResult(v[0], dbl(v[1]), new long[0], v[2], v[3], dbl(v[4]), dbl(v[5]), dbl(v[6]), win);
            syncRounds[t] = v[7];
            meanRound[t] = dbl(v[8]);
            syncBytes[t] = v[9];
            ratios[t] = dbl(v[13]);
            cpuShares[t] = dbl(v[14]);
            RowBytes.add(rowBytes, Arrays.copyOfRange(v, 15, 15 + RowBytes.FIELDS));
            examples += v[0];
            seconds = Math.max(seconds, dbl(v[1]));
            wait += dbl(v[5]) + dbl(v[6]); // taking batches, synchronization and servers, as in process
        }
        return new JobResult(examples, seconds, results, syncRounds, meanRound, syncBytes, wait / n, ratios, cpuShares, rowBytes);
    }

    /** One process's result over the phases of an elastic job: its own share, then its takes of departed ones. */
    static JobResult plus(JobResult a, JobResult b) {
        TrainResult x = a.trainers()[0], y = b.trainers()[0];
        long ex = x.examples() + y.examples();
        double seconds = x.seconds() + y.seconds();
        long[] per = x.workerExamples().clone();
        for (int w = 0; w < per.length && w < y.workerExamples().length; w++) per[w] += y.workerExamples()[w];
        double loss = ex == 0 ? Double.NaN : (weighted(x.trainLoss(), x.examples()) + weighted(y.trainLoss(), y.examples())) / ex;
        double readerWait = seconds == 0 ? 0 : (x.readerWaitFraction() * x.seconds() + y.readerWaitFraction() * y.seconds()) / seconds;
        double syncWait = seconds == 0 ? 0 : (x.syncWaitFraction() * x.seconds() + y.syncWaitFraction() * y.seconds()) / seconds;
        // skipped lines: the first phase's; a take re-reads part of a share that its trainer had read already
        TrainResult r = new TrainResult(ex, seconds, per, x.skippedLines(), x.nonFiniteBatches() + y.nonFiniteBatches(), loss,
                readerWait, syncWait, y.window().examples() > 0 ? y.window() : x.window());
        long[] rows = a.rowBytes() == null ? b.rowBytes() : b.rowBytes() == null ? a.rowBytes() : RowBytes.add(a.rowBytes().clone(), b.rowBytes());
        return new JobResult(ex, seconds, new TrainResult[] {r}, a.syncRounds(), a.meanRoundMillis(), a.syncBytes(), syncWait,
                a.compressionRatio(), a.syncCpuShare(), rows);
    }

    private static double weighted(double loss, long examples) {
        return examples == 0 ? 0 : loss * examples;
    }

    static double[] roundAll(double[] v, int digits) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(v[i], digits);
        return r;
    }

    /** v rounded to digits decimals (non-finite values as they are). */
    public static double round(double v, int digits) {
        if (!Double.isFinite(v)) return v;
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static long d(double v) {
        return Double.doubleToRawLongBits(v);
    }

    private static double dbl(long bits) {
        return Double.longBitsToDouble(bits);
    }
}
