/**
 * The model seam and the layers models are built from. {@link Model} runs forward and backward of one
 * {@link io.shadowsync.data.Batch} into a per-worker {@link Workspace}; its dense parameters are one
 * {@link ParameterSet} (a single contiguous {@code float[]} with a named view per tensor, so that averaging, an
 * allreduce or a checkpoint touches one array), and its embedding tables live behind an {@link EmbeddingStore}: rows
 * are pulled, and row gradients pushed to the store, whose sparse optimizer applies them. {@link LocalEmbeddingStore}
 * holds the tables in the trainer itself; {@link ShardedTables} gives the layout and initial values of tables split
 * over parameter-server shards (row r on shard r mod S), so that the in-process and networked servers hold exactly what
 * a local store would; {@link ForwardingEmbeddingStore} is the base of stores that wrap another, and {@link RowBytes}
 * counts the row values a store moved. The layers are {@link Linear}, {@link MlpStack}, {@link Activation}, {@link EmbeddingBag} and
 * {@link DotInteraction}; the losses {@link BceWithLogits}, {@link SoftmaxCrossEntropyLoss} and {@link Mse};
 * {@link Init} seeds each tensor from (model seed, tensor name).
 *
 * <p>Sharing: layers are immutable (they remember offsets into the parameter set, not values) and shared by all workers
 * of a trainer; per-worker activations and gradients live in the worker's own workspace (and {@link MlpStack.Scratch}),
 * never shared. The parameter array and the embedding rows are read and written by Hogwild workers without locks: that
 * race is intended and documented on {@link ParameterSet} and {@link EmbeddingStore}. This package uses
 * {@code kernels}, {@code optim} (the row optimizers a local store applies) and {@code data} (the batch); the concrete
 * models are in {@code io.shadowsync.model}. Start with {@link Model}, {@link ParameterSet} and {@link EmbeddingStore},
 * then {@link Linear}.
 */
package io.shadowsync.nn;
