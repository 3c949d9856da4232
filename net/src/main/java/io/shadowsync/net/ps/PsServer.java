package io.shadowsync.net.ps;

import io.grpc.Server;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.ShardStats;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One parameter-server node of a job: embedding shard {@code shard} of {@code shards} and dense block {@code shard}
 * of {@code shards} (see {@link PsShardSpec}), served over gRPC (services {@code EmbeddingShard}, {@code DenseShard}
 * and {@code PsAdmin} of {@code ps.proto}) on a server from {@link Transport}, which applies the bind policy, the
 * token or mutual TLS, and the message size limit. Trainers reach it through {@link RemoteEmbeddingStore} and
 * {@link RemoteDenseServer}.
 * <pre>
 *   PsServer ps = PsServer.start(new Transport(config), 7070, spec);   // port 0: a free one, see port()
 *   ps.awaitTermination();                                              // until PsAdmin.Shutdown or close()
 * </pre>
 * Every message is checked whole before it touches parameters; a bad one is answered with a status naming what is
 * wrong ({@link Refusal}), counted, and changes nothing; the node keeps serving.
 *
 * <p>Sharing contract: thread-safe. Embedding rows follow the Hogwild rules of {@code LocalEmbeddingStore}
 * (concurrent pulls and pushes without locks); the dense block is read and updated under its lock.
 */
public final class PsServer implements AutoCloseable {
    private final PsShardSpec spec;
    private final EmbeddingSlices slices;
    private final DenseBlock dense;
    private final ServerCounters counters = new ServerCounters();
    private final ShardInfo info;
    private final ShardCheckpoints checkpoints;
    private volatile Server server;
    private volatile boolean shutdownRequested;

    private PsServer(PsShardSpec spec, int maxMessageBytes) {
        this.spec = spec;
        this.slices = new EmbeddingSlices(spec, maxMessageBytes);
        this.dense = new DenseBlock(spec.denseInitial(), spec.shard(), spec.shards(), spec.denseOptimizer());
        this.info = PsServices.info(slices, dense, spec, maxMessageBytes);
        this.checkpoints = new ShardCheckpoints(slices, dense, spec.shard(), counters);
    }

    /**
     * Builds the node's parameters (the tables' initial rows, the dense block) and starts serving them.
     *
     * @param port the port to listen on, on the transport's bind address; 0 picks a free one ({@link #port()})
     * @throws IOException           when the port cannot be bound
     * @throws IllegalStateException when the bind address is not loopback and neither a token nor TLS is set
     */
    public static PsServer start(Transport transport, int port, PsShardSpec spec) throws IOException {
        if (transport == null || spec == null) throw new IllegalArgumentException("a transport and a shard spec are required");
        PsServer ps = new PsServer(spec, transport.config().maxMessageBytes());
        ps.server = transport.serve(port, List.of(new PsServices.Embeddings(ps.slices, ps.counters),
                new PsServices.Dense(ps.dense, ps.counters), new PsServices.Admin(ps), ps.checkpoints), List.of(ps.counters.tracerFactory()));
        if (ps.shutdownRequested) ps.server.shutdown();
        return ps;
    }

    /** The port the node listens on. */
    public int port() {
        return server.getPort();
    }

    public int shard() {
        return spec.shard();
    }

    public int shards() {
        return spec.shards();
    }

    /** Blocks until the server has stopped (an admin Shutdown call, or {@link #close}). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** As {@link #awaitTermination()}, at most {@code d}; true when the server has stopped. */
    public boolean awaitTermination(Duration d) throws InterruptedException {
        return server.awaitTermination(d.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Stops serving: calls in flight get up to 5 s to finish, then are cancelled. */
    @Override
    public void close() {
        Server s = server;
        s.shutdown();
        try {
            if (!s.awaitTermination(5, TimeUnit.SECONDS)) {
                s.shutdownNow();
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            s.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** The node's checkpoint service ({@code ckpt.proto}): give it the job's checkpoint directory to enable it. */
    public ShardCheckpoints checkpoints() {
        return checkpoints;
    }

    /** Calls served (refusals by handlers included; calls refused by the transport are not). */
    public long calls() {
        return counters.calls.sum();
    }

    public long rowsPulled() {
        return counters.rowsPulled.sum();
    }

    public long rowsPushed() {
        return counters.rowsPushed.sum();
    }

    public long densePulls() {
        return counters.densePulls.sum();
    }

    public long densePushes() {
        return counters.densePushes.sum();
    }

    /** Calls refused for the reason so far. */
    public long refused(Refusal reason) {
        return counters.refused(reason);
    }

    /** Refused calls by reason (every reason, zeros included). */
    public Map<Refusal, Long> refusals() {
        Map<Refusal, Long> m = new EnumMap<>(Refusal.class);
        for (Refusal r : Refusal.values()) m.put(r, counters.refused(r));
        return m;
    }

    ServerCounters counters() {
        return counters;
    }

    ShardInfo info() {
        return info;
    }

    ShardStats statsMessage() {
        ShardStats.Builder b = ShardStats.newBuilder().setCalls(calls()).setRowsPulled(rowsPulled())
                .setRowsPushed(rowsPushed()).setDensePulls(densePulls()).setDensePushes(densePushes());
        for (Refusal r : Refusal.values()) b.putRefused(r.name(), counters.refused(r));
        return b.build();
    }

    /** The admin Shutdown call: stop taking calls; those in flight (the Shutdown call itself) finish. */
    void requestShutdown() {
        shutdownRequested = true;
        Server s = server;
        if (s != null) s.shutdown();
    }

    /** Test hook: the node's embedding slices. */
    EmbeddingSlices slices() {
        return slices;
    }

    /** Test hook: the node's dense block. */
    DenseBlock dense() {
        return dense;
    }
}
