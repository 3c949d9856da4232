/**
 * Optimizers, applied in place. Dense: {@link DenseOptimizer}, implemented by {@link Sgd} (heavy-ball or Nesterov
 * momentum), {@link Adagrad} and {@link Adam}, each with optional L2 weight decay; {@link OptimizerSpec} names one and
 * its settings and makes one instance per parameter replica, because an instance holds that replica's state (momentum,
 * accumulators). Sparse: {@link RowOptimizer} applies gradient rows to the embedding rows a batch touched, with
 * {@link RowSgd} or {@link RowwiseAdagrad} (one accumulator per row, not per element); {@link EmbeddingOptimizerSpec}
 * makes one per table. Specs are validated at construction, so a bad setting fails before training starts;
 * {@code state()} exposes the optimizer state that checkpoints save and restore.
 *
 * <p>Sharing: {@code step} and {@code applyRows} are called by all Hogwild workers of a replica at once, without locks.
 * Concurrent read-modify-writes of a parameter and its state may lose an update; that race is the Hogwild algorithm,
 * kept on purpose (Adam's step counter is the one atomic). This package uses only {@code kernels}. Start with
 * {@link DenseOptimizer} and {@link Sgd}.
 */
package io.shadowsync.optim;
