/**
 * Federated training with its clients in separate processes over the job's gRPC transport:
 * {@link io.shadowsync.net.fed.FederationServer} (the coordinator, the global model, the round loop of
 * {@link io.shadowsync.fed.Federation}) and {@link io.shadowsync.net.fed.ClientProcess} (the clients whose shards one
 * process holds: client k lives in process k mod P). The server calls the clients' steps
 * ({@link io.shadowsync.net.fed.RemoteClients}, a {@link io.shadowsync.fed.ClientPool}); a client that does not answer
 * — a killed process, a round deadline passed — has dropped out of that round, and the round closes with those that
 * reported. Secure aggregation's keys and sealed shares pass through the server. The CLI's {@code federate --local P}
 * and {@code federate-client} are adapters over these classes.
 */
package io.shadowsync.net.fed;
