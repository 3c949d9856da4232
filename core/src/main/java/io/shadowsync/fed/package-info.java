/**
 * Federated training on the engine's own trainer: K simulated clients, each a private shard of the data, train a
 * shared model in rounds coordinated by a server that never sees their data.
 *
 * <p>{@link Federation} runs the rounds: the server samples clients, each sampled client trains E local epochs from
 * the global model with the engine's single-trainer code (a {@link io.shadowsync.engine.Trainer} with its Hogwild
 * worker; {@link LocalTraining}), sends its change, and the server combines the changes with an {@link Aggregation}
 * (FedAvg weighted by examples, coordinate-wise median, trimmed mean) and applies the result with a
 * {@link ServerOptimizer} (SGD or FedAdam). Models with embedding tables (LR, DLRM) send the rows they touched
 * ({@link RowDelta}), combined per row over the clients that touched them ({@link Aggregation#combineRows}); secure
 * aggregation masks their tables whole ({@link SecureLayout}). {@link ClientSplit} makes the non-IID shards (Dirichlet over labels,
 * quantity skew, one file per client). {@link GaussianPrivacy} clips each update and adds Gaussian noise to their sum,
 * and {@link RdpAccountant} reports the ε that buys; {@link SecureAggregation} masks each upload pairwise (X25519 key
 * agreement, fixed-point arithmetic modulo 2^64, {@link Shamir} shares to recover a dropped client's masks) so that the
 * server learns only the sum.
 *
 * <p>Where the clients run is a {@link ClientPool}: threads of this JVM ({@link Federation#localClients}), or client
 * processes (the {@code net} module's); either way a client's side of a round is {@link FederatedClient} and its part
 * of secure aggregation {@link SecureClient}, whose messages the server only routes.
 *
 * <p>Threading: the clients of a round train, clip and mask their updates at once (each client's trainer runs its own
 * worker threads); everything the server keeps — the global model, the server optimizer's state, the accountant — is
 * touched by the thread that called {@link Federation#run} only.
 */
package io.shadowsync.fed;
