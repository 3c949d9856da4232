/**
 * The gRPC side of shadowsync: what every server and channel shares, and a trainer process's view of a multi-process
 * job. {@link Transport} builds every gRPC server and channel of the job from a {@link NetConfig}: the bind policy
 * (loopback unless the job is authenticated), the shared-token check on every call (in constant time), mutual TLS,
 * keepalives that notice a vanished peer within seconds, and message size limits; {@link HostPort} is an address.
 * {@link NetCluster} implements core's {@link io.shadowsync.engine.Cluster} for one trainer process: embedding tables
 * and the dense server on the parameter-server processes ({@code io.shadowsync.net.ps}), the trainer, worker and
 * control groups as gRPC rings ({@code io.shadowsync.net.coll}), and the addresses from the rendezvous or the elastic
 * trainer group ({@code io.shadowsync.net.rdv}). The messages are defined by the {@code .proto} files of this module,
 * compiled into {@code io.shadowsync.net.proto}. {@code io.shadowsync.net.run} holds the processes of a job as library
 * classes — a trainer ({@code TrainerProcess}: bind, placement, this cluster, training, checkpoints, the leader's
 * summary, evaluation and saving) and a parameter-server shard ({@code ServerProcess}) — so that the CLI, a Spark task
 * and a Java program run the same life. {@code io.shadowsync.net.fed} runs a federation's clients as processes (core's
 * {@code ClientPool} over gRPC).
 *
 * <p>Contracts: authentication and TLS are checked at the edge, in the transport, so a service handler sees only calls
 * that passed and deals with parameters alone. This module depends on {@code core} and grpc-java; nothing in
 * {@code core} refers to it: it plugs into core's interfaces ({@code Cluster}, {@code Collective}, {@code RingLink},
 * {@code ElasticGroup}, {@code EmbeddingStore}, {@code DenseParameterServer}). A process binds before it learns the
 * others' addresses (a {@code Placement}), so that ports may be chosen free and the addresses gathered however the
 * deployment can (fixed lists, a coordinator, one Spark gather); nothing process-global (a shutdown hook, an exit)
 * happens unless the caller asks. Start with {@link Transport}, then {@link NetCluster}, then {@code run}.
 */
package io.shadowsync.net;
