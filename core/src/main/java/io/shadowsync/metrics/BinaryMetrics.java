package io.shadowsync.metrics;

import java.util.Arrays;

/**
 * Quality of a binary classifier from (probability, label) pairs: log loss, normalized entropy, exact AUC,
 * accuracy at 0.5, base rate and calibration.
 *
 * <p>Normalized entropy (He et al., 2014, "Practical lessons from predicting clicks on ads at Facebook") is
 * the mean log loss divided by the entropy of the base rate p (the mean label of the examples seen):
 * {@code NE = logloss / −(p·log p + (1−p)·log(1−p))}. A model that always predicts p scores 1; lower is
 * better, and unlike log loss it can be compared across data sets with different click rates.
 *
 * <p>AUC is exact, not binned: every score is kept (a packed {@code long} per example: 8 bytes), sorted once,
 * and tied scores count one half, which equals the Mann–Whitney statistic with average ranks for ties.
 *
 * <p>Not thread-safe: one accumulator per worker, combined with {@link #merge}.
 */
public final class BinaryMetrics implements MetricAccumulator {
    /** Probabilities are clipped to [CLIP, 1 − CLIP] in the log loss, so one confident mistake is finite. */
    public static final double CLIP = 1e-7;
    private static final int MAX_EXAMPLES = Integer.MAX_VALUE - 16;

    private long count;
    private long positives;
    private long correct;
    private double sumLogLoss;
    private double sumProb;
    private boolean sawNaN;
    /** Per example, (raw bits of the probability) &lt;&lt; 1 | label: sorting these sorts by score. */
    private long[] keys = new long[256];
    private int size;
    private boolean sorted = true;

    /** Adds one example; label must be 0 or 1, prob a probability (NaN is taken, and makes the metrics NaN). */
    public void add(float prob, float label) {
        if (label != 0f && label != 1f) {
            throw new IllegalArgumentException("a binary label is 0 or 1, got " + label);
        }
        if (prob < 0f || prob > 1f) {
            throw new IllegalArgumentException("a predicted probability lies in [0, 1], got " + prob);
        }
        boolean pos = label == 1f;
        double p = Math.min(Math.max(prob, CLIP), 1 - CLIP);
        sumLogLoss -= pos ? Math.log(p) : Math.log(1 - p);
        sumProb += prob;
        count++;
        if (pos) positives++;
        if ((prob >= 0.5f) == pos) correct++;
        if (prob != prob) {
            sawNaN = true;
            return;
        }
        if (size == keys.length) grow(size + 1);
        // prob + 0f turns −0 into +0; bits of non-negative floats order like the floats
        keys[size++] = ((long) Float.floatToRawIntBits(prob + 0f) << 1) | (pos ? 1L : 0L);
        sorted = false;
    }

    /** Adds probs[0..n) with labels[0..n). */
    @Override
    public void add(float[] probs, float[] labels, int n) {
        for (int i = 0; i < n; i++) add(probs[i], labels[i]);
    }

    @Override
    public void merge(MetricAccumulator other) {
        if (!(other instanceof BinaryMetrics o)) {
            throw new IllegalArgumentException("cannot merge " + other.getClass().getSimpleName() + " into BinaryMetrics");
        }
        if (o == this) throw new IllegalArgumentException("cannot merge an accumulator into itself");
        count += o.count;
        positives += o.positives;
        correct += o.correct;
        sumLogLoss += o.sumLogLoss;
        sumProb += o.sumProb;
        sawNaN |= o.sawNaN;
        if (o.size > 0) {
            if ((long) size + o.size > keys.length) grow((long) size + o.size);
            System.arraycopy(o.keys, 0, keys, size, o.size);
            size += o.size;
            sorted = false;
        }
    }

    @Override
    public long count() {
        return count;
    }

    /** Mean label; NaN before any example. */
    public double baseRate() {
        return (double) positives / count;
    }

    /** Mean log loss with probabilities clipped to [1e-7, 1 − 1e-7]; NaN before any example. */
    public double logloss() {
        return sumLogLoss / count;
    }

    /** Log loss over the entropy of the base rate; NaN when all labels are equal (that entropy is 0). */
    public double ne() {
        double h = entropy(baseRate());
        return h > 0 ? logloss() / h : Double.NaN;
    }

    /** Fraction of examples with (prob ≥ 0.5) equal to the label. */
    public double accuracy() {
        return (double) correct / count;
    }

    /** Mean predicted probability over the base rate: 1 when calibrated, above 1 when over-predicting. */
    public double calibration() {
        return sumProb / positives;
    }

    /**
     * Probability that a random positive scores above a random negative, ties counting one half. NaN when
     * there are no positives or no negatives, or some probability was NaN.
     */
    public double auc() {
        long negatives = count - positives;
        if (sawNaN || positives == 0 || negatives == 0) return Double.NaN;
        if (!sorted) {
            Arrays.sort(keys, 0, size);
            sorted = true;
        }
        // ascending scores: each positive beats the negatives below it and half of those tied with it
        double wins = 0;
        long negBelow = 0;
        int i = 0;
        while (i < size) {
            long score = keys[i] >>> 1;
            long pos = 0, neg = 0;
            while (i < size && keys[i] >>> 1 == score) {
                if ((keys[i] & 1L) != 0) pos++;
                else neg++;
                i++;
            }
            wins += pos * (negBelow + 0.5 * neg);
            negBelow += neg;
        }
        return wins / ((double) positives * negatives);
    }

    @Override
    public Metrics result() {
        return Metrics.binary(count, logloss(), ne(), auc(), accuracy(), baseRate(), calibration());
    }

    /** Entropy in nats of a Bernoulli(p): {@code −(p·log p + (1−p)·log(1−p))}; 0 at p = 0 or 1. */
    public static double entropy(double p) {
        if (p <= 0 || p >= 1) return p == 0 || p == 1 ? 0 : Double.NaN;
        return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    }

    private void grow(long need) {
        if (need > MAX_EXAMPLES) {
            throw new IllegalStateException("exact AUC keeps every score, and " + need + " examples exceed the "
                    + MAX_EXAMPLES + " one array holds; evaluate on a sample");
        }
        keys = Arrays.copyOf(keys, (int) Math.min(MAX_EXAMPLES, Math.max(need, 2L * keys.length)));
    }
}
