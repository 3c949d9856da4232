/**
 * Parameter servers over gRPC (control, checkpoints, replication) and raw TCP row lanes (the trainers' rows). A {@link
 * PsServer} node holds embedding shard s of every table (row r where r mod S = s) and block s of the dense vector, as
 * its {@link PsShardSpec} says, optionally with R replicas of each shard in a chain (primary and backups; the
 * package-private {@code Replica} and {@code Forwarder}). Trainers reach the nodes through {@link
 * RemoteEmbeddingStore} (an {@link io.shadowsync.nn.EmbeddingStore}: a persistent connection per client thread and
 * shard, {@code RowStreams} — on the node's raw TCP row lane ({@code LaneWire} to {@code RowLaneServer}, binary {@code
 * RowFrames}, the ring data plane's handshake), a gRPC stream, or for a node in the trainer's own JVM its handlers
 * called directly ({@code DirectWire}; the wires' common bookkeeping is {@code WireCalls}) — or the unary calls of {@code RowTraffic}, both
 * {@code RowCalls}; one request per shard per round trip, a step's pushes sent together at its end and acknowledged in
 * the background, the next step's rows requested a step ahead by {@code LanePulls}, repeated ids sent once, failover
 * to the next replica) and {@link RemoteDenseServer} (a {@link io.shadowsync.comm.DenseParameterServer}); {@link
 * TableSnapshot} is a local read-only copy of the final tables. {@link PsAdmin} asks nodes what they hold and their
 * counters, and shuts them down; {@link ShardCheckpoints} (server) and {@link PsCheckpointClient} (trainer 0) write
 * and load the servers' parts of a multi-process checkpoint. A failed call throws {@link ParameterServerException},
 * naming the shard and its address; a server's refusal carries a {@link Refusal}.
 *
 * <p>Contracts: every message is checked whole (tables, lengths, id ranges, shard ownership, finite values, size caps)
 * before it touches parameters; a bad one is refused with a status that says what is wrong, counted, and changes
 * nothing, and the node keeps serving. Nodes start from exactly the values a
 * {@link io.shadowsync.nn.LocalEmbeddingStore} of the same shapes, standard deviations and seed holds and apply pushes
 * in order with the same optimizer, so the rows have the same bits as on a local store. On a node, embedding rows keep
 * the Hogwild rules (concurrent pulls and pushes without locks, racing on purpose) while each dense block is read and
 * updated under its lock; with replicas, each client's pushes carry (client, seq) and are applied once by every
 * replica. The clients are thread-safe, with per-thread buffers. Start with {@link PsServer}, then
 * {@link RemoteEmbeddingStore}.
 */
package io.shadowsync.net.ps;
