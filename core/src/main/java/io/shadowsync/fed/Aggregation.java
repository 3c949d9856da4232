package io.shadowsync.fed;

import java.util.Arrays;
import java.util.Locale;

/**
 * How the server combines the clients' updates of a round into one change of the global model.
 * <ul>
 *   <li>{@code fedavg}: the mean weighted by examples, Σ n_i·Δ_i / Σ n_i (McMahan et al. 2017);</li>
 *   <li>{@code fedprox:MU}: the same mean, the clients training with the proximal term μ (Li et al. 2020);</li>
 *   <li>{@code median}: the coordinate-wise median (Yin et al. 2018), unweighted;</li>
 *   <li>{@code trimmed:BETA}: the coordinate-wise β-trimmed mean (Yin et al. 2018): per coordinate, the ⌊β·m⌋ largest
 *       and smallest of the m values are dropped and the rest averaged, unweighted. β in [0, 0.5).</li>
 * </ul>
 * The robust forms bound what a minority of poisoned clients can do to each coordinate; they need every client's
 * update, so they do not combine with secure aggregation, which hides all but the sum.
 *
 * @param rule the combining rule
 * @param mu   FedProx's proximal coefficient (0 for the others)
 * @param beta the trimmed mean's fraction trimmed from each end (0 for the others)
 */
public record Aggregation(Rule rule, double mu, double beta) {
    /** The combining rules. */
    public enum Rule { MEAN, MEDIAN, TRIMMED }

    public static final Aggregation FEDAVG = new Aggregation(Rule.MEAN, 0, 0);

    public Aggregation {
        if (rule == null) throw new IllegalArgumentException("an aggregation needs a rule");
        if (!(mu >= 0 && Double.isFinite(mu))) throw new IllegalArgumentException("FedProx's MU must be zero or positive, got " + mu);
        if (!(beta >= 0 && beta < 0.5)) throw new IllegalArgumentException("the trimmed mean's BETA must be in [0, 0.5), got " + beta);
        if (mu > 0 && rule != Rule.MEAN) throw new IllegalArgumentException("the proximal term goes with the mean only");
    }

    /** Parses {@code fedavg}, {@code fedprox:MU}, {@code median} or {@code trimmed:BETA}. */
    public static Aggregation parse(String s) {
        String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("fedavg")) return FEDAVG;
        if (t.equals("median")) return new Aggregation(Rule.MEDIAN, 0, 0);
        if (t.startsWith("fedprox:") || t.startsWith("trimmed:")) {
            double v;
            try {
                v = Double.parseDouble(t.substring(8));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--aggregate " + s + ": the value after ':' must be a number, e.g. fedprox:0.01 or trimmed:0.2");
            }
            if (t.startsWith("fedprox:")) {
                if (!(v > 0 && Double.isFinite(v))) throw new IllegalArgumentException("--aggregate " + s + ": MU must be positive");
                return new Aggregation(Rule.MEAN, v, 0);
            }
            if (!(v >= 0 && v < 0.5)) throw new IllegalArgumentException("--aggregate " + s + ": BETA must be in [0, 0.5)");
            return new Aggregation(Rule.TRIMMED, 0, v);
        }
        throw new IllegalArgumentException("--aggregate " + s + ": give fedavg, fedprox:MU, median or trimmed:BETA");
    }

    /** The form as {@link #parse} reads it. */
    public String label() {
        return switch (rule) {
            case MEAN -> mu > 0 ? "fedprox:" + mu : "fedavg";
            case MEDIAN -> "median";
            case TRIMMED -> "trimmed:" + beta;
        };
    }

    /** Whether the rule reads each client's update (not only their sum): refused with secure aggregation. */
    public boolean needsEachUpdate() {
        return rule != Rule.MEAN;
    }

    /**
     * Combines the updates into out; weights (examples per client) count for the mean only.
     *
     * @param updates m updates of out.length values each, m ≥ 1
     */
    public void combine(float[][] updates, long[] weights, float[] out) {
        int m = updates.length, n = out.length;
        if (m == 0) throw new IllegalArgumentException("no update to combine");
        switch (rule) {
            case MEAN -> {
                double total = 0;
                for (long w : weights) total += w;
                if (!(total > 0)) throw new IllegalArgumentException("the clients trained on no example");
                double[] acc = new double[n];
                for (int k = 0; k < m; k++) {
                    double w = weights[k] / total;
                    float[] u = updates[k];
                    for (int i = 0; i < n; i++) acc[i] += w * u[i];
                }
                for (int i = 0; i < n; i++) out[i] = (float) acc[i];
            }
            case MEDIAN, TRIMMED -> {
                int cut = rule == Rule.MEDIAN ? 0 : (int) Math.floor(beta * m);
                float[] col = new float[m];
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < m; k++) col[k] = updates[k][i];
                    Arrays.sort(col);
                    if (rule == Rule.MEDIAN) {
                        out[i] = (m & 1) == 1 ? col[m / 2] : (float) (0.5 * ((double) col[m / 2 - 1] + col[m / 2]));
                    } else {
                        double s = 0;
                        for (int k = cut; k < m - cut; k++) s += col[k];
                        out[i] = (float) (s / (m - 2 * cut));
                    }
                }
            }
        }
    }
}
