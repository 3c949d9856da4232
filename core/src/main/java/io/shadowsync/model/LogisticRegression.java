package io.shadowsync.model;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.BceWithLogits;
import io.shadowsync.nn.EmbeddingBag;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.nn.Workspace;

/**
 * Logistic regression on hashed features: {@code logit = bias + Σ_features value · w[hash(feature)]}, one weight
 * per bucket in a {@code [2^hashBits × 1]} embedding table (in the {@link EmbeddingStore}, initially zero) and the
 * bias as the only dense parameter. Features hash exactly as the PyTorch peer's {@code hash_features} (see
 * {@link #denseKey}, {@link #catKey}, {@link #sparseKey}, {@link #splitmix64}), so both sides learn the same model.
 *
 * <p>Stateless apart from the dense parameters: workers share it, each with its own workspace.
 */
public final class LogisticRegression implements Model {
    private static final int BUCKETS = 256;

    private final LrSpec spec;
    private final ParameterSet dense;
    private final int biasOff;
    private final int mask;
    private final EmbeddingBag bag;
    /** Row of (dense field f, bucket k) at f·256 + k: every dense feature takes one of 256 buckets, so hash once. */
    private final int[] denseRows;

    public LogisticRegression(LrSpec spec) {
        this.spec = spec;
        ParameterSet.Builder pb = new ParameterSet.Builder();
        this.biasOff = pb.add("bias", 1);
        this.dense = pb.build();
        this.mask = (int) ((1L << spec.hashBits()) - 1);
        this.bag = new EmbeddingBag(0, 1, false);
        this.denseRows = new int[spec.numDense() * BUCKETS];
        for (int f = 0; f < spec.numDense(); f++) {
            for (int k = 0; k < BUCKETS; k++) denseRows[f * BUCKETS + k] = (int) (splitmix64(denseKey(f, k)) & mask);
        }
    }

    /** The peer's splitmix64 finalizer: add the golden gamma, two xor-shift-multiply rounds, a final xor-shift. */
    public static long splitmix64(long x) {
        x += 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    /** Bucket of a dense value (a log1p count): {@code min((int)(v·4), 255)}, negative and NaN to 0. */
    public static int bucket(float v) {
        int k = (int) (v * 4f);
        return k < 0 ? 0 : Math.min(k, BUCKETS - 1);
    }

    /** Key of dense field f (0-based) in bucket k. */
    public static long denseKey(int field, int bucket) {
        return ((long) field << 32) + bucket;
    }

    /** Key of categorical field f (0-based) with raw 32-bit id (read unsigned). */
    public static long catKey(int numDense, int field, int id) {
        return ((long) (numDense + field) << 32) + (id & 0xffffffffL);
    }

    /** Key of a sparse (LibSVM) feature index. */
    public static long sparseKey(int numDense, int numCat, int index) {
        return ((long) (numDense + numCat) << 32) + (index & 0xffffffffL);
    }

    /** Row of a key in a table of 2^hashBits rows. */
    public int row(long key) {
        return (int) (splitmix64(key) & mask);
    }

    @Override
    public LrSpec spec() {
        return spec;
    }

    @Override
    public ParameterSet dense() {
        return dense;
    }

    @Override
    public long[][] embeddingShapes() {
        return new long[][] {{1L << spec.hashBits(), 1}};
    }

    @Override
    public float embeddingInitStd(int table) {
        if (table != 0) throw new IllegalArgumentException("logistic regression has one embedding table, not " + (table + 1));
        return 0f;
    }

    /** The bias starts at zero whatever the seed (the weights live in the store, also zero). */
    @Override
    public void initDense(long seed) {
        dense.data()[biasOff] = 0f;
    }

    @Override
    public int outputsPerExample() {
        return 1;
    }

    @Override
    public Workspace newWorkspace(int maxBatch) {
        return new Ws(spec, maxBatch);
    }

    @Override
    public double forwardBackward(Batch batch, Workspace w, EmbeddingStore emb) {
        Ws ws = check(batch, w, emb);
        int B = batch.size;
        double loss = forwardInto(batch, ws, emb);
        BceWithLogits.backward(ws.dlogits, 0, ws.outputs, 0, batch.labels, 0, B, 1f / batch.capacity); // a partial batch weighs its examples as a full one (Model#forwardBackward)
        float db = 0f;
        for (int b = 0; b < B; b++) db += ws.dlogits[b];
        ws.denseGrad[biasOff] = db;
        pushGradients(B, ws, emb);
        return loss;
    }

    /**
     * Pushes the weights' gradients: each dense bucket's gradient summed over the batch and pushed once (a batch
     * of 128 hits only a few dozen of a field's 256 buckets, so this removes most of its 13 pushes per example,
     * and with them most writes that Hogwild workers would make to the same hot rows), then one gradient per
     * categorical or sparse occurrence, in example order. The sums a row receives are those of
     * {@link EmbeddingBag#backward}; only their grouping differs.
     */
    // push: rows of the touched buckets with Σ_b dlogits[b]; then ids[k] with v_k·dlogits[b] for the other features
    private void pushGradients(int B, Ws ws, EmbeddingStore emb) {
        final int nd = spec.numDense();
        final float[] g = ws.dlogits, acc = ws.bucketGrad, grads = ws.rowGrads, v = ws.weights;
        final int[] ids = ws.ids, offsets = ws.offsets, codes = ws.codes, touched = ws.touched, push = ws.pushIds;
        final boolean[] seen = ws.seen;
        int t = 0;
        for (int b = 0; b < B; b++) {
            float gb = g[b];
            for (int f = 0, c0 = b * nd; f < nd; f++) {
                int c = codes[c0 + f];
                if (seen[c]) {
                    acc[c] += gb;
                } else {
                    seen[c] = true;
                    touched[t++] = c;
                    acc[c] = gb;
                }
            }
        }
        int n = 0;
        for (int i = 0; i < t; i++) {
            int c = touched[i];
            push[n] = denseRows[c];
            grads[n++] = acc[c];
            seen[c] = false;
        }
        for (int b = 0; b < B; b++) {
            float gb = g[b];
            for (int k = offsets[b] + nd, end = offsets[b + 1]; k < end; k++) {
                push[n] = ids[k];
                grads[n++] = v == null ? gb : v[k] * gb;
            }
        }
        emb.push(0, push, 0, n, grads, 0);
    }

    @Override
    public double forward(Batch batch, Workspace w, EmbeddingStore emb) {
        return forwardInto(batch, check(batch, w, emb), emb);
    }

    // logits[B] = bias + pooled weights; outputs[B] = σ(logits); returns summed BCE
    private double forwardInto(Batch batch, Ws ws, EmbeddingStore emb) {
        int B = batch.size;
        float[] w = emb.localTable(0);
        if (w != null) {
            hashAndPool(batch, ws, w);
        } else {
            hashFeatures(batch, ws);
            bag.forward(emb, ws.ids, spec.sparse() ? ws.weights : null, ws.offsets, B, ws.rows, ws.logits, 0);
        }
        float bias = dense.data()[biasOff];
        for (int b = 0; b < B; b++) ws.logits[b] += bias;
        return BceWithLogits.forward(ws.outputs, 0, ws.logits, 0, batch.labels, 0, B);
    }

    /**
     * The fast path for a table held in this process: hashes all features of the batch first, then sums each
     * example's (weighted) weights straight from the live table, with no copy of the rows. Two passes on
     * purpose: the gather loop is a few instructions per id, so the out-of-order core keeps many of its
     * cache-missing table loads in flight, where a loop that hashes and loads in turn keeps few. Sums in the
     * same order and with the same operations as {@link EmbeddingBag#forward}, so both paths give the same bits.
     */
    // ids = rows of the features (CSR by example); logits[b] = Σ_j v_j·w[ids[j]] over example b's features
    private void hashAndPool(Batch batch, Ws ws, float[] w) {
        final int B = batch.size;
        hashFeatures(batch, ws);
        final int[] ids = ws.ids, offsets = ws.offsets;
        final float[] logits = ws.logits, v = ws.weights;
        for (int b = 0; b < B; b++) {
            float s = 0f;
            if (v == null) {
                for (int k = offsets[b], end = offsets[b + 1]; k < end; k++) s += w[ids[k]];
            } else {
                for (int k = offsets[b], end = offsets[b + 1]; k < end; k++) s += v[k] * w[ids[k]];
            }
            logits[b] = s;
        }
    }

    /** Fills ws.ids / ws.weights / ws.offsets with the hashed features of every example, in CSR form. */
    void hashFeatures(Batch batch, Ws ws) {
        final int B = batch.size, nd = spec.numDense(), nc = spec.numCat();
        int total = B * (nd + nc) + (spec.sparse() ? batch.sparseOffsets[B] - batch.sparseOffsets[0] : 0);
        ws.ensureCapacity(total);
        final int[] ids = ws.ids;
        final long catBase = (long) nd << 32;
        final long sparseBase = (long) (nd + nc) << 32;
        int k = 0;
        for (int b = 0; b < B; b++) {
            ws.offsets[b] = k;
            for (int f = 0; f < nd; f++) {
                int c = f * BUCKETS + bucket(batch.dense[b * nd + f]);
                ws.codes[b * nd + f] = c;
                ids[k++] = denseRows[c];
            }
            for (int f = 0; f < nc; f++) {
                long key = catBase + ((long) f << 32) + (batch.cat[b * nc + f] & 0xffffffffL);
                ids[k++] = (int) (splitmix64(key) & mask);
            }
            if (spec.sparse()) {
                for (int j = k - nd - nc; j < k; j++) ws.weights[j] = 1f;
                for (int s = batch.sparseOffsets[b], e = batch.sparseOffsets[b + 1]; s < e; s++) {
                    ids[k] = (int) (splitmix64(sparseBase + (batch.sparseIdx[s] & 0xffffffffL)) & mask);
                    ws.weights[k++] = batch.sparseVal[s];
                }
            }
        }
        ws.offsets[B] = k;
    }

    private Ws check(Batch batch, Workspace w, EmbeddingStore emb) {
        if (emb.numTables() < 1 || emb.rows(0) != 1L << spec.hashBits() || emb.dim(0) != 1) {
            throw new IllegalArgumentException("logistic regression needs an embedding table of [2^" + spec.hashBits() + " × 1] weights, the store has "
                    + (emb.numTables() < 1 ? "no table" : "[" + emb.rows(0) + " × " + emb.dim(0) + "]"));
        }
        if (!(w instanceof Ws ws) || (ws.spec != spec && !ws.spec.equals(spec))) throw new IllegalArgumentException("workspace was not made by a model of spec " + spec);
        if (batch.size > ws.maxBatch) throw new IllegalArgumentException("batch of " + batch.size + " examples exceeds the workspace's " + ws.maxBatch);
        if (batch.numDense != spec.numDense() || batch.numCat != spec.numCat() || (batch.sparseOffsets != null) != spec.sparse()) {
            throw new IllegalArgumentException("batch has " + batch.numDense + " dense, " + batch.numCat + " categorical, sparse="
                    + (batch.sparseOffsets != null) + "; the model expects " + spec);
        }
        return ws;
    }

    /**
     * Per-worker buffers. Feature buffers hold maxBatch·(numDense + numCat + 16) entries and grow, doubling, when
     * a batch carries more sparse entries than any before (the only allocation, amortized and rare).
     */
    static final class Ws implements Workspace {
        final LrSpec spec;
        final int maxBatch;
        final float[] denseGrad = new float[1];
        final float[] outputs;
        final float[] logits;
        final float[] dlogits;
        final int[] offsets;
        /** Per example and dense field, the bucket code f·256 + bucket. */
        final int[] codes;
        /** Per bucket code: the batch's summed gradient, whether it was touched, and the touched codes in order. */
        final float[] bucketGrad;
        final boolean[] seen;
        final int[] touched;
        int[] ids;
        int[] pushIds;
        float[] weights;
        float[] rows;
        float[] rowGrads;

        Ws(LrSpec spec, int maxBatch) {
            if (maxBatch < 1) throw new IllegalArgumentException("workspace needs maxBatch ≥ 1, got " + maxBatch);
            this.spec = spec;
            this.maxBatch = maxBatch;
            outputs = new float[maxBatch];
            logits = new float[maxBatch];
            dlogits = new float[maxBatch];
            offsets = new int[maxBatch + 1];
            codes = new int[maxBatch * spec.numDense()];
            bucketGrad = new float[spec.numDense() * BUCKETS];
            seen = new boolean[bucketGrad.length];
            touched = new int[bucketGrad.length];
            allocate(maxBatch * (spec.numDense() + spec.numCat() + (spec.sparse() ? 16 : 0)));
        }

        private void allocate(int n) {
            ids = new int[n];
            pushIds = new int[n];
            weights = spec.sparse() ? new float[n] : null;
            rows = new float[n];
            rowGrads = new float[n];
        }

        void ensureCapacity(int n) {
            if (n > ids.length) allocate(Math.max(n, 2 * ids.length));
        }

        @Override
        public int maxBatch() {
            return maxBatch;
        }

        @Override
        public float[] denseGrad() {
            return denseGrad;
        }

        @Override
        public float[] outputs() {
            return outputs;
        }
    }
}
