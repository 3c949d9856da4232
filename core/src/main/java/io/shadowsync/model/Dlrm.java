package io.shadowsync.model;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.Activation;
import io.shadowsync.nn.BceWithLogits;
import io.shadowsync.nn.DotInteraction;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.MlpStack;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.nn.Workspace;
import io.shadowsync.kernels.Vec;

/**
 * DLRM (Naumov et al. 2019) as the PyTorch peer builds it: a bottom MLP maps the dense features to one vector of
 * size embDim (ReLU after every layer); each categorical field looks up its own table at row
 * {@code (id & 0xffffffffL) % embRows}; the F = numCat + 1 vectors (bottom output first) interact by pairwise dot
 * products; the top MLP reads [bottom output, pairs] and ends in one logit (BCE). Output: probability.
 *
 * <p>The F vectors of a batch sit field-major in the workspace, {@code t[f][b][d]}: the bottom MLP writes block 0
 * and each table's pull fills its block in one call, and the gradients of block f are pushed as they lie, so no
 * copy is made between the store and the interaction. Stateless apart from the dense parameters.
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

    public Dlrm(DlrmSpec spec) {
        this.spec = spec;
        this.numCat = spec.numCat();
        this.dim = spec.embDim();
        this.topIn = spec.topInputs();
        this.rows = spec.embRows();
        this.rowsMagic = Long.divideUnsigned(-1L, rows) + 1;
        ParameterSet.Builder pb = new ParameterSet.Builder();
        this.bottom = new MlpStack(pb, "bottom", widths(spec.numDense(), spec.bottom(), dim), Activation.RELU, true);
        this.top = new MlpStack(pb, "top", widths(topIn, spec.top(), 1), Activation.RELU, false);
        this.dense = pb.build();
        this.interaction = new DotInteraction(numCat + 1, dim);
    }

    private static int[] widths(int in, int[] hidden, int out) {
        int[] w = new int[hidden.length + 2];
        w[0] = in;
        System.arraycopy(hidden, 0, w, 1, hidden.length);
        w[w.length - 1] = out;
        return w;
    }

    /** Table row of a raw 32-bit id (read unsigned): {@code (id & 0xffffffffL) % embRows}, by multiply-high. */
    public int row(int id) {
        return (int) Math.unsignedMultiplyHigh(rowsMagic * (id & 0xffffffffL), rows);
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
        long[][] s = new long[numCat][];
        for (int f = 0; f < numCat; f++) s[f] = new long[] {rows, dim};
        return s;
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
        return new Ws(this, maxBatch);
    }

    @Override
    public double forwardBackward(Batch batch, Workspace w, EmbeddingStore emb) {
        Ws ws = check(batch, w, emb);
        final int B = batch.size, D = dim, K = topIn;
        final float[] p = dense.data();
        double loss = forwardInto(batch, ws, emb);
        BceWithLogits.backward(ws.dlogits, 0, ws.outputs, 0, batch.labels, 0, B, B == 0 ? 0f : 1f / B);
        // Every tensor's gradient is overwritten (accumulate = false), so denseGrad needs no zeroing pass.
        top.backward(p, ws.denseGrad, false, ws.topIn, 0, ws.logits, 0, ws.dlogits, 0, B, ws.topScratch, ws.dTopIn, 0);
        interaction.backward(ws.dt, ws.dTopIn, D, K, ws.t, 0, D, B * D, B, ws.interScratch);
        for (int b = 0; b < B; b++) Vec.axpy(D, 1f, ws.dTopIn, b * K, ws.dt, b * D);
        bottom.backward(p, ws.denseGrad, false, batch.dense, 0, ws.t, 0, ws.dt, 0, B, ws.bottomScratch, null, 0);
        for (int f = 0; f < numCat; f++) emb.push(f, ws.ids, f * B, B, ws.dt, (f + 1) * B * D);
        return loss;
    }

    @Override
    public double forward(Batch batch, Workspace w, EmbeddingStore emb) {
        return forwardInto(batch, check(batch, w, emb), emb);
    }

    // t[0] = bottom(dense); t[1+f] = table f rows; topIn = [t[0] | pairs(t)]; logits = top(topIn); outputs = σ
    private double forwardInto(Batch batch, Ws ws, EmbeddingStore emb) {
        final int B = batch.size, D = dim, K = topIn, nc = numCat;
        final float[] p = dense.data();
        bottom.forward(p, batch.dense, 0, B, ws.bottomScratch, ws.t, 0);
        final int[] cat = batch.cat, ids = ws.ids;
        for (int f = 0; f < nc; f++) {
            for (int b = 0; b < B; b++) ids[f * B + b] = row(cat[b * nc + f]);
            emb.pull(f, ids, f * B, B, ws.t, (f + 1) * B * D);
        }
        for (int b = 0; b < B; b++) System.arraycopy(ws.t, b * D, ws.topIn, b * K, D);
        interaction.forward(ws.topIn, D, K, ws.t, 0, D, B * D, B, ws.interScratch);
        top.forward(p, ws.topIn, 0, B, ws.topScratch, ws.logits, 0);
        return BceWithLogits.forward(ws.outputs, 0, ws.logits, 0, batch.labels, 0, B);
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
        final float[] denseGrad;
        final float[] outputs;
        final float[] logits;
        final float[] dlogits;
        /** Row ids, field-major: ids[f·B + b]. */
        final int[] ids;
        /** Interacting vectors t[f][b][d] (block f at f·B·D) and their gradients. */
        final float[] t;
        final float[] dt;
        /** Top MLP input [B × (D + pairs)] and its gradient. */
        final float[] topIn;
        final float[] dTopIn;
        final MlpStack.Scratch bottomScratch;
        final MlpStack.Scratch topScratch;
        final float[] interScratch;

        Ws(Dlrm m, int maxBatch) {
            if (maxBatch < 1) throw new IllegalArgumentException("workspace needs maxBatch ≥ 1, got " + maxBatch);
            this.spec = m.spec;
            this.maxBatch = maxBatch;
            denseGrad = new float[m.dense.size()];
            outputs = new float[maxBatch];
            logits = new float[maxBatch];
            dlogits = new float[maxBatch];
            ids = new int[m.numCat * maxBatch];
            t = new float[(m.numCat + 1) * maxBatch * m.dim];
            dt = new float[t.length];
            topIn = new float[maxBatch * m.topIn];
            dTopIn = new float[maxBatch * m.topIn];
            bottomScratch = m.bottom.newScratch(maxBatch);
            topScratch = m.top.newScratch(maxBatch);
            interScratch = new float[m.interaction.scratchSize()];
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
