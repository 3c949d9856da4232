package io.shadowsync.data;

/**
 * The hidden model behind {@link SyntheticCtr}: how rows are drawn and what the true click probability of a row
 * is, after the PyTorch peer's {@code make_ctr} (same structure, our own random numbers).
 *
 * <ul>
 *   <li>13 counts {@code floor(exp(0.5 + 1.5·z))}, z standard normal (lognormal(0.5, 1.5));</li>
 *   <li>26 ids, field f from a Zipf law truncated to {@code vocab} ranks with exponent 1.05 + 0.25·f/25, the
 *       rank mapped to an id by a seeded permutation so that hot ids are scattered;</li>
 *   <li>logit = Σ_j w_j·(log1p(count_j) − μ)/σ + Σ_f t[f][id_f] + Σ_{f&lt;g&lt;10} ⟨v[f][id_f], v[g][id_g]⟩ − 1.6, with
 *       w ~ N(0, 0.3²), t ~ N(0, 0.25²), v 4-dim ~ N(0, 0.3²); μ, σ are the exact mean and standard deviation of
 *       log1p(count) under the lognormal (where the peer standardizes by the sample), so rows stream.</li>
 * </ul>
 *
 * <p>Speed (generation is bound by cache misses on the tables): everything known about a rank (its id, t and v)
 * sits in one record of {@link #byRank}, indexed by rank rather than by id (the same law: an i.i.d. table read
 * through a permutation is i.i.d.), so hot ranks share cache lines and a cold one costs one miss; a guide table
 * narrows each inverse-CDF binary search to the few ranks between two guide points.
 * Memory: about 600 bytes per id of the vocabulary. Immutable after construction; shareable.
 */
final class CtrTeacher {
    static final int NUM_DENSE = 13;
    static final int NUM_CAT = 26;
    static final int NUM_INTERACT = 10;
    static final int INTERACT_DIM = 4;
    static final double COUNT_MU = 0.5;
    static final double COUNT_SIGMA = 1.5;
    /** E[log1p(floor(X))] and its standard deviation for X ~ lognormal(0.5, 1.5), by summing over counts k. */
    static final double LOG1P_MEAN = 0.9923046822076295;
    static final double LOG1P_STD = 1.0328914296394542;
    static final double BIAS = -1.6;
    /** Standardized log1p(k) for the common small counts, the same doubles the formula gives. */
    private static final double[] DENSE_Z = new double[4096];

    static {
        for (int k = 0; k < DENSE_Z.length; k++) DENSE_Z[k] = standardize(k);
    }

    final int vocab;
    private final double[] wDense = new double[NUM_DENSE];
    private final double[][] zipfCdf = new double[NUM_CAT][];
    /** Guide points per field: a power of two, about vocab/2, at most 2^16. */
    private final int guideSize;
    /** guide[f][k] = first rank r with zipfCdf[f][r] &gt; k/guideSize, so a draw u lies in [guide[k], guide[k+1]]. */
    private final int[][] guide = new int[NUM_CAT][];
    /**
     * Per field, one record of {@link #stride}(f) ints per rank: the id, then the float bits of t, then (first
     * {@value #NUM_INTERACT} fields) the float bits of v.
     */
    private final int[][] byRank = new int[NUM_CAT][];

    CtrTeacher(int vocab, SplitMix64 rng) {
        this.vocab = vocab;
        this.guideSize = Math.min(1 << 16, Math.max(64, Integer.highestOneBit(vocab) / 2));
        double[] logRank = new double[vocab]; // ln(r + 1), shared by the fields: (r+1)^-s = exp(-s·ln(r+1))
        for (int r = 0; r < vocab; r++) logRank[r] = StrictMath.log(r + 1);
        for (int f = 0; f < NUM_CAT; f++) {
            double s = 1.05 + 0.25 * f / (NUM_CAT - 1);
            double[] cdf = new double[vocab];
            double sum = 0;
            for (int r = 0; r < vocab; r++) cdf[r] = sum += StrictMath.exp(-s * logRank[r]);
            for (int r = 0; r < vocab; r++) cdf[r] /= sum;
            cdf[vocab - 1] = 1.0;
            zipfCdf[f] = cdf;
            int[] g = new int[guideSize + 1];
            for (int k = 0, r = 0; k < guideSize; k++) {
                while (cdf[r] <= (double) k / guideSize) r++;
                g[k] = r;
            }
            g[guideSize] = vocab - 1;
            guide[f] = g;
            int w = stride(f);
            int[] rec = new int[vocab * w];
            for (int r = 0; r < vocab; r++) rec[r * w] = r;
            for (int i = vocab - 1; i > 0; i--) { // Fisher-Yates: rank -> id
                int j = rng.nextInt(i + 1);
                int t = rec[i * w];
                rec[i * w] = rec[j * w];
                rec[j * w] = t;
            }
            byRank[f] = rec;
        }
        for (int j = 0; j < NUM_DENSE; j++) wDense[j] = 0.3 * rng.nextGaussian();
        for (int f = 0; f < NUM_CAT; f++) {
            int w = stride(f);
            int[] rec = byRank[f];
            for (int r = 0; r < vocab; r++) {
                rec[r * w + 1] = Float.floatToRawIntBits((float) (0.25 * rng.nextGaussian()));
                for (int k = 2; k < w; k++) rec[r * w + k] = Float.floatToRawIntBits((float) (0.3 * rng.nextGaussian()));
            }
        }
    }

    private static int stride(int field) {
        return field < NUM_INTERACT ? 2 + INTERACT_DIM : 2;
    }

    /** Draws one row: counts[13], and for each of the 26 fields its Zipf rank and the id it maps to. */
    void sampleRow(SplitMix64 rng, int[] counts, int[] ranks, int[] ids) {
        for (int j = 0; j < NUM_DENSE; j++) {
            double x = StrictMath.exp(COUNT_MU + COUNT_SIGMA * rng.nextGaussian());
            counts[j] = (int) Math.min(Math.floor(x), Integer.MAX_VALUE);
        }
        for (int f = 0; f < NUM_CAT; f++) {
            double u = rng.nextDouble();
            int k = (int) (u * guideSize);
            int r = zipfRank(zipfCdf[f], u, guide[f][k], guide[f][k + 1]);
            ranks[f] = r;
            ids[f] = byRank[f][r * stride(f)];
        }
    }

    /** First rank r with cdf[r] &gt; u, known to lie in [lo, hi] (u in [0, 1)): inverse-CDF sampling by binary search. */
    static int zipfRank(double[] cdf, double u, int lo, int hi) {
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /** The teacher's logit for a row, given its counts and the Zipf ranks of its ids. */
    double logit(int[] counts, int[] ranks) {
        double z = BIAS;
        for (int j = 0; j < NUM_DENSE; j++) {
            int c = counts[j];
            z += wDense[j] * (c < DENSE_Z.length ? DENSE_Z[c] : standardize(c));
        }
        for (int f = 0; f < NUM_CAT; f++) z += Float.intBitsToFloat(byRank[f][ranks[f] * stride(f) + 1]);
        // Σ_{f<g} ⟨v_f, v_g⟩ = ½ (‖Σ_f v_f‖² − Σ_f ‖v_f‖²)
        double pairs = 0;
        for (int k = 0; k < INTERACT_DIM; k++) {
            double sum = 0, sumSq = 0;
            for (int f = 0; f < NUM_INTERACT; f++) {
                double v = Float.intBitsToFloat(byRank[f][ranks[f] * (2 + INTERACT_DIM) + 2 + k]);
                sum += v;
                sumSq += v * v;
            }
            pairs += sum * sum - sumSq;
        }
        return z + 0.5 * pairs;
    }

    private static double standardize(int count) {
        return (StrictMath.log1p(count) - LOG1P_MEAN) / LOG1P_STD;
    }

    /** Logistic function, stable for large |z|. */
    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + StrictMath.exp(-z)) : StrictMath.exp(z) / (1 + StrictMath.exp(z));
    }
}
