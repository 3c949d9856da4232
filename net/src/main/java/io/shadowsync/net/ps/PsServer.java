package io.shadowsync.net.ps;

import io.grpc.BindableService;
import io.grpc.Server;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.ReplicaStats;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.ShardStats;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
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
 * <p><b>Replication</b> ({@code replicas} R &gt; 1, {@link #start(Transport, int, PsShardSpec, int)}): node
 * p holds R replicas ({@link Replica}): shard p at chain position 0 (its primary at the start) and shards p−1, ...,
 * p−R+1 (mod S) at positions 1 .. R−1, each a full copy of the shard's rows, optimizer state and dense block. A
 * client's push goes to the shard's primary, which applies it, copies it to the shard's live backups and answers
 * when all of them have it; pushes carry (client, seq) and every replica applies each once. A client that cannot
 * reach the primary sends the same call to the next position, which then takes over. The node must be told every
 * node's address ({@link #connectReplicas}) before it can forward; a push that comes first waits for it (bounded).
 *
 * <p>Sharing contract: thread-safe. Embedding rows follow the Hogwild rules of {@code LocalEmbeddingStore}
 * (concurrent pulls and pushes without locks); the dense block is read and updated under its lock.
 */
public final class PsServer implements AutoCloseable {
    private final PsShardSpec spec;
    /** Replica k holds shard (node − k) mod S at chain position k; [0] is the node's own shard. */
    private final Replica[] replicas;
    private final ServerCounters counters = new ServerCounters();
    /** What Describe answers; the row lane's port and ticket are added once it is open. */
    private volatile ShardInfo info;
    /** The route of a call that carries none: the node's own shard, position 0 (unreplicated clients). */
    private final Route ownRoute;
    private final Forwarder forwarder;
    private final ShardCheckpoints checkpoints;
    private volatile Server server;
    private volatile boolean shutdownRequested;
    /** The row handlers, whose open streams a stop ends. */
    private PsServices.Embeddings embeddings;
    /** The raw TCP port for trainers' rows; null under TLS (or when none could be opened). */
    private RowLaneServer lane;
    /** Why the node stopped serving rows (a stop, a shutdown, a crash), or null while it serves: {@link DirectWire}s fail then. */
    private volatile String stopped;

    private PsServer(Transport transport, PsShardSpec spec, int r) {
        int maxMessageBytes = transport.config().maxMessageBytes();
        this.spec = spec;
        this.replicas = new Replica[r];
        for (int k = 0; k < r; k++) {
            int shard = Math.floorMod(spec.shard() - k, spec.shards());
            replicas[k] = new Replica(spec.forShard(shard), k, r, maxMessageBytes);
        }
        this.info = PsServices.info(replicas[0].slices, replicas[0].dense, spec, maxMessageBytes).toBuilder()
                .setReplicas(r).build();
        this.ownRoute = Route.newBuilder().setShard(spec.shard()).build();
        this.forwarder = r > 1 ? new Forwarder(transport, spec.shard(), spec.shards(), counters) : null;
        this.checkpoints = new ShardCheckpoints(replicas[0].slices, replicas[0].dense, spec.shard(), counters);
    }

    /**
     * Builds the node's parameters (the tables' initial rows, the dense block) and starts serving them.
     *
     * @param port the port to listen on, on the transport's bind address; 0 picks a free one ({@link #port()})
     * @throws IOException           when the port cannot be bound
     * @throws IllegalStateException when the bind address is not loopback and neither a token nor TLS is set
     */
    public static PsServer start(Transport transport, int port, PsShardSpec spec) throws IOException {
        return start(transport, port, spec, 1);
    }

    /**
     * As {@link #start(Transport, int, PsShardSpec)}, holding {@code replicas} replicas (see the class comment); with
     * more than one, call {@link #connectReplicas} once the job's node addresses are known.
     *
     * A change of a replica's role (a takeover, a backup dropped) is logged at INFO, naming the shard, the positions
     * and the addresses.
     *
     * @param replicas R, the copies of every shard in the job, in [1, spec.shards()]
     */
    public static PsServer start(Transport transport, int port, PsShardSpec spec, int replicas) throws IOException {
        if (transport == null || spec == null) {
            throw new IllegalArgumentException("a transport and a shard spec are required");
        }
        if (replicas < 1 || replicas > spec.shards()) {
            throw new IllegalArgumentException("the replicas of a shard must be between 1 and the " + spec.shards()
                    + " parameter-server nodes (each node holds at most one replica of a shard), got " + replicas);
        }
        PsServer ps = new PsServer(transport, spec, replicas);
        ps.embeddings = new PsServices.Embeddings(ps);
        ps.lane = RowLaneServer.open(transport, ps.embeddings, spec.shard(), spec.shards(), replicas > 1);
        if (ps.lane != null) {
            ps.info = ps.info.toBuilder().setDataPort(ps.lane.port())
                    .setDataTicket(com.google.protobuf.ByteString.copyFrom(ps.lane.ticket())).build();
        }
        BindableService rows = ps.embeddings, dense = new PsServices.Dense(ps);
        if (replicas > 1) {
            // not inline: a primary's first push may wait (bounded) for connectReplicas on a handler thread
            BindableService r = rows, d = dense;
            rows = r::bindService;
            dense = d::bindService;
        }
        try {
            ps.server = transport.serve(port, List.of(rows, dense, new PsServices.Admin(ps), ps.checkpoints), List.of(ps.counters.tracerFactory()));
        } catch (IOException | RuntimeException e) {
            if (ps.lane != null) ps.lane.close();
            throw e;
        }
        if (ps.shutdownRequested) ps.server.shutdown();
        return ps;
    }

    /**
     * Gives a replicating node every node's address, in shard order (its own included), so that its primaries can
     * forward to their backups. Called once, after the job's rendezvous.
     *
     * @throws IllegalStateException when the node holds one replica (nothing to forward) or was connected already
     */
    public void connectReplicas(List<HostPort> nodes) {
        if (forwarder == null) throw new IllegalStateException("shard " + shard() + " is not replicated (1 replica): it forwards to no one");
        forwarder.connect(nodes);
    }

    /** R, the replicas of every shard of the job (1: unreplicated). */
    public int replicas() {
        return replicas.length;
    }

    /** Each replica this node holds, as it sees itself now: its own shard first, then shard−1, ... */
    public List<ReplicaStats> replicaStats() {
        List<ReplicaStats> out = new ArrayList<>(replicas.length);
        for (Replica r : replicas) out.add(r.stats());
        return out;
    }

    /** The replica a call is for (its route, or the node's own shard when it carries none). */
    Replica replica(Route route) throws Refused {
        int s = route.getShard(), shards = spec.shards();
        if (s < 0 || s >= shards) {
            throw new Refused(Refusal.NO_SUCH_REPLICA, "a call for shard " + Integer.toUnsignedString(s) + " of a job of "
                    + shards + " shards");
        }
        int k = Math.floorMod(spec.shard() - s, shards);
        if (k >= replicas.length) {
            throw new Refused(Refusal.NO_SUCH_REPLICA, "a call for shard " + s + ": node " + spec.shard() + " holds replicas of "
                    + "shards " + spec.shard() + (replicas.length > 1 ? " to " + Math.floorMod(spec.shard() - replicas.length + 1, shards)
                    + " (counting down)" : " only") + " (do the client's shard addresses list the servers in shard order?)");
        }
        return replicas[k];
    }

    Route ownRoute() {
        return ownRoute;
    }

    /** Null for an unreplicated node. */
    Forwarder forwarder() {
        return forwarder;
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
        endRows("the parameter server is stopping");
        try {
            if (!s.awaitTermination(5, TimeUnit.SECONDS)) {
                s.shutdownNow();
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            s.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            if (forwarder != null) forwarder.close();
        }
    }

    /** The node's checkpoint service ({@code ckpt.proto}): give it the job's checkpoint directory to enable it. */
    public ShardCheckpoints checkpoints() {
        return checkpoints;
    }

    /**
     * Stops at once, as a crash would (tests, and the chaos harness in one JVM): calls in flight are cancelled, new
     * ones refused at the socket. The node's replicas are lost to the job, which goes on with their copies elsewhere.
     */
    public void crash() {
        stopped = "the parameter server crashed";
        if (lane != null) lane.close();
        server.shutdownNow();
        if (forwarder != null) forwarder.close();
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
        for (Replica r : replicas) b.addReplicas(r.stats());
        return b.build();
    }

    /** The admin Shutdown call: stop taking calls; those in flight (the Shutdown call itself) finish. */
    void requestShutdown() {
        shutdownRequested = true;
        Server s = server;
        if (s != null) s.shutdown();
        endRows("the parameter server is shutting down");
    }

    /** Ends the trainers' row streams and closes the row lane (its connections too): a stop does not wait for them. */
    private void endRows(String why) {
        stopped = why;
        embeddings.endStreams(why);
        if (lane != null) lane.close();
    }

    /** The row lane's port, or 0 when the node has none (under TLS). */
    public int lanePort() {
        return lane == null ? 0 : lane.port();
    }

    /** The row handlers ({@link DirectWire} calls them in the caller's thread). */
    PsServices.Embeddings embeddings() {
        return embeddings;
    }

    /** Why the node no longer serves rows, or null while it does. */
    String stopped() {
        return stopped;
    }

    /** Test hook: the trainers' gRPC row streams open now. */
    int grpcRowStreams() {
        return embeddings.openStreams();
    }

    /** Test hook: the row lane (null under TLS). */
    RowLaneServer lane() {
        return lane;
    }

    /** Test hook: the embedding slices of the node's own shard. */
    EmbeddingSlices slices() {
        return replicas[0].slices;
    }

    /** Test hook: the dense block of the node's own shard. */
    DenseBlock dense() {
        return replicas[0].dense;
    }

    /** Test hook: replica k (shard node − k). */
    Replica replicaAt(int k) {
        return replicas[k];
    }
}
