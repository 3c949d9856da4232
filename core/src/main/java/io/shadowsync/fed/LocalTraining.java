package io.shadowsync.fed;

import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.Trainer;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.OptimizerSpec;

/**
 * A client's local training of one round: a fresh replica set to the global model, trained for E epochs over the
 * client's shard by the engine's own single {@link Trainer} (its Hogwild workers and step rule, the same code as
 * {@code shadowsync train} with one trainer), with a fresh optimizer (client optimizer state does not outlive a
 * round, as in FedAvg). With FedProx (Li et al. 2020) every step's gradient gets the proximal term μ·(w − w_global)
 * added before the optimizer applies it, which keeps the client near the global model on skewed data.
 *
 * <p>Threading: one call per client per round, on that client's thread; the global model is only read.
 */
final class LocalTraining {
    private LocalTraining() {}

    /** What a client sends back: its change of the model and how many examples it trained on. */
    record Update(int client, float[] delta, long examples, double trainLoss) {}

    /**
     * Trains from global and returns the change (local − global).
     *
     * @param mu the FedProx proximal coefficient (0: plain FedAvg local training)
     */
    static Update train(int client, ModelSpec spec, float[] global, InMemorySource shard, OptimizerSpec optimizer, double mu,
                        TrainerConfig config) throws InterruptedException {
        Model model = spec.build();
        float[] params = model.dense().data();
        System.arraycopy(global, 0, params, 0, global.length);
        DenseOptimizer opt = optimizer.dense(params.length);
        if (mu > 0) opt = new Proximal(opt, global, (float) mu);
        // dense-only models (Federation refuses others): the store holds no table
        TrainResult r = new Trainer(client, model, Federation.noTables(), opt, shard, config).run();
        float[] delta = new float[params.length];
        for (int i = 0; i < delta.length; i++) delta[i] = params[i] - global[i];
        return new Update(client, delta, r.examples(), r.trainLoss());
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
