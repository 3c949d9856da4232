package io.shadowsync.model;

import io.shadowsync.nn.ModelSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Logistic regression on hashed features ({@link LogisticRegression}).
 *
 * @param hashBits one weight per hash bucket, 2^hashBits buckets (1..31: row ids are ints)
 * @param numDense dense features per example, each bucketed then hashed
 * @param numCat   categorical fields per example, each id hashed with its field
 * @param sparse   whether examples carry sparse (LibSVM index:value) features, hashed by index, weighted by value
 */
public record LrSpec(int hashBits, int numDense, int numCat, boolean sparse) implements ModelSpec {
    public static final String KIND = "lr";
    private static final Set<String> KEYS = Set.of("kind", "hashBits", "numDense", "numCat", "sparse");

    public LrSpec {
        if (hashBits < 1 || hashBits > 31) throw new IllegalArgumentException("hashBits must be in 1..31 (row ids are ints), got " + hashBits);
        if (numDense < 0 || numCat < 0) throw new IllegalArgumentException("numDense and numCat must be ≥ 0, got " + numDense + " and " + numCat);
        if (numDense + numCat == 0 && !sparse) throw new IllegalArgumentException("logistic regression needs at least one dense, categorical or sparse feature");
    }

    /** The PyTorch peer's LR: 2^20 buckets over 13 dense + 26 categorical Criteo features. */
    public static LrSpec criteo() {
        return new LrSpec(20, 13, 26, false);
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public LogisticRegression build() {
        return new LogisticRegression(this);
    }

    @Override
    public long denseParameters() {
        return 1; // the bias
    }

    @Override
    public long[][] embeddingShapes() {
        return new long[][] {{1L << hashBits, 1}};
    }

    /**
     * LogisticRegression's workspace: per example outputs, logits, their gradient, offsets and dense codes, and per
     * feature an id, a push id, a row value, its gradient (and a weight when sparse: 16 sparse features per example
     * are planned for); per dense field its 256 buckets' gradients, marks and touched list.
     */
    @Override
    public long workspaceBytes(long maxBatch) {
        long features = numDense + numCat + (sparse ? 16 : 0);
        long perExample = 4 + numDense + features * (sparse ? 5 : 4);
        return (long) (4.0 * maxBatch * perExample + 13.0 * 256 * numDense); // a double cast saturates, never wraps
    }

    @Override
    public long widestBufferPerExample() {
        return numDense + numCat + (sparse ? 16 : 0);
    }

    @Override
    public Map<String, String> toProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kind", KIND);
        p.put("hashBits", Integer.toString(hashBits));
        p.put("numDense", Integer.toString(numDense));
        p.put("numCat", Integer.toString(numCat));
        p.put("sparse", Boolean.toString(sparse));
        return p;
    }

    /** Inverse of {@link #toProperties}; a missing, invalid or unknown key fails naming it. */
    public static LrSpec fromProperties(Map<String, String> p) {
        Props.kind(p, KIND);
        Props.onlyKeys(p, KEYS);
        return new LrSpec(Props.integer(p, "hashBits"), Props.integer(p, "numDense"), Props.integer(p, "numCat"), Props.bool(p, "sparse"));
    }
}
