package io.shadowsync.fed;

import java.util.SplittableRandom;

/**
 * Draws from the symmetric Dirichlet distribution Dir(α·1_K) as normalized Gamma(α, 1) variates, each drawn by
 * Marsaglia and Tsang's method (2000) in log space: for α &lt; 1, Gamma(α) = Gamma(α+1)·U^(1/α), whose U^(1/α)
 * underflows to 0 for the small α of non-IID benchmarks (0.1 and below) unless kept as a logarithm.
 */
final class Dirichlet {
    private Dirichlet() {}

    /** K proportions ≥ 0 that add up to 1. */
    static double[] sample(SplittableRandom rng, double alpha, int k) {
        double[] logs = new double[k];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < k; i++) {
            logs[i] = logGamma(rng, alpha);
            max = Math.max(max, logs[i]);
        }
        double sum = 0;
        double[] p = new double[k];
        for (int i = 0; i < k; i++) sum += p[i] = Math.exp(logs[i] - max);
        for (int i = 0; i < k; i++) p[i] /= sum;
        return p;
    }

    /** log of a Gamma(shape, 1) variate. */
    static double logGamma(SplittableRandom rng, double shape) {
        if (shape < 1) {
            double u = 1 - rng.nextDouble(); // (0, 1]
            return logGamma(rng, shape + 1) + Math.log(u) / shape;
        }
        double d = shape - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = rng.nextGaussian(), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1 - rng.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return Math.log(d * v);
        }
    }
}
