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
