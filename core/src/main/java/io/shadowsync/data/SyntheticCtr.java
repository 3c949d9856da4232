package io.shadowsync.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A seeded generator of Criteo-TSV click data whose labels come from a hidden teacher model ({@link CtrTeacher}),
 * so a trained model's quality can be compared with the best possible: the teacher's own (Bayes) logloss.
 * Modelled on the PyTorch peer's {@code make_ctr} (same structure, not the same numbers).
 *
 * <p>Rows stream to disk: memory is O(vocab) (about 600 bytes per id), not O(rows). The same config writes
 * byte-identical files on every run and JVM (SplitMix64 and {@link StrictMath} only).
 *
 * <pre>{@code
 * SyntheticCtr.Summary s = new SyntheticCtr(new SyntheticCtr.Config(200_000, 50_000, 1234)).generate(dir);
 * // dir/train.tsv, dir/eval.tsv; s.evalTeacherLogloss() is the floor for any model's eval logloss
 * }</pre>
 */
public final class SyntheticCtr {
    public static final int DEFAULT_VOCAB = 100_000;
    /** Largest vocabulary: the teacher then takes about 600 MB. */
    public static final int MAX_VOCAB = 1 << 20;
    /** Probabilities are clipped to [EPS, 1 − EPS] in loglosses, as the peer does. */
    static final double EPS = 1e-7;
    private static final int AUC_BINS = 1 << 16;

    /**
     * @param trainRows rows of train.tsv (at least 1)
     * @param evalRows  rows of eval.tsv (at least 1), drawn after the train rows from the same distribution
     * @param seed      fixes the teacher and every row
     * @param vocab     ids per categorical field, 2..{@link #MAX_VOCAB}
     */
    public record Config(long trainRows, long evalRows, long seed, int vocab) {
        public Config {
            if (trainRows < 1) throw new IllegalArgumentException("trainRows must be at least 1, got " + trainRows);
            if (evalRows < 1) throw new IllegalArgumentException("evalRows must be at least 1, got " + evalRows);
            if (vocab < 2 || vocab > MAX_VOCAB) {
                throw new IllegalArgumentException("vocab must be in 2.." + MAX_VOCAB + " (the teacher holds ~600 bytes per id), got "
                        + vocab);
            }
        }

        /** With the default vocabulary of 100,000 ids per field. */
        public Config(long trainRows, long evalRows, long seed) {
            this(trainRows, evalRows, seed, DEFAULT_VOCAB);
        }
    }

    /**
     * What was generated and the reference qualities: CTR rates, the teacher's logloss (the best achievable in
     * expectation), the logloss of the constant predictor that always says the train CTR, and the teacher's eval
     * AUC (from a 65,536-bin histogram of its probability; ties within a bin count one half).
     */
    public record Summary(long trainRows, long evalRows, double trainCtr, double evalCtr,
                          double trainTeacherLogloss, double evalTeacherLogloss,
                          double trainConstantLogloss, double evalConstantLogloss,
                          double evalTeacherAuc, double seconds) {
        public double rowsPerSecond() {
            return (trainRows + evalRows) / seconds;
        }
    }

    private final Config config;

    public SyntheticCtr(Config config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    public Config config() {
        return config;
    }

    /**
     * Writes {@code outDir/train.tsv} and {@code outDir/eval.tsv}, creating outDir if needed: both into temp files
     * first, then both renamed over the targets, so that an interruption leaves the old pair (its temp files deleted
     * on a signal), never a new train.tsv beside an old eval.tsv.
     */
    public Summary generate(Path outDir) throws IOException {
        long t0 = System.nanoTime();
        Files.createDirectories(outDir);
        SplitMix64 seeder = new SplitMix64(config.seed());
        CtrTeacher teacher = new CtrTeacher(config.vocab(), new SplitMix64(seeder.nextLong()));
        SplitMix64 rows = new SplitMix64(seeder.nextLong());
        SplitStats train = new SplitStats(false), eval = new SplitStats(true);
        try (CriteoTsvWriter trainOut = new CriteoTsvWriter(outDir.resolve("train.tsv"));
             CriteoTsvWriter evalOut = new CriteoTsvWriter(outDir.resolve("eval.tsv"))) {
            writeSplit(trainOut, config.trainRows(), teacher, rows, train);
            writeSplit(evalOut, config.evalRows(), teacher, rows, eval);
            trainOut.commit();
            evalOut.commit();
        }
        double trainCtr = train.ctr(), evalCtr = eval.ctr();
        double seconds = (System.nanoTime() - t0) * 1e-9;
        return new Summary(config.trainRows(), config.evalRows(), trainCtr, evalCtr,
                train.teacherLogloss(), eval.teacherLogloss(),
                constantLogloss(trainCtr, trainCtr), constantLogloss(evalCtr, trainCtr),
                eval.auc(), seconds);
    }

    private static void writeSplit(CriteoTsvWriter out, long n, CtrTeacher teacher, SplitMix64 rng, SplitStats stats)
            throws IOException {
        int[] counts = new int[CtrTeacher.NUM_DENSE];
        int[] ranks = new int[CtrTeacher.NUM_CAT];
        int[] ids = new int[CtrTeacher.NUM_CAT];
        for (long i = 0; i < n; i++) {
            teacher.sampleRow(rng, counts, ranks, ids);
            double p = CtrTeacher.sigmoid(teacher.logit(counts, ranks));
            boolean label = rng.nextDouble() < p;
            out.write(label, counts, ids);
            stats.add(p, label);
        }
        out.finish();
    }

    /** Logloss of always predicting q on labels with positive rate ctr. */
    static double constantLogloss(double ctr, double q) {
        double c = Math.min(Math.max(q, EPS), 1 - EPS);
        return -(ctr * Math.log(c) + (1 - ctr) * Math.log(1 - c));
    }

    /** Running label and teacher statistics of one split. */
    private static final class SplitStats {
        private long rows, positives;
        private double loglossSum;
        private final long[] posBins, negBins;

        SplitStats(boolean withAuc) {
            posBins = withAuc ? new long[AUC_BINS] : null;
            negBins = withAuc ? new long[AUC_BINS] : null;
        }

        void add(double p, boolean label) {
            double c = Math.min(Math.max(p, EPS), 1 - EPS);
            loglossSum -= label ? Math.log(c) : Math.log(1 - c);
            rows++;
            if (label) positives++;
            if (posBins != null) {
                int bin = Math.min((int) (p * AUC_BINS), AUC_BINS - 1);
                if (label) posBins[bin]++;
                else negBins[bin]++;
            }
        }

        double ctr() {
            return (double) positives / rows;
        }

        double teacherLogloss() {
            return loglossSum / rows;
        }

        /** P(score of a random positive &gt; that of a random negative), ties one half; NaN with one class only. */
        double auc() {
            long negatives = rows - positives;
            if (positives == 0 || negatives == 0) return Double.NaN;
            double wins = 0;
            long negBelow = 0;
            for (int b = 0; b < AUC_BINS; b++) {
                wins += posBins[b] * (negBelow + 0.5 * negBins[b]);
                negBelow += negBins[b];
            }
            return wins / ((double) positives * negatives);
        }
    }
}
