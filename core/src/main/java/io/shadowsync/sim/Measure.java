package io.shadowsync.sim;

import java.util.Arrays;

/**
 * A measured cost: the median of repeated measurements and their spread, half the distance between the 25th and 75th
 * percentiles (an interquartile half-range, in the same unit; robust on a shared machine where a few runs are slow).
 */
public record Measure(double median, double spread) {
    public Measure {
        if (!(median >= 0) || Double.isInfinite(median)) throw new IllegalArgumentException("a measured cost is finite and ≥ 0, got " + median);
        if (!(spread >= 0) || Double.isInfinite(spread)) throw new IllegalArgumentException("a measured spread is finite and ≥ 0, got " + spread);
    }

    /** The median and spread of the samples (at least one). */
    public static Measure of(double... samples) {
        if (samples.length == 0) throw new IllegalArgumentException("a measure needs at least one sample");
        double[] s = samples.clone();
        Arrays.sort(s);
        return new Measure(quantile(s, 0.5), (quantile(s, 0.75) - quantile(s, 0.25)) / 2);
    }

    /** Linear interpolation between order statistics of sorted s. */
    static double quantile(double[] s, double p) {
        double x = p * (s.length - 1);
        int i = (int) Math.floor(x);
        int j = Math.min(i + 1, s.length - 1);
        return s[i] + (x - i) * (s[j] - s[i]);
    }

    /** The spread relative to the median (0 for a zero median). */
    public double relativeSpread() {
        return median > 0 ? spread / median : 0;
    }
}
