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
 * Embedding tables ({@link #combineRows}): each client sends the rows it touched, and each row is combined over
 * <i>the clients that touched it</i> by the same rule (the mean weighted by those clients' examples; median and
 * trimmed mean over their values). McMahan et al.'s FedAvg averages whole models over all the round's clients, and a
 * client that never saw a row returns it unchanged: averaged literally, its zero change would pull every row toward
 * no change by the share of examples of the clients that did not see it, so that a feature present on one client of
 * ten would learn a tenth as fast as in central training. Counting only the clients that touched a row keeps a row's
 * step what its own examples ask for; for the dense parameters, which every client touches, both are the same.
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
     * Combines the clients' changed rows of one table: per row, {@link #combine} over the clients that touched it,
     * weighted (for the mean) by their examples. The result holds the union of their rows, ascending.
     *
     * @param changed [i] = client i's changed rows
     * @param weights [i] = client i's examples
     * @param dim     the table's row width
     */
    public RowDelta combineRows(RowDelta[] changed, long[] weights, int dim) {
        int m = changed.length, total = 0;
        for (RowDelta r : changed) total += r.size();
        int[] all = new int[total];
        for (int i = 0, at = 0; i < m; i++) {
            System.arraycopy(changed[i].ids(), 0, all, at, changed[i].size());
            at += changed[i].size();
        }
        int[] union = Arrays.stream(all).sorted().distinct().toArray();
        // clients touching each row of the union, CSR: who[start[u] .. start[u+1]) with their row's index in their upload
        int[] start = new int[union.length + 1];
        for (RowDelta r : changed) for (int id : r.ids()) start[Arrays.binarySearch(union, id) + 1]++;
        for (int u = 0; u < union.length; u++) start[u + 1] += start[u];
        int[] who = new int[total], where = new int[total], fill = Arrays.copyOf(start, union.length);
        for (int i = 0; i < m; i++) {
            int[] ids = changed[i].ids();
            for (int j = 0; j < ids.length; j++) {
                int u = Arrays.binarySearch(union, ids[j]);
                who[fill[u]] = i;
                where[fill[u]++] = j;
            }
        }
        float[] values = new float[union.length * dim];
        float[] row = new float[dim];
        for (int u = 0; u < union.length; u++) {
            int c = start[u + 1] - start[u];
            float[][] rows = new float[c][];
            long[] w = new long[c];
            for (int k = 0; k < c; k++) {
                int i = who[start[u] + k], j = where[start[u] + k];
                rows[k] = Arrays.copyOfRange(changed[i].values(), j * dim, (j + 1) * dim);
                w[k] = weights[i];
            }
            combine(rows, w, row);
            System.arraycopy(row, 0, values, u * dim, dim);
        }
        return new RowDelta(union, values);
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
