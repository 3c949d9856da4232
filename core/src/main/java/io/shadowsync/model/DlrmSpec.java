package io.shadowsync.model;

import io.shadowsync.nn.MlpStack;
import io.shadowsync.nn.ModelSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A DLRM-style CTR model ({@link Dlrm}).
 *
 * @param numDense dense features per example (bottom MLP input)
 * @param numCat   categorical fields per example, one embedding table each
 * @param embRows  rows per table; a raw id maps to row {@code (id & 0xffffffffL) % embRows}
 * @param embDim   embedding dimension, also the bottom MLP's output width
 * @param bottom   hidden widths of the bottom MLP (numDense → bottom… → embDim, ReLU after every layer)
 * @param top      hidden widths of the top MLP (embDim + F(F−1)/2 → top… → 1 logit, F = numCat + 1)
 */
public record DlrmSpec(int numDense, int numCat, long embRows, int embDim, int[] bottom, int[] top) implements ModelSpec {
    public static final String KIND = "dlrm";
    private static final Set<String> KEYS = Set.of("kind", "numDense", "numCat", "embRows", "embDim", "bottom", "top");

    public DlrmSpec {
        if (numDense < 1) throw new IllegalArgumentException("DLRM needs at least one dense feature for its bottom MLP, got numDense=" + numDense);
        if (numCat < 1) throw new IllegalArgumentException("DLRM needs at least one categorical field to interact with, got numCat=" + numCat);
        if (embRows < 1 || embRows > Integer.MAX_VALUE) throw new IllegalArgumentException("embRows must be in 1..2^31−1 (row ids are ints), got " + embRows);
        if (embDim < 1) throw new IllegalArgumentException("embDim must be positive, got " + embDim);
        if (bottom == null || top == null) throw new IllegalArgumentException("bottom and top widths must be given (empty arrays for none)");
        bottom = bottom.clone();
        top = top.clone();
        if (bottom.length > MlpSpec.MAX_HIDDEN_LAYERS || top.length > MlpSpec.MAX_HIDDEN_LAYERS) {
            throw new IllegalArgumentException("the bottom and top MLPs take at most " + MlpSpec.MAX_HIDDEN_LAYERS + " hidden layers each, got "
                    + bottom.length + " and " + top.length);
        }
        for (int w : bottom) if (w < 1) throw new IllegalArgumentException("bottom MLP widths must be positive, got " + Arrays.toString(bottom));
        for (int w : top) if (w < 1) throw new IllegalArgumentException("top MLP widths must be positive, got " + Arrays.toString(top));
        long f = numCat + 1L;
        if (f * (f - 1) / 2 + embDim > Integer.MAX_VALUE / 2) throw new IllegalArgumentException("numCat=" + numCat + " gives too many pairwise interactions");
    }

    /** The PyTorch peer's DLRM: 13 dense, 26 tables of 100000 × 16, bottom 13-64-16, top 367-64-1. */
    public static DlrmSpec criteo() {
        return new DlrmSpec(13, 26, 100_000, 16, new int[] {64}, new int[] {64});
    }

    /** Number of vectors that interact: the bottom output and one embedding per field. */
    public int interactingFeatures() {
        return numCat + 1;
    }

    /** Width of the top MLP input: the bottom output concatenated with the F(F−1)/2 pairwise dots. */
    public int topInputs() {
        int f = numCat + 1;
        return embDim + f * (f - 1) / 2;
    }

    @Override
    public int[] bottom() {
        return bottom.clone();
    }

    @Override
    public int[] top() {
        return top.clone();
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Dlrm build() {
        return new Dlrm(this);
    }

    @Override
    public long denseParameters() {
        // in a double: two saturated stacks add up to Long.MAX_VALUE when cast, not a negative count
        return (long) ((double) MlpStack.parameters(MlpStack.widths(numDense, bottom, embDim)) + MlpStack.parameters(MlpStack.widths(topInputs(), top, 1)));
    }

    @Override
    public long[][] embeddingShapes() {
        long[][] s = new long[numCat][];
        for (int f = 0; f < numCat; f++) s[f] = new long[] {embRows, embDim};
        return s;
    }

    /**
     * Dlrm's workspace per example: outputs, logits and their gradient; ids and their slots (ints, with a hash table of
     * about 4 per example); the bottom output, its gradient and one field's rows; the F interacting vectors and their
     * gradients; the top input and its gradient; both stacks' scratch. Plus the dense gradient.
     */
    @Override
    public long workspaceBytes(long maxBatch) {
        long f = numCat + 1L;
        long perExample = 3 + 2L * numCat + 4 + 3L * embDim + 2 * f * embDim + 2L * topInputs()
                + MlpStack.scratchFloatsPerExample(MlpStack.widths(numDense, bottom, embDim)) + MlpStack.scratchFloatsPerExample(MlpStack.widths(topInputs(), top, 1));
        return (long) (4.0 * denseParameters() + 4.0 * maxBatch * perExample + 64.0 * f * (f - 1) / 2); // a double cast saturates
    }

    @Override
    public long widestBufferPerExample() {
        return Math.max(Math.max((numCat + 1L) * embDim, topInputs()),
                Math.max(MlpStack.maxWidth(MlpStack.widths(numDense, bottom, embDim)), MlpStack.maxWidth(MlpStack.widths(topInputs(), top, 1))));
    }

    @Override
    public Map<String, String> toProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kind", KIND);
        p.put("numDense", Integer.toString(numDense));
        p.put("numCat", Integer.toString(numCat));
        p.put("embRows", Long.toString(embRows));
        p.put("embDim", Integer.toString(embDim));
        p.put("bottom", Props.ints(bottom));
        p.put("top", Props.ints(top));
        return p;
    }

    /** Inverse of {@link #toProperties}; a missing, invalid or unknown key fails naming it. */
    public static DlrmSpec fromProperties(Map<String, String> p) {
        Props.kind(p, KIND);
        Props.onlyKeys(p, KEYS);
        return new DlrmSpec(Props.integer(p, "numDense"), Props.integer(p, "numCat"), Props.longInt(p, "embRows"),
                Props.integer(p, "embDim"), Props.ints(p, "bottom"), Props.ints(p, "top"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DlrmSpec s && s.numDense == numDense && s.numCat == numCat && s.embRows == embRows
                && s.embDim == embDim && Arrays.equals(s.bottom, bottom) && Arrays.equals(s.top, top);
    }

    @Override
    public int hashCode() {
        return Objects.hash(numDense, numCat, embRows, embDim, Arrays.hashCode(bottom), Arrays.hashCode(top));
    }

    @Override
    public String toString() {
        return "DlrmSpec[numDense=" + numDense + ", numCat=" + numCat + ", embRows=" + embRows + ", embDim=" + embDim
                + ", bottom=" + Arrays.toString(bottom) + ", top=" + Arrays.toString(top) + "]";
    }
}
