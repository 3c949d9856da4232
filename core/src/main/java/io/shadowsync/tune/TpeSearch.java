package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for Hyper-Parameter
 * Optimization", NeurIPS 2011), univariate as there and in hyperopt: after {@code startup} trials drawn from the prior,
 * the finished trials are split by loss into the best {@code ceil(gamma · n)} ("good") and the rest ("bad"); for each
 * parameter a density l(x) is fitted to the good trials' values and g(x) to the bad ones', {@code candidates} values are
 * drawn from l, and the one with the largest l(x)/g(x) is proposed — the maximum of expected improvement under this
 * model. A range is modelled by a mixture of normals truncated to it, one at each observed value (on the log scale for
 * log ranges) plus a broad prior one, each as wide as the larger gap to its neighbours (hyperopt's adaptive Parzen
 * estimator); a list by its values' counts plus a uniform prior count of 1. Failed trials (NaN) count as the worst.
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
    }

    @Override
    public Map<String, Object> next(List<Observation> finished) {
        if (finished.size() < startup) return RandomSearch.draw(space, random);
        List<Observation> sorted = new ArrayList<>(finished);
        sorted.sort((a, b) -> Double.compare(lossOf(a), lossOf(b)));
        int good = (int) Math.min(sorted.size() - 1, Math.max(1, Math.ceil(gamma * sorted.size())));
        List<Observation> below = sorted.subList(0, good), above = sorted.subList(good, sorted.size());
        Map<String, Object> p = new LinkedHashMap<>();
        for (var e : space.dimensions().entrySet()) {
            String name = e.getKey();
            p.put(name, e.getValue() instanceof SearchSpace.Range r ? proposeRange(name, r, below, above) : proposeChoice(name,
                    (SearchSpace.Choice) e.getValue(), below, above));
        }
        return p;
    }

    private static double lossOf(Observation o) {
        return Double.isNaN(o.loss()) ? Double.POSITIVE_INFINITY : o.loss();
    }

    private Object proposeRange(String name, SearchSpace.Range r, List<Observation> below, List<Observation> above) {
        double lo = r.lowInternal(), hi = r.highInternal();
        if (!(hi > lo)) return r.box(r.fromInternal(lo));
        Parzen l = Parzen.fit(values(name, r, below), lo, hi);
        Parzen g = Parzen.fit(values(name, r, above), lo, hi);
        double best = Double.NaN, bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < candidates; i++) {
            double x = l.sample(random);
            double score = l.logDensity(x) - g.logDensity(x);
            if (score > bestScore) {
                bestScore = score;
                best = x;
            }
        }
        return r.box(r.fromInternal(best));
    }

    /** The observed values of a range parameter, in its internal scale (trials that lack it, or a non-number, left out). */
    private static double[] values(String name, SearchSpace.Range r, List<Observation> obs) {
        double[] v = new double[obs.size()];
        int n = 0;
        for (Observation o : obs) {
            if (!(o.params().get(name) instanceof Number x)) continue;
            double value = x.doubleValue();
            if (Double.isFinite(value) && (value > 0 || !r.log())) v[n++] = r.toInternal(value);
        }
        return Arrays.copyOf(v, n);
    }

    private Object proposeChoice(String name, SearchSpace.Choice c, List<Observation> below, List<Observation> above) {
        List<Object> values = c.values();
        double[] l = categorical(name, values, below), g = categorical(name, values, above);
        Object best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < candidates; i++) {
            int k = drawIndex(l, random);
            double score = Math.log(l[k]) - Math.log(g[k]);
            if (score > bestScore) {
                bestScore = score;
                best = values.get(k);
            }
        }
        return best;
    }

    /** Probabilities of the list's values among obs: counts plus a prior count of 1 spread evenly. */
    private static double[] categorical(String name, List<Object> values, List<Observation> obs) {
        double[] w = new double[values.size()];
        Arrays.fill(w, 1.0 / values.size());
        for (Observation o : obs) {
            int k = values.indexOf(o.params().get(name));
            if (k >= 0) w[k] += 1;
        }
        double sum = 0;
        for (double x : w) sum += x;
        for (int k = 0; k < w.length; k++) w[k] /= sum;
        return w;
    }

    private static int drawIndex(double[] p, SplittableRandom random) {
        double u = random.nextDouble(), c = 0;
        for (int k = 0; k < p.length; k++) {
            c += p[k];
            if (u < c) return k;
        }
        return p.length - 1;
    }

    /** A mixture of equally weighted normals truncated to [lo, hi] (hyperopt's adaptive Parzen estimator). */
    record Parzen(double[] mu, double[] sigma, double lo, double hi) {
        static Parzen fit(double[] observed, double lo, double hi) {
            double priorMu = 0.5 * (lo + hi), priorSigma = hi - lo;
            double[] mu = Arrays.copyOf(observed, observed.length + 1);
            mu[observed.length] = priorMu;
            Arrays.sort(mu);
            double[] sigma = new double[mu.length];
            double minSigma = priorSigma / Math.min(100.0, 1.0 + mu.length);
            boolean priorSeen = false;
            for (int i = 0; i < mu.length; i++) {
                if (!priorSeen && mu[i] == priorMu) { // the prior keeps its own width
                    priorSeen = true;
                    sigma[i] = priorSigma;
                    continue;
                }
                double left = i > 0 ? mu[i] - mu[i - 1] : mu[i] - lo;
                double right = i < mu.length - 1 ? mu[i + 1] - mu[i] : hi - mu[i];
                sigma[i] = Math.min(priorSigma, Math.max(minSigma, Math.max(left, right)));
            }
            return new Parzen(mu, sigma, lo, hi);
        }

        double sample(SplittableRandom random) {
            for (int attempt = 0; attempt < 1000; attempt++) {
                int k = random.nextInt(mu.length);
                double x = mu[k] + sigma[k] * gaussian(random);
                if (x >= lo && x <= hi) return x;
            }
            return Math.min(hi, Math.max(lo, mu[random.nextInt(mu.length)]));
        }

        double logDensity(double x) {
            double max = Double.NEGATIVE_INFINITY;
            double[] terms = new double[mu.length];
            for (int k = 0; k < mu.length; k++) {
                double z = (x - mu[k]) / sigma[k];
                double mass = normalCdf((hi - mu[k]) / sigma[k]) - normalCdf((lo - mu[k]) / sigma[k]);
                terms[k] = -0.5 * z * z - Math.log(sigma[k] * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-300));
                max = Math.max(max, terms[k]);
            }
            double sum = 0;
            for (double t : terms) sum += Math.exp(t - max);
            return max + Math.log(sum / mu.length);
        }
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
