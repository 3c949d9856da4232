/**
 * The models shadowsync trains, each with the immutable spec that rebuilds it: {@link LogisticRegression} on hashed
 * features ({@link LrSpec}; the weights are a one-column embedding table, the bias the only dense parameter),
 * {@link MlpModel} on dense features for multiclass, binary or regression tasks ({@link MlpSpec}), and {@link Dlrm}, a
 * bottom MLP, one embedding table per categorical field, pairwise-dot interaction and a top MLP ({@link DlrmSpec}). A
 * spec is a record implementing {@link io.shadowsync.nn.ModelSpec}: it checks its settings, {@code build()} makes the
 * model, and {@code toProperties()} writes the string properties that model files store, which
 * {@link Models#fromProperties} turns back into the spec.
 *
 * <p>Sharing: a model is stateless apart from its dense {@link io.shadowsync.nn.ParameterSet} (the trainer's replica),
 * so all workers of a trainer call one model at once, each with the workspace it got from {@code newWorkspace};
 * embedding tables are reached only through the {@link io.shadowsync.nn.EmbeddingStore} passed to each call, so the
 * same model runs on local tables or on parameter servers. Built on {@code nn}, {@code kernels} and {@code data}. Start
 * with {@link LogisticRegression} (the smallest), then {@link Dlrm}.
 */
package io.shadowsync.model;
