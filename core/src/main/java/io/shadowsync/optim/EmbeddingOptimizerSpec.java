package io.shadowsync.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which sparse optimizer updates the embedding tables, and its settings; {@link #forTable} makes one per table.
 *
 * @param name               "sgd" or "rowwise-adagrad"
 * @param lr                 learning rate, positive
 * @param eps                row-wise Adagrad's denominator term, positive (unused by SGD)
 * @param initialAccumulator row-wise Adagrad's starting G per row, zero or positive; must be 0 for SGD
 */
public record EmbeddingOptimizerSpec(String name, double lr, double eps, double initialAccumulator) {
    public static final List<String> NAMES = List.of("sgd", "rowwise-adagrad");
    /** FBGEMM's default for row-wise Adagrad. */
    public static final double DEFAULT_EPS = 1e-8;

    public EmbeddingOptimizerSpec {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown embedding optimizer '" + name + "'; valid: " + String.join(", ", NAMES));
        }
        Args.positiveFinite("embedding " + name + " learning rate", lr);
        Args.positiveFinite("embedding optimizer eps", eps);
        Args.nonNegativeFinite("embedding optimizer initial accumulator", initialAccumulator);
        if (name.equals("sgd") && initialAccumulator != 0) {
            throw new IllegalArgumentException("an initial accumulator applies to rowwise-adagrad only, got "
                    + initialAccumulator + " for sgd");
        }
    }

    /** The named optimizer at lr, eps {@link #DEFAULT_EPS}, initial accumulator 0. */
    public EmbeddingOptimizerSpec(String name, double lr) {
        this(name, lr, DEFAULT_EPS, 0);
    }

    /**
     * The sparse counterpart of a dense choice: SGD stays SGD; Adagrad and Adam become row-wise Adagrad (as in
     * DLRM: per-element Adam state would triple a table's memory), all at the same learning rate.
     */
    public static EmbeddingOptimizerSpec defaultFor(OptimizerSpec dense) {
        return new EmbeddingOptimizerSpec(dense.name().equals("sgd") ? "sgd" : "rowwise-adagrad", dense.lr());
    }

    /** A new optimizer, with fresh state, for a table of rows × dim. */
    public RowOptimizer forTable(long rows, int dim) {
        if (rows <= 0 || dim <= 0) {
            throw new IllegalArgumentException("an embedding table needs positive rows and dim, got " + rows + " × " + dim);
        }
        return switch (name) {
            case "sgd" -> new RowSgd(lr);
            case "rowwise-adagrad" -> new RowwiseAdagrad(lr, eps, initialAccumulator, rows);
            default -> throw new IllegalStateException("unreachable: name validated as one of " + NAMES);
        };
    }

    /** The settings that apply, in order, for run summaries and model provenance. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("lr", lr);
        if (name.equals("rowwise-adagrad")) {
            m.put("eps", eps);
            m.put("initialAccumulator", initialAccumulator);
        }
        return m;
    }
}
