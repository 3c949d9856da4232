package io.shadowsync.fed;

import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.Trainer;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.nn.ForwardingEmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.util.Arrays;

/**
 * A client's local training of one round: a fresh replica set to the global model, trained for E epochs over the
 * client's shard by the engine's own single {@link Trainer} (its Hogwild workers and step rule, the same code as
 * {@code shadowsync train} with one trainer), with a fresh optimizer (client optimizer state does not outlive a
 * round, as in FedAvg). With FedProx (Li et al. 2020) every step's gradient gets the proximal term μ·(w − w_global)
 * added before the optimizer applies it, which keeps the client near the global model on skewed data.
 *
 * <p>A model with embedding tables (logistic regression's weights, DLRM's tables) trains on its own copy of the
 * global tables, with a fresh sparse optimizer ({@link EmbeddingOptimizerSpec#defaultFor} of the client's optimizer,
 * as {@code shadowsync train} picks it). Its change of a table is sparse: the rows it pushed a gradient to (its
 * <i>touched</i> rows) and their change, {@link RowDelta}. FedProx's term reaches those rows too: every pushed row
 * gradient gets μ·(w_r − w_r,global) added once per push, however many of the batch's examples repeat the row (LR
 * pushes a categorical row once per occurrence), so a row is pulled back once per step that trains it, as the dense
 * parameters are.
 *
 * <p>Threading: one call per client per round, on that client's thread; the global model is only read.
 */
final class LocalTraining {
    private LocalTraining() {}

    /**
     * What a client sends back: its change of the model and how many examples it trained on.
     *
     * @param rows [t] = its change of table t, on the rows it touched (empty for a model without tables)
     */
    record Update(int client, float[] delta, RowDelta[] rows, long examples, double trainLoss) {}

    /** {@link #train(int, ModelSpec, float[], float[][], InMemorySource, OptimizerSpec, double, TrainerConfig)} of a model without tables. */
    static Update train(int client, ModelSpec spec, float[] global, InMemorySource shard, OptimizerSpec optimizer, double mu,
                        TrainerConfig config) throws InterruptedException {
        return train(client, spec, global, new float[0][], shard, optimizer, mu, config);
    }

    /**
     * Trains from the global model and returns the change (local − global).
     *
     * @param tables the global embedding tables, [t] = table t row-major (read only; the client trains a copy)
     * @param mu     the FedProx proximal coefficient (0: plain FedAvg local training)
     */
    static Update train(int client, ModelSpec spec, float[] global, float[][] tables, InMemorySource shard, OptimizerSpec optimizer,
                        double mu, TrainerConfig config) throws InterruptedException {
        Model model = spec.build();
        float[] params = model.dense().data();
        System.arraycopy(global, 0, params, 0, global.length);
        DenseOptimizer opt = optimizer.dense(params.length);
        if (mu > 0) opt = new Proximal(opt, global, (float) mu);
        long[][] shapes = spec.embeddingShapes();
        if (tables.length != shapes.length) throw new IllegalArgumentException(tables.length + " global tables for a model of " + shapes.length);
        LocalEmbeddingStore local = new LocalEmbeddingStore(shapes, new float[shapes.length], 0, EmbeddingOptimizerSpec.defaultFor(optimizer));
        for (int t = 0; t < shapes.length; t++) {
            float[] mine = local.table(t);
            if (tables[t].length != mine.length) throw new IllegalArgumentException("global table " + t + " of " + tables[t].length + " values for a table of " + mine.length);
            System.arraycopy(tables[t], 0, mine, 0, mine.length);
        }
        Touching store = new Touching(local, tables, (float) mu);
        TrainResult r = new Trainer(client, model, store, opt, shard, config).run();
        float[] delta = new float[params.length];
        for (int i = 0; i < delta.length; i++) delta[i] = params[i] - global[i];
        RowDelta[] rows = new RowDelta[shapes.length];
        for (int t = 0; t < rows.length; t++) rows[t] = store.change(t);
        return new Update(client, delta, rows, r.examples(), r.trainLoss());
    }

    /**
     * A client's copy of the tables, marking every row a gradient is pushed to and adding FedProx's term to the
     * gradient. Hogwild workers push at once: a row's mark is a plain boolean written true by any of them (a lost
     * race still writes true); the proximal term is added in the worker's own gradient buffer, as {@link Proximal}
     * does for the dense parameters.
     */
    static final class Touching extends ForwardingEmbeddingStore {
        private final LocalEmbeddingStore local;
        private final float[][] anchor;
        private final float mu;
        private final boolean[][] touched;
        /** Per worker thread and table: the push call that last added the proximal term to each row, and its count. */
        private final ThreadLocal<int[][]> stamps;
        private final ThreadLocal<int[]> calls = ThreadLocal.withInitial(() -> new int[1]);

        Touching(LocalEmbeddingStore local, float[][] anchor, float mu) {
            super(local);
            this.local = local;
            this.anchor = anchor;
            this.mu = mu;
            touched = new boolean[local.numTables()][];
            for (int t = 0; t < touched.length; t++) touched[t] = new boolean[Math.toIntExact(local.rows(t))];
            int tables = touched.length;
            stamps = ThreadLocal.withInitial(() -> new int[tables][]);
        }

        @Override
        public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
            boolean[] mark = touched[table];
            int dim = local.dim(table);
            float[] w = local.table(table), w0 = anchor[table];
            int[] seen = null;
            int call = 0;
            if (mu > 0) {
                int[][] mine = stamps.get();
                if (mine[table] == null) mine[table] = new int[mark.length];
                seen = mine[table];
                call = ++calls.get()[0];
            }
            for (int j = 0; j < n; j++) {
                int id = ids[idOff + j];
                if (id < 0 || id >= mark.length) break; // the store refuses it below, naming the table and id
                mark[id] = true;
                if (seen != null && seen[id] != call) { // once per row per push, however often the batch repeats it
                    seen[id] = call;
                    for (int k = 0, g = gradOff + j * dim, r = id * dim; k < dim; k++) grads[g + k] += mu * (w[r + k] - w0[r + k]);
                }
            }
            local.push(table, ids, idOff, n, grads, gradOff);
        }

        /** Table t's change on the rows pushed to, in ascending row order; read after training ended. */
        RowDelta change(int t) {
            boolean[] mark = touched[t];
            int dim = local.dim(t), m = 0;
            int[] ids = new int[mark.length];
            for (int r = 0; r < mark.length; r++) if (mark[r]) ids[m++] = r;
            ids = Arrays.copyOf(ids, m);
            float[] w = local.table(t), w0 = anchor[t];
            float[] values = new float[m * dim];
            for (int j = 0; j < m; j++) {
                for (int k = 0, r = ids[j] * dim; k < dim; k++) values[j * dim + k] = w[r + k] - w0[r + k];
            }
            return new RowDelta(ids, values);
        }
    }

    /**
     * FedProx's local objective F(w) + μ/2·‖w − w_global‖²: adds its gradient μ·(w − w_global) to the worker's
     * gradient (the worker's own buffer, which it rewrites at its next batch) and lets the client's optimizer apply
     * the sum. Racy across Hogwild workers as the wrapped optimizer is; the global model is read only.
     */
    static final class Proximal implements DenseOptimizer {
        private final DenseOptimizer inner;
        private final float[] anchor;
        private final float mu;

        Proximal(DenseOptimizer inner, float[] anchor, float mu) {
            this.inner = inner;
            this.anchor = anchor;
            this.mu = mu;
        }

        @Override
        public void step(float[] params, float[] grad, int n) {
            for (int i = 0; i < n; i++) grad[i] += mu * (params[i] - anchor[i]);
            inner.step(params, grad, n);
        }

        @Override
        public float[][] state() {
            return inner.state();
        }

        @Override
        public long steps() {
            return inner.steps();
        }
    }
}
