package io.shadowsync.fed;

/**
 * A Rényi-DP accountant for the sampled Gaussian mechanism (Mironov, Talwar and Zhang, "Rényi Differential Privacy
 * of the Sampled Gaussian Mechanism", 2019): each round samples every client with probability q and adds Gaussian
 * noise of standard deviation z·C to the sum of their updates clipped to L2 norm C. The RDP of one round at order α
 * is log(A_α)/(α − 1), with A_α computed exactly for integer α (their eq. for integer orders) and by the two
 * convergent series with erfc for fractional α (their section 3.3); RDP adds up over rounds, and ε at δ is the best
 * over the orders of the classic conversion (Mironov 2017, Proposition 3):
 * <pre>  ε = min over α of  T·RDP(α) + log(1/δ)/(α − 1)</pre>
 * or, with {@link Conversion#IMPROVED}, of Balle et al. 2020 (Theorem 21, as Opacus and TensorFlow Privacy's newer
 * accountants use): T·RDP(α) + log((α−1)/α) − (log δ + log α)/(α − 1).
 *
 * <p>The orders are TensorFlow Privacy's and Opacus's standard list: 1.1, 1.2, …, 10.9 and 12, 13, …, 63. This is
 * the same computation as TensorFlow Privacy's {@code rdp_accountant.compute_rdp} and {@code get_privacy_spent}, so
 * its ε agrees with theirs for the same q, z, rounds and δ. Immutable.
 */
public final class RdpAccountant {
    /** How RDP becomes (ε, δ)-DP. */
    public enum Conversion { CLASSIC, IMPROVED }

    /** The standard orders: 1 + x/10 for x = 1..99, then 12..63. */
    public static final double[] ORDERS = orders();

    private final double q;
    private final double z;
    private final Conversion conversion;
    /** RDP of one round at each order. */
    private final double[] perRound;

    /**
     * @param q the probability that a client takes part in a round, in (0, 1]
     * @param z the noise multiplier: noise standard deviation over the clipping norm, positive
     */
    public RdpAccountant(double q, double z, Conversion conversion) {
        if (!(q > 0 && q <= 1)) throw new IllegalArgumentException("the sampling probability must be in (0, 1], got " + q);
        if (!(z > 0 && Double.isFinite(z))) throw new IllegalArgumentException("--dp-noise must be a positive number, got " + z);
        if (conversion == null) throw new IllegalArgumentException("give a conversion");
        this.q = q;
        this.z = z;
        this.conversion = conversion;
        perRound = new double[ORDERS.length];
        for (int k = 0; k < ORDERS.length; k++) perRound[k] = rdp(q, z, ORDERS[k]);
    }

    /** ε after {@code rounds} rounds at δ. */
    public double epsilon(long rounds, double delta) {
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("--dp-delta must be in (0, 1), got " + delta);
        if (rounds < 0) throw new IllegalArgumentException("rounds must be at least 0, got " + rounds);
        if (rounds == 0) return 0;
        double best = Double.POSITIVE_INFINITY;
        for (int k = 0; k < ORDERS.length; k++) {
            double a = ORDERS[k], r = rounds * perRound[k], eps;
            if (conversion == Conversion.CLASSIC) {
                eps = r - Math.log(delta) / (a - 1);
            } else {
                if (delta * delta + Math.expm1(-r) >= 0) return 0;
                eps = a > 1.01 ? r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1) : Double.POSITIVE_INFINITY;
            }
            best = Math.min(best, eps);
        }
        return Math.max(0, best);
    }

    public double samplingProbability() {
        return q;
    }

    public double noiseMultiplier() {
        return z;
    }

    /** RDP at order α of one application of the sampled Gaussian mechanism. */
    static double rdp(double q, double z, double alpha) {
        if (q == 1) return alpha / (2 * z * z);
        double logA = alpha == Math.rint(alpha) ? logAInt(q, z, (int) alpha) : logAFrac(q, z, alpha);
        return logA / (alpha - 1);
    }

    /** log A_α for integer α: log Σ_i C(α,i)·q^i·(1−q)^(α−i)·exp((i² − i)/(2z²)). */
    static double logAInt(double q, double z, int alpha) {
        double logA = Double.NEGATIVE_INFINITY, logBinom = 0, lq = Math.log(q), l1q = Math.log1p(-q);
        for (int i = 0; i <= alpha; i++) {
            if (i > 0) logBinom += Math.log(alpha - i + 1) - Math.log(i);
            double s = logBinom + i * lq + (alpha - i) * l1q + (i * (double) i - i) / (2 * z * z);
            logA = logAdd(logA, s);
        }
        return logA;
    }

    /** log A_α for fractional α: the two series of Mironov et al. 2019, section 3.3, summed until their terms fall under e^−30. */
    static double logAFrac(double q, double z, double alpha) {
        double a0 = Double.NEGATIVE_INFINITY, a1 = Double.NEGATIVE_INFINITY;
        double z0 = z * z * Math.log(1 / q - 1) + 0.5, lq = Math.log(q), l1q = Math.log1p(-q);
        double logCoef = 0; // log |C(α, i)|
        boolean positive = true;
        for (int i = 0; ; i++) {
            if (i > 0) {
                double f = (alpha - i + 1) / i;
                logCoef += Math.log(Math.abs(f));
                if (f < 0) positive = !positive;
            }
            double j = alpha - i;
            double t0 = logCoef + i * lq + j * l1q, t1 = logCoef + j * lq + i * l1q;
            double e0 = Math.log(0.5) + logErfc((i - z0) / (Math.sqrt(2) * z));
            double e1 = Math.log(0.5) + logErfc((z0 - j) / (Math.sqrt(2) * z));
            double s0 = t0 + (i * (double) i - i) / (2 * z * z) + e0;
            double s1 = t1 + (j * j - j) / (2 * z * z) + e1;
            if (positive) {
                a0 = logAdd(a0, s0);
                a1 = logAdd(a1, s1);
            } else {
                a0 = logSub(a0, s0);
                a1 = logSub(a1, s1);
            }
            if (Math.max(s0, s1) < -30) break;
        }
        return logAdd(a0, a1);
    }

    static double logAdd(double x, double y) {
        double a = Math.min(x, y), b = Math.max(x, y);
        if (a == Double.NEGATIVE_INFINITY) return b;
        return Math.log1p(Math.exp(a - b)) + b;
    }

    static double logSub(double x, double y) {
        if (x < y) throw new ArithmeticException("log of a negative number in the RDP series");
        if (y == Double.NEGATIVE_INFINITY) return x;
        if (x == y) return Double.NEGATIVE_INFINITY;
        double e = Math.expm1(x - y);
        return Double.isInfinite(e) ? x : Math.log(e) + y;
    }

    /**
     * log erfc(x) from the Chebyshev-fitted form erfc(x) = t·exp(−x² + P(t)), t = 1/(1 + x/2), x ≥ 0 (Press et al.,
     * Numerical Recipes, erfcc; fractional error under 1.2·10⁻⁷ everywhere), kept in log form so that it does not
     * underflow for large x; erfc(−x) = 2 − erfc(x).
     */
    static double logErfc(double x) {
        double zz = Math.abs(x), t = 1 / (1 + 0.5 * zz);
        double p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double logPos = Math.log(t) - zz * zz + p;
        return x >= 0 ? logPos : Math.log(2 - Math.exp(logPos));
    }

    private static double[] orders() {
        double[] o = new double[99 + 52];
        for (int x = 1; x <= 99; x++) o[x - 1] = 1 + x / 10.0;
        for (int a = 12; a <= 63; a++) o[99 + a - 12] = a;
        return o;
    }
}
