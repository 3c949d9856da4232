package io.shadowsync.fed;

import java.util.Locale;

/**
 * How the server applies a round's combined update Δ to the global model w, treating −Δ as a pseudo-gradient
 * (Reddi et al., "Adaptive Federated Optimization", 2021):
 * <ul>
 *   <li>{@code sgd}: w ← w + η·Δ (η = 1 is plain FedAvg);</li>
 *   <li>{@code adam} (FedAdam): m ← β1·m + (1−β1)·Δ, v ← β2·v + (1−β2)·Δ², w ← w + η·m / (√v + τ), without bias
 *       correction, as in the paper (β1 = 0.9, β2 = 0.99, τ = 10⁻³).</li>
 * </ul>
 * State (m, v) lives on the server for the whole run, one optimizer per parameter array (the dense parameters, each
 * embedding table). Owned by the server's thread.
 */
public final class ServerOptimizer {
    /** The server's update rules. */
    public enum Kind { SGD, ADAM }

    static final double BETA1 = 0.9, BETA2 = 0.99, TAU = 1e-3;

    private final Kind kind;
    private final double lr;
    private double[] m;
    private double[] v;

    public ServerOptimizer(Kind kind, double lr) {
        if (kind == null) throw new IllegalArgumentException("a server optimizer needs a kind");
        if (!(lr > 0 && Double.isFinite(lr))) throw new IllegalArgumentException("--server-lr must be a positive number, got " + lr);
        this.kind = kind;
        this.lr = lr;
    }

    /** The kind named {@code sgd} or {@code adam}. */
    public static Kind kind(String name) {
        String t = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "sgd" -> Kind.SGD;
            case "adam" -> Kind.ADAM;
            default -> throw new IllegalArgumentException("--server-opt " + name + ": give sgd or adam");
        };
    }

    /** The server learning rate a kind starts from when none is given: 1 for sgd (plain FedAvg), 0.01 for adam. */
    public static double defaultLr(Kind kind) {
        return kind == Kind.SGD ? 1.0 : 0.01;
    }

    public Kind kindOf() {
        return kind;
    }

    public double lr() {
        return lr;
    }

    /** w ← w + the rule's step for Δ. */
    public void apply(float[] w, float[] delta) {
        int n = w.length;
        if (delta.length != n) throw new IllegalArgumentException("an update of " + delta.length + " values for a model of " + n);
        step(w, 0, delta, 0, n);
    }

    /**
     * The rule's step for the changed rows of a table of row width dim: rows not in the change are not touched, and
     * FedAdam's moments are those of the table's own values, updated only on the rows that change (lazily, as sparse
     * Adam does for embeddings), so that a row's moments follow the rounds its clients took part in.
     */
    public void applyRows(float[] table, int dim, RowDelta change) {
        int[] ids = change.ids();
        if (change.values().length != ids.length * dim) throw new IllegalArgumentException(change.values().length + " values for " + ids.length + " rows of " + dim);
        if (ids.length > 0 && (ids[0] < 0 || (long) (ids[ids.length - 1] + 1) * dim > table.length)) {
            throw new IllegalArgumentException("a change of rows " + ids[0] + " to " + ids[ids.length - 1] + " for a table of " + table.length / dim + " rows");
        }
        for (int j = 0; j < ids.length; j++) step(table, ids[j] * dim, change.values(), j * dim, dim);
    }

    private void step(float[] w, int off, float[] delta, int doff, int n) {
        if (kind == Kind.SGD) {
            for (int i = 0; i < n; i++) w[off + i] += (float) (lr * delta[doff + i]);
            return;
        }
        if (m == null) {
            m = new double[w.length];
            v = new double[w.length];
        }
        for (int i = 0; i < n; i++) {
            double d = delta[doff + i];
            int at = off + i;
            m[at] = BETA1 * m[at] + (1 - BETA1) * d;
            v[at] = BETA2 * v[at] + (1 - BETA2) * d * d;
            w[at] += (float) (lr * m[at] / (Math.sqrt(v[at]) + TAU));
        }
    }
}
