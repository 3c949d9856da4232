package io.shadowsync.model;

import io.shadowsync.data.Batch;
import io.shadowsync.kernels.PairwiseDots;
import io.shadowsync.nn.Activation;
import io.shadowsync.nn.BceWithLogits;
import io.shadowsync.nn.DotInteraction;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.MlpStack;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.nn.Workspace;

/**
 * DLRM (Naumov et al. 2019) as the PyTorch peer builds it: a bottom MLP maps the dense features to one vector of
 * size embDim (ReLU after every layer); each categorical field looks up its own table at row
 * {@code (id & 0xffffffffL) % embRows}; the F = numCat + 1 vectors (bottom output first) interact by pairwise dot
 * products; the top MLP reads [bottom output, pairs] and ends in one logit (BCE). Output: probability.
 *
 * <p>The F vectors of a batch sit in the interaction's blocked lane-major layout ({@link DotInteraction}):
 * within a strip of SIMD-width examples, each (field, dimension) is one vector of examples, so the interaction
 * runs a vector of examples at a time. It writes the pairs as the rows of the top MLP's input stored
 * transposed, which the first top gemm reads with {@code transA} ({@link MlpStack#forwardTransposedInput}).
 * Each table row a batch uses is pulled once into a row-major block and reshuffled into that layout from L1
 * (a bulk copy per row keeps many of the tables' cache misses in flight, which a strided scalar gather
 * straight from the table does not); its gradients are summed over the batch and pushed once, so duplicated
 * ids cost one row transfer, locally or to a parameter server. Stateless apart from the dense parameters.
 */
public final class Dlrm implements Model {
    private final DlrmSpec spec;
    private final ParameterSet dense;
    private final MlpStack bottom;
    private final MlpStack top;
    private final DotInteraction interaction;
    private final int numCat;
    private final int dim;
    private final int topIn;
    private final long rows;
    /** Lemire's fastmod constant ceil(2^64 / rows): {@code id % rows} without a division per lookup. */
    private final long rowsMagic;
    /** Examples per strip of the interaction's blocked layout (a constant for the JIT: no division per example). */
    private static final int W = PairwiseDots.blockWidth();

    public Dlrm(DlrmSpec spec) {
        this.spec = spec;
        this.numCat = spec.numCat();
        this.dim = spec.embDim();
        this.topIn = spec.topInputs();
        this.rows = spec.embRows();
        this.rowsMagic = Long.divideUnsigned(-1L, rows) + 1;
        ParameterSet.Builder pb = new ParameterSet.Builder();
        this.bottom = new MlpStack(pb, "bottom", MlpStack.widths(spec.numDense(), spec.bottom(), dim), Activation.RELU, true);
        this.top = new MlpStack(pb, "top", MlpStack.widths(topIn, spec.top(), 1), Activation.RELU, false);
        this.dense = pb.build();
        this.interaction = new DotInteraction(numCat + 1, dim);
    }

    /** Table row of a raw 32-bit id (read unsigned): {@code (id & 0xffffffffL) % embRows}, by multiply-high. */
    public int row(int id) {
        long a = rowsMagic * (id & 0xffffffffL), b = rows;
        // Math.unsignedMultiplyHigh (Java 18) from the signed one: core compiles for Java 17 (Spark executors)
        return (int) (Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a));
    }

    @Override
    public DlrmSpec spec() {
        return spec;
    }

    @Override
    public ParameterSet dense() {
        return dense;
    }

    @Override
    public long[][] embeddingShapes() {
        return spec.embeddingShapes();
    }

    /** Every table starts N(0, 0.05²), as the peer's {@code nn.init.normal_(weight, 0.0, 0.05)}. */
    @Override
    public float embeddingInitStd(int table) {
        if (table < 0 || table >= numCat) throw new IllegalArgumentException("DLRM has " + numCat + " embedding tables, no table " + table);
        return 0.05f;
    }

    /** He uniform for the layers followed by ReLU (all but the last top layer), Glorot for the logit layer. */
    @Override
    public void initDense(long seed) {
        bottom.init(dense.data(), seed);
        top.init(dense.data(), seed);
    }

    @Override
    public int outputsPerExample() {
        return 1;
    }

    @Override
    public Workspace newWorkspace(int maxBatch) {
        return new Ws(this, maxBatch, 1);
    }

    @Override
    public Workspace newWorkspace(int maxBatch, int recomputeEvery) {
        return new Ws(this, maxBatch, recomputeEvery);
    }

    @Override
    public double forwardBackward(Batch batch, Workspace w, EmbeddingStore emb) {
        Ws ws = check(batch, w, emb);
        final int B = batch.size, D = dim, ld = ws.ld;
        final float[] p = dense.data();
        double loss = forwardInto(batch, ws, emb);
        BceWithLogits.backward(ws.dlogits, 0, ws.outputs, 0, batch.labels, 0, B, 1f / batch.capacity); // a partial batch weighs its examples as a full one (Model#forwardBackward)
        // Every tensor's gradient is overwritten (accumulate = false), so denseGrad needs no zeroing pass.
        top.backwardTransposedInput(p, ws.denseGrad, false, ws.topInT, 0, ld, ws.logits, 0, ws.dlogits, 0, B, ws.topScratch, ws.dTopInT, 0);
        interaction.backward(ws.du, 0, ws.dTopInT, D * ld, ld, ws.u, 0, B, ws.interScratch);
        // the bottom output feeds the interaction (field 0) and the top MLP directly (rows 0..D−1 of its input)
        final float[] dBot = ws.dBot, dTop = ws.dTopInT;
        fromLanes(ws.du, 0, B, D, dBot);
        for (int b = 0; b < B; b++) {
            for (int d = 0; d < D; d++) dBot[b * D + d] += dTop[d * ld + b];
        }
        bottom.backward(p, ws.denseGrad, false, batch.dense, 0, ws.bot, 0, dBot, 0, B, ws.bottomScratch, null, 0);
        for (int f = 0; f < numCat; f++) {
            int n = ws.uniques[f];
            addLanesToRows(ws.du, f + 1, B, D, ws.where, f * B, ws.rows, n);
            emb.push(f, ws.ids, f * B, n, ws.rows, 0);
        }
        return loss;
    }

    /** Every table's distinct rows of the batch, as {@link #forwardInto} will pull them. */
    @Override
    public void announce(Batch batch, Workspace w, EmbeddingStore emb) {
        Ws ws = check(batch, w, emb);
        for (int f = 0; f < numCat; f++) emb.prefetchNext(f, ws.ids, f * batch.size, distinctRows(batch, f, ws));
    }

    @Override
    public double forward(Batch batch, Workspace w, EmbeddingStore emb) {
        return forwardInto(batch, check(batch, w, emb), emb);
    }

    // u[·, 0] = bottom(dense); u[·, 1+f] = table f rows; topInT = [bottom | pairs(u)]ᵀ; logits = top(topInT); outputs = σ
    private double forwardInto(Batch batch, Ws ws, EmbeddingStore emb) {
        final int B = batch.size, D = dim, nc = numCat, ld = ws.ld;
        final float[] p = dense.data(), bot = ws.bot, topInT = ws.topInT;
        bottom.forward(p, batch.dense, 0, B, ws.bottomScratch, bot, 0);
        toLanes(bot, null, 0, B, D, ws.u, 0);
        for (int d = 0; d < D; d++) {
            for (int b = 0; b < B; b++) topInT[d * ld + b] = bot[b * D + d];
        }
        // every table's distinct rows first, announced to the store, so that a remote one fetches them all in one
        // request per shard; then one bulk copy per row (many rows' cache misses in flight at once) and the reshuffle
        for (int f = 0; f < nc; f++) emb.prefetch(f, ws.ids, f * B, distinctRows(batch, f, ws));
        for (int f = 0; f < nc; f++) {
            int n = ws.uniques[f];
            emb.pull(f, ws.ids, f * B, n, ws.rows, 0);
            toLanes(ws.rows, ws.where, f * B, B, D, ws.u, f + 1);
        }
        interaction.forward(topInT, D * ld, ld, ws.u, 0, B);
        top.forwardTransposedInput(p, topInT, 0, ld, B, ws.topScratch, ws.logits, 0);
        return BceWithLogits.forward(ws.outputs, 0, ws.logits, 0, batch.labels, 0, B);
    }

    /**
     * The distinct table rows field f's ids hit in this batch, in order of first use, into
     * {@code ws.ids[f·B ..]}, and for every example the index of its row among them in {@code ws.where[f·B + b]};
     * returns how many. A batch of 128 hits about 57% distinct rows on the peer's Zipf data, so pulling and
     * pushing each row once saves the rest, and pushes fewer writes to the hot rows other workers also write.
     */
    private int distinctRows(Batch batch, int f, Ws ws) {
        final int B = batch.size, nc = numCat, mask = ws.slotKey.length - 1, shift = ws.slotShift, base = f * B;
        final int[] cat = batch.cat, key = ws.slotKey, val = ws.slotVal, ids = ws.ids, where = ws.where;
        java.util.Arrays.fill(key, -1);
        int n = 0;
        for (int b = 0; b < B; b++) {
            int id = row(cat[b * nc + f]);
            int h = (id * 0x9E3779B9) >>> shift;
            while (true) {
                int k = key[h];
                if (k == id) {
                    where[base + b] = val[h];
                    break;
                }
                if (k < 0) {
                    key[h] = id;
                    val[h] = n;
                    ids[base + n] = id;
                    where[base + b] = n++;
                    break;
                }
                h = (h + 1) & mask;
            }
        }
        ws.uniques[f] = n;
        return n;
    }

    // u[b, field, d] (blocked, see DotInteraction#offset) = rows[r(b)·D + d], r(b) = map[mapOff + b] (or b when map is null)
    private void toLanes(float[] rows, int[] map, int mapOff, int B, int D, float[] u, int field) {
        final int strip = (numCat + 1) * D * W;
        for (int s = 0, b = 0; b < B; s += strip) {
            int base = s + field * D * W;
            for (int lane = 0; lane < W && b < B; lane++, b++) {
                int r = (map == null ? b : map[mapOff + b]) * D;
                for (int d = 0; d < D; d++) u[base + d * W + lane] = rows[r + d];
            }
        }
    }

    // rows[r·D + d] = Σ over examples b with map[mapOff + b] = r, in order, of u[b, field, d]; rows [n × D]
    private void addLanesToRows(float[] u, int field, int B, int D, int[] map, int mapOff, float[] rows, int n) {
        java.util.Arrays.fill(rows, 0, n * D, 0f);
        final int strip = (numCat + 1) * D * W;
        for (int s = 0, b = 0; b < B; s += strip) {
            int base = s + field * D * W;
            for (int lane = 0; lane < W && b < B; lane++, b++) {
                int r = map[mapOff + b] * D;
                for (int d = 0; d < D; d++) rows[r + d] += u[base + d * W + lane];
            }
        }
    }

    // rows[b·D + d] = u[b, field, d] (blocked)
    private void fromLanes(float[] u, int field, int B, int D, float[] rows) {
        final int strip = (numCat + 1) * D * W;
        for (int s = 0, b = 0; b < B; s += strip) {
            int base = s + field * D * W;
            for (int lane = 0; lane < W && b < B; lane++, b++) {
                for (int d = 0, r = b * D; d < D; d++) rows[r + d] = u[base + d * W + lane];
            }
        }
    }

    private Ws check(Batch batch, Workspace w, EmbeddingStore emb) {
        if (!(w instanceof Ws ws) || (ws.spec != spec && !ws.spec.equals(spec))) throw new IllegalArgumentException("workspace was not made by a model of spec " + spec);
        if (batch.size > ws.maxBatch) throw new IllegalArgumentException("batch of " + batch.size + " examples exceeds the workspace's " + ws.maxBatch);
        if (batch.numDense != spec.numDense() || batch.numCat != numCat) {
            throw new IllegalArgumentException("batch has " + batch.numDense + " dense and " + batch.numCat + " categorical features; the model expects " + spec);
        }
        if (emb.numTables() < numCat) throw new IllegalArgumentException("embedding store has " + emb.numTables() + " tables; DLRM needs " + numCat);
        for (int f = 0; f < numCat; f++) {
            if (emb.dim(f) != dim || emb.rows(f) != rows) {
                throw new IllegalArgumentException("embedding table " + f + " is [" + emb.rows(f) + "×" + emb.dim(f) + "]; DLRM needs [" + rows + "×" + dim + "]");
            }
        }
        return ws;
    }

    /** Per-worker buffers for at most maxBatch examples; nothing is allocated after construction. */
    static final class Ws implements Workspace {
        final DlrmSpec spec;
        final int maxBatch;
        /** Row stride of the transposed top input and its gradient. */
        final int ld;
        final float[] denseGrad;
        final float[] outputs;
        final float[] logits;
        final float[] dlogits;
        /** Per field, the distinct rows of the batch (ids[f·B + u], u < uniques[f]) and each example's index among them. */
        final int[] ids;
        final int[] where;
        final int[] uniques;
        /** Open-addressing table (at most half full) that finds the distinct rows; keys −1 when free. */
        final int[] slotKey;
        final int[] slotVal;
        final int slotShift;
        /** Bottom MLP output [B × D] and its gradient. */
        final float[] bot;
        final float[] dBot;
        /** Embedding rows [B × D] of one field, pulled or to push. */
        final float[] rows;
        /** Interacting vectors, blocked lane-major (see {@link DotInteraction#offset}), and their gradients. */
        final float[] u;
        final float[] du;
        final float[] interScratch;
        /** Top MLP input stored transposed, [(D + pairs) × ld], and its gradient. */
        final float[] topInT;
        final float[] dTopInT;
        final MlpStack.Scratch bottomScratch;
        final MlpStack.Scratch topScratch;

        Ws(Dlrm m, int maxBatch, int recomputeEvery) {
            if (maxBatch < 1) throw new IllegalArgumentException("workspace needs maxBatch ≥ 1, got " + maxBatch);
            this.spec = m.spec;
            this.maxBatch = maxBatch;
            this.ld = DotInteraction.leadingDimension(maxBatch);
            interScratch = new float[m.interaction.scratchSize()];
            denseGrad = new float[m.dense.size()];
            outputs = new float[maxBatch];
            logits = new float[maxBatch];
            dlogits = new float[maxBatch];
            ids = new int[m.numCat * maxBatch];
            where = new int[m.numCat * maxBatch];
            uniques = new int[m.numCat];
            int bits = Math.max(4, 33 - Integer.numberOfLeadingZeros(maxBatch)); // 2^bits ≥ 2·maxBatch
            slotKey = new int[1 << bits];
            slotVal = new int[1 << bits];
            slotShift = 32 - bits;
            bot = new float[maxBatch * m.dim];
            dBot = new float[maxBatch * m.dim];
            rows = new float[maxBatch * m.dim];
            u = new float[m.interaction.blockedSize(maxBatch)];
            du = new float[u.length];
            topInT = new float[m.topIn * ld];
            dTopInT = new float[m.topIn * ld];
            bottomScratch = m.bottom.newScratch(maxBatch, recomputeEvery);
            topScratch = m.top.newScratch(maxBatch, recomputeEvery);
        }

        @Override
        public long activationFloats() {
            return bottomScratch.activationFloats() + topScratch.activationFloats();
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
