package io.shadowsync.model;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.Activation;
import io.shadowsync.nn.BceWithLogits;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.MlpStack;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.Mse;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.nn.SoftmaxCrossEntropyLoss;
import io.shadowsync.nn.Workspace;

/**
 * A multilayer perceptron on a batch's dense features: {@code inputs → hidden… → outputs}, the spec's activation
 * after every hidden layer, none after the last; the loss follows the task (softmax cross-entropy, BCE on one
 * logit, or MSE). Outputs per example: class probabilities, the probability of label 1, or the prediction.
 * Parameters {@code layers.l.weight [out×in]} / {@code layers.l.bias [out]} in one {@link ParameterSet}.
 *
 * <p>Stateless apart from the dense parameters: workers share it, each with its own workspace.
 */
public final class MlpModel implements Model {
    private static final int MULTICLASS = 0, BINARY = 1, REGRESSION = 2;

    private final MlpSpec spec;
    private final ParameterSet dense;
    private final MlpStack stack;
    private final int task;
    private final int outputs;

    public MlpModel(MlpSpec spec) {
        this.spec = spec;
        int[] widths = MlpStack.widths(spec.inputs(), spec.hidden(), spec.outputs());
        ParameterSet.Builder pb = new ParameterSet.Builder();
        this.stack = new MlpStack(pb, "layers", widths, Activation.of(spec.activation()), false);
        this.dense = pb.build();
        this.task = switch (spec.task()) {
            case "multiclass" -> MULTICLASS;
            case "binary" -> BINARY;
            default -> REGRESSION;
        };
        this.outputs = spec.outputs();
    }

    @Override
    public MlpSpec spec() {
        return spec;
    }

    @Override
    public ParameterSet dense() {
        return dense;
    }

    @Override
    public long[][] embeddingShapes() {
        return new long[0][];
    }

    @Override
    public float embeddingInitStd(int table) {
        throw new IllegalArgumentException("an MLP has no embedding tables (asked for table " + table + ")");
    }

    /** He uniform for layers followed by ReLU, Glorot uniform for the others; biases zero. */
    @Override
    public void initDense(long seed) {
        stack.init(dense.data(), seed);
    }

    @Override
    public int outputsPerExample() {
        return outputs;
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
        Ws ws = check(batch, w);
        int B = batch.size;
        double loss = forwardInto(batch, ws);
        float scale = 1f / batch.capacity; // a partial batch weighs its examples as a full one (Model#forwardBackward)
        switch (task) {
            case MULTICLASS -> SoftmaxCrossEntropyLoss.backward(ws.dlogits, ws.outputs, ws.intLabels, B, outputs, scale);
            case BINARY -> BceWithLogits.backward(ws.dlogits, 0, ws.outputs, 0, batch.labels, 0, B, scale);
            default -> Mse.backward(ws.dlogits, 0, ws.logits, 0, batch.labels, 0, B, scale);
        }
        // Every tensor's gradient is overwritten (accumulate = false), so denseGrad needs no zeroing pass.
        stack.backward(dense.data(), ws.denseGrad, false, batch.dense, 0, ws.logits, 0, ws.dlogits, 0, B, ws.scratch, null, 0);
        return loss;
    }

    @Override
    public double forward(Batch batch, Workspace w, EmbeddingStore emb) {
        return forwardInto(batch, check(batch, w));
    }

    // logits[B×outputs] = stack(dense[B×inputs]); outputs = softmax / σ / identity of the logits
    private double forwardInto(Batch batch, Ws ws) {
        int B = batch.size;
        stack.forward(dense.data(), batch.dense, 0, B, ws.scratch, ws.logits, 0);
        return switch (task) {
            case MULTICLASS -> SoftmaxCrossEntropyLoss.forward(ws.outputs, ws.logits, batch.labels, ws.intLabels, B, outputs);
            case BINARY -> BceWithLogits.forward(ws.outputs, 0, ws.logits, 0, batch.labels, 0, B);
            default -> {
                System.arraycopy(ws.logits, 0, ws.outputs, 0, B);
                yield Mse.forward(ws.logits, 0, batch.labels, 0, B);
            }
        };
    }

    private Ws check(Batch batch, Workspace w) {
        if (!(w instanceof Ws ws) || (ws.spec != spec && !ws.spec.equals(spec))) throw new IllegalArgumentException("workspace was not made by a model of spec " + spec);
        if (batch.size > ws.maxBatch) throw new IllegalArgumentException("batch of " + batch.size + " examples exceeds the workspace's " + ws.maxBatch);
        if (batch.numDense != spec.inputs()) throw new IllegalArgumentException("batch has " + batch.numDense + " dense features; the MLP expects " + spec.inputs());
        return ws;
    }

    /** Per-worker buffers for at most maxBatch examples; nothing is allocated after construction. */
    static final class Ws implements Workspace {
        final MlpSpec spec;
        final int maxBatch;
        final float[] denseGrad;
        final float[] outputs;
        final float[] logits;
        final float[] dlogits;
        final int[] intLabels;
        final MlpStack.Scratch scratch;

        Ws(MlpModel m, int maxBatch, int recomputeEvery) {
            if (maxBatch < 1) throw new IllegalArgumentException("workspace needs maxBatch ≥ 1, got " + maxBatch);
            this.spec = m.spec;
            this.maxBatch = maxBatch;
            denseGrad = new float[m.dense.size()];
            outputs = new float[maxBatch * m.outputs];
            logits = new float[maxBatch * m.outputs];
            dlogits = new float[maxBatch * m.outputs];
            intLabels = new int[maxBatch];
            scratch = m.stack.newScratch(maxBatch, recomputeEvery);
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

        @Override
        public long activationFloats() {
            return scratch.activationFloats();
        }
    }
}
