/**
 * How trainers talk to each other and to parameter servers: the interfaces, and their implementations among the threads
 * of one JVM. {@link Collective} is one rank's handle for allReduce, broadcast, allGather and barrier;
 * {@link RingCollective} runs the ring algorithms over a {@link RingLink} (a rank's two ring connections), and
 * {@link InProcessCollectives} builds a group of N ranks whose links are bounded mailboxes between threads.
 * {@link ElasticGroup} is a collective whose members may change between operations; when an operation cannot simply run
 * again over the new members it throws {@link GroupChangedException}. Parameter servers: {@link DenseParameterServer}
 * (the EASGD center, or the model of asynchronous SGD) with {@link InProcessDenseServer}, and
 * {@link ShardedEmbeddingServer}, whose clients are {@link io.shadowsync.nn.EmbeddingStore}s the models use unchanged.
 * Besides the float operations, a {@code Collective} has a typed control channel ({@link Collective#allReduceLongs},
 * exact; {@link Collective#allGatherBytes}, e.g. UTF-8 text; {@link Collective#allGatherLongs}) for counts, flags,
 * sequence numbers and reasons, which never go through a float, and a pairwise {@link Collective#exchange} with a
 * chosen peer (a collective call over a symmetric pairing, so it cannot deadlock; on the built-in transports each pair
 * swaps its vectors on a direct channel of its own, {@link RingLink#direct}). {@link BlockEncoders} encode a push to a
 * dense server block by block, as the server's nodes hold it. {@link Codec} is how float
 * values become bytes on the wire, chosen per job ({@link Codec#FLOAT32}, the identity, by default; fp16 and bf16 ride
 * the ring hop by hop, int8 and top-k are whole messages that {@link Collective#allReduceEncoded} gathers and sums in
 * rank order, and a {@link Codec.Encoder} holds a sender's state, such as top-k's error-feedback residual); byte
 * counters count encoded bytes, and control values never meet a codec. Embedding rows have their own, stateless
 * {@link RowCodec} (a row is one message; the servers keep float32), which {@link CodedRows} applies in process.
 * {@link LinkModel} and {@link EmulatedLink} make in-process messages cost the bandwidth and latency of a network by
 * sleeping, not by burning CPU.
 *
 * <p>Contracts: every rank of a group calls the same operations in the same order with the same lengths, and a
 * {@code Collective} handle is used by one thread at a time. The ring schedule and its fixed summation order live in
 * {@code RingCollective}, so every transport gives every rank the same float bits, run after run. An exception or a
 * {@link CollectiveTimeoutException} in one rank fails the whole group, so no other rank hangs. The servers are
 * thread-safe: dense pushes are applied atomically per shard and never lost, and embedding rows keep the Hogwild rules
 * of a local store (lock-free pulls and pushes that race on purpose). This package uses {@code nn} and {@code optim}
 * and knows nothing of gRPC; the {@code net} module implements the same interfaces across processes. Start with
 * {@link Collective}, then {@link RingCollective} and {@link InProcessCollectives}.
 */
package io.shadowsync.comm;
