package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for Hyper-Parameter
 * Optimization", NeurIPS 2011), in its multivariate form (Falkner et al., BOHB, 2018; Optuna's {@code multivariate}):
 * after {@code startup} trials drawn from the prior, the finished trials are split by loss into the best
 * {@code ceil(gamma · n)} ("good") and the rest ("bad"); a density l(x) over the whole space is fitted to the good trials
 * and g(x) to the bad ones ({@link Parzen}), {@code candidates} points are drawn from l, and the one with the largest
 * l(x)/g(x) is proposed — the maximum of expected improvement under this model. Failed trials (NaN) count as the worst.
 *
 * <p>Multivariate, not per parameter as in the paper: per parameter, a list value that was tried with a bad learning rate
 * counts against that value everywhere, so that the search can settle on the wrong value for good (a test caught it
 * doing so on 2 seeds in 6); a joint density judges the value near the good learning rates only.
 *
 * <p>Pick it over {@link RandomSearch} when trials are expensive and the budget is a few dozen trials or more: once it
 * has seen about {@code startup} trials it spends most draws near the best ones. With several trials at once it
 * models only the finished ones, so that the first {@code parallel} proposals after startup look alike.
 */
public final class TpeSearch implements Search {
    public static final int DEFAULT_STARTUP = 8;
    public static final int DEFAULT_CANDIDATES = 24;
    public static final double DEFAULT_GAMMA = 0.25;

    private final SearchSpace space;
    private final SplittableRandom random;
    private final int startup;
    private final int candidates;
    private final double gamma;
    private final String[] names;
    private final SearchSpace.Dimension[] dims;

    /**
     * @param startup    trials drawn from the prior before the model is used (at least 2: the model needs a good and a bad one)
     * @param candidates values drawn from l(x) per parameter, of which the best ratio is proposed
     * @param gamma      the share of finished trials counted good, in (0, 1)
     */
    public TpeSearch(SearchSpace space, long seed, int startup, int candidates, double gamma) {
        if (startup < 2) throw new IllegalArgumentException("TPE needs at least 2 startup trials, got " + startup);
        if (candidates < 1) throw new IllegalArgumentException("TPE needs at least 1 candidate per proposal, got " + candidates);
        if (!(gamma > 0 && gamma < 1)) throw new IllegalArgumentException("TPE's gamma must be in (0, 1), got " + gamma);
        this.space = space;
        this.random = new SplittableRandom(seed);
        this.startup = startup;
        this.candidates = candidates;
        this.gamma = gamma;
        this.names = space.names().toArray(new String[0]);
        this.dims = space.dimensions().values().toArray(new SearchSpace.Dimension[0]);
    }

    @Override
    public Map<String, Object> next(List<Observation> finished) {
        if (finished.size() < startup) return RandomSearch.draw(space, random);
        List<Observation> sorted = new ArrayList<>(finished);
        sorted.sort((a, b) -> Double.compare(lossOf(a), lossOf(b)));
        int good = (int) Math.min(sorted.size() - 1, Math.max(1, Math.ceil(gamma * sorted.size())));
        Parzen l = new Parzen(dims, encode(sorted.subList(0, good)));
        Parzen g = new Parzen(dims, encode(sorted.subList(good, sorted.size())));
        double[] best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < candidates; i++) {
            double[] x = l.sample(random);
            double score = l.logDensity(x) - g.logDensity(x);
            if (score > bestScore) {
                bestScore = score;
                best = x;
            }
        }
        return decode(best);
    }

    private static double lossOf(Observation o) {
        return Double.isNaN(o.loss()) ? Double.POSITIVE_INFINITY : o.loss();
    }

    /**
     * The observations as points of the model's space: a range's value in its internal scale, a list's value as its
     * index; NaN where a trial lacks the parameter or has a value outside it (that coordinate then counts as the prior).
     */
    private double[][] encode(List<Observation> obs) {
        double[][] x = new double[obs.size()][dims.length];
        for (int i = 0; i < x.length; i++) {
            Map<String, Object> p = obs.get(i).params();
            for (int d = 0; d < dims.length; d++) {
                Object v = p.get(names[d]);
                if (dims[d] instanceof SearchSpace.Range r) {
                    double value = v instanceof Number n ? n.doubleValue() : Double.NaN;
                    x[i][d] = Double.isFinite(value) && (value > 0 || !r.log()) ? r.toInternal(value) : Double.NaN;
                } else {
                    int k = ((SearchSpace.Choice) dims[d]).values().indexOf(v);
                    x[i][d] = k >= 0 ? k : Double.NaN;
                }
            }
        }
        return x;
    }

    private Map<String, Object> decode(double[] x) {
        Map<String, Object> p = new LinkedHashMap<>();
        for (int d = 0; d < dims.length; d++) {
            p.put(names[d], dims[d] instanceof SearchSpace.Range r ? r.box(r.fromInternal(x[d]))
                    : ((SearchSpace.Choice) dims[d]).values().get((int) x[d]));
        }
        return p;
    }

    /**
     * A Parzen estimator over the whole space: an equally weighted mixture of one product kernel per observation and a
     * prior component. Per range, an observation's kernel is a normal at its value truncated to the range, as wide as the
     * larger gap to its neighbours among the observations and the prior's centre (clipped to [span / min(100, n + 1),
     * span]); the prior's is the normal at the centre as wide as the span. Per list, an observation's kernel puts
     * (1 + 1/C)/2 on its own value and 1/(2C) on each of the C − 1 others; the prior's is uniform.
     */
    static final class Parzen {
        private final SearchSpace.Dimension[] dims;
        private final double[][] mu;    // [component][dim]; the prior is the last component
        private final double[][] sigma; // [component][dim], ranges only

        Parzen(SearchSpace.Dimension[] dims, double[][] observed) {
            this.dims = dims;
            int n = observed.length, m = n + 1;
            mu = new double[m][dims.length];
            sigma = new double[m][dims.length];
            for (int d = 0; d < dims.length; d++) {
                if (dims[d] instanceof SearchSpace.Range r) {
                    double lo = r.lowInternal(), hi = r.highInternal(), span = Math.max(hi - lo, 1e-12), centre = 0.5 * (lo + hi);
                    double[] sortedValues = new double[m];
                    for (int i = 0; i < n; i++) {
                        mu[i][d] = Double.isNaN(observed[i][d]) ? centre : Math.min(hi, Math.max(lo, observed[i][d]));
                        sortedValues[i] = mu[i][d];
                    }
                    mu[n][d] = centre;
                    sortedValues[n] = centre;
                    Arrays.sort(sortedValues);
                    double minSigma = span / Math.min(100.0, m);
                    for (int i = 0; i < n; i++) {
                        int at = Arrays.binarySearch(sortedValues, mu[i][d]);
                        double left = at > 0 ? mu[i][d] - sortedValues[at - 1] : mu[i][d] - lo;
                        double right = at < m - 1 ? sortedValues[at + 1] - mu[i][d] : hi - mu[i][d];
                        sigma[i][d] = Math.min(span, Math.max(minSigma, Math.max(left, right)));
                        if (Double.isNaN(observed[i][d])) sigma[i][d] = span;
                    }
                    sigma[n][d] = span;
                } else {
                    for (int i = 0; i < n; i++) mu[i][d] = observed[i][d];
                    mu[n][d] = Double.NaN; // the prior: uniform
                }
            }
        }

        double[] sample(SplittableRandom random) {
            int k = random.nextInt(mu.length);
            double[] x = new double[dims.length];
            for (int d = 0; d < dims.length; d++) {
                if (dims[d] instanceof SearchSpace.Range r) {
                    x[d] = truncatedNormal(mu[k][d], sigma[k][d], r.lowInternal(), r.highInternal(), random);
                } else {
                    int c = ((SearchSpace.Choice) dims[d]).values().size();
                    boolean own = !Double.isNaN(mu[k][d]) && random.nextDouble() < 0.5;
                    x[d] = own ? mu[k][d] : random.nextInt(c);
                }
            }
            return x;
        }

        double logDensity(double[] x) {
            double[] terms = new double[mu.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < mu.length; k++) {
                double t = 0;
                for (int d = 0; d < dims.length; d++) {
                    if (dims[d] instanceof SearchSpace.Range r) {
                        double lo = r.lowInternal(), hi = r.highInternal();
                        if (!(hi > lo)) continue;
                        double s = sigma[k][d], z = (x[d] - mu[k][d]) / s;
                        double mass = normalCdf((hi - mu[k][d]) / s) - normalCdf((lo - mu[k][d]) / s);
                        t += -0.5 * z * z - Math.log(s * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-300));
                    } else {
                        int c = ((SearchSpace.Choice) dims[d]).values().size();
                        double p = Double.isNaN(mu[k][d]) ? 1.0 / c : x[d] == mu[k][d] ? 0.5 + 0.5 / c : 0.5 / c;
                        t += Math.log(p);
                    }
                }
                terms[k] = t;
                max = Math.max(max, t);
            }
            double sum = 0;
            for (double t : terms) sum += Math.exp(t - max);
            return max + Math.log(sum / mu.length);
        }
    }

    private static double truncatedNormal(double mu, double sigma, double lo, double hi, SplittableRandom random) {
        if (!(hi > lo)) return lo;
        for (int attempt = 0; attempt < 1000; attempt++) {
            double x = mu + sigma * gaussian(random);
            if (x >= lo && x <= hi) return x;
        }
        return Math.min(hi, Math.max(lo, mu));
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble(), u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Φ(x), from the complementary error function of Numerical Recipes (fractional error below 1.2e-7). */
    static double normalCdf(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2));
    }

    private static double erfc(double x) {
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2 - ans;
    }
}
