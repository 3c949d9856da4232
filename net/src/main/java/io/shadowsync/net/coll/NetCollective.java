package io.shadowsync.net.coll;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.RingCollective;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Collectives among ranks in different processes: the same ring algorithms as {@link InProcessCollectives} (the
 * same {@link RingCollective} schedule and float arithmetic, so the same bits for the same N, length and inputs),
 * run over one connection pair from each rank to its right neighbour: a gRPC stream for control and a raw TCP
 * connection for the messages ({@link DataPlane#SOCKET}, the default; under TLS the messages stay on the stream). Every rank of a group calls {@link #join} with the
 * same group name and the same list of addresses, where {@code rankAddresses.get(r)} is the process that hosts rank
 * r (several ranks may share a process, and a process may host ranks of several groups).
 * <pre>
 *   RingEndpoint ring = new RingEndpoint();                       // one per process
 *   Server server = transport.serve(port, List.of(ring, ...));     // its address is rankAddresses.get(rank)
 *   try (Collective c = NetCollective.join(transport, ring, "trainers", rank, membership.trainers(),
 *                                          Duration.ofMinutes(5))) {
 *       c.allReduce(snapshot, 0, snapshot.length, Collective.ReduceOp.MEAN);
 *   }
 * </pre>
 * {@code join} does not wait for the others: it opens this rank's stream and returns, and the first operation waits
 * (at most the timeout) for the neighbours to come. So the ranks of one process may join one after another on one
 * thread before any of them runs an operation.
 *
 * <p>Failure: a rank whose operation fails (a mismatch, a timeout, an interrupt, a neighbour gone) fails the group,
 * and the failure travels around the ring both ways, so every rank blocked in an operation wakes with an exception
 * saying which rank failed, at which address, and why. A neighbour that vanishes (killed, connection lost, keepalive
 * failed: within seconds by {@code NetConfig.keepalive}) fails the rank that next needs it with
 * {@code "rank 2 at 127.0.0.1:40123 vanished during allReduce: ..."}. {@link Collective#close()} is graceful, as in
 * process: the right neighbour still gets what was sent, a sender to the closed rank fails; it returns when the
 * right neighbour has read everything (at most the timeout) and the rank's channel is shut down.
 */
public final class NetCollective {
    /**
     * 1 MiB of floats per message: each message costs gRPC a flush, a wake-up of each side's event loop and of the
     * receiving rank, so on loopback 256 KiB messages (the in-process default) took about 30% more CPU per byte
     * (AllReduceBench); results do not depend on it.
     */
    public static final int DEFAULT_CHUNK_FLOATS = 256 * 1024;
    /** Messages in flight per stream (8 MiB at the default chunk): keeps a link busy while the receiver adds. */
    public static final int DEFAULT_WINDOW = 8;

    private NetCollective() {}

    /** Joins {@code group} as {@code rank} with the default chunk size and window. */
    public static Collective join(Transport transport, RingEndpoint local, String group, int rank,
                                  List<HostPort> rankAddresses, Duration timeout) {
        return join(transport, local, group, rank, rankAddresses, timeout, DEFAULT_CHUNK_FLOATS, DEFAULT_WINDOW);
    }

    /**
     * @param transport     makes the channel to the right neighbour (credentials, TLS, keepalive)
     * @param local         this process's endpoint, served by its gRPC server
     * @param group         the group's name, the same on every rank and unique among the job's groups
     * @param rank          this rank, in [0, rankAddresses.size())
     * @param rankAddresses the address of the process hosting each rank, the same list on every rank
     * @param timeout       how long a rank waits for one neighbour without progress before it gives up
     * @param chunkFloats   most floats per message, the same on every rank (results do not depend on it)
     * @param window        messages a rank may send ahead of those it has received, at least 1
     */
    public static Collective join(Transport transport, RingEndpoint local, String group, int rank,
                                  List<HostPort> rankAddresses, Duration timeout, int chunkFloats, int window) {
        return join(transport, local, group, rank, rankAddresses, timeout, chunkFloats, window, Codec.FLOAT32);
    }

    /**
     * As {@link #join(Transport, RingEndpoint, String, int, List, Duration, int, int)}, with the job's codec for the
     * float messages (the same on every rank; {@link Codec#FLOAT32} sends the bytes the ring always sent).
     */
    public static Collective join(Transport transport, RingEndpoint local, String group, int rank,
                                  List<HostPort> rankAddresses, Duration timeout, int chunkFloats, int window, Codec codec) {
        return join(transport, local, group, rank, rankAddresses, timeout, chunkFloats, window, codec, DataPlane.SOCKET);
    }

    /**
     * Where a rank sends its messages. The control stream (the rendezvous of two neighbours, aborts, the goodbye,
     * noticing a vanished peer) is always the gRPC stream; this chooses the data.
     */
    public enum DataPlane {
        /**
         * A raw TCP connection to the right neighbour's data port, proved by the job's token ({@code SocketPlane}):
         * the default. A job under TLS stays on gRPC (the neighbour offers no data port), and so does a link whose
         * data port cannot be reached (with a log line).
         */
        SOCKET,
        /** The gRPC stream itself, as before the data plane (what AllReduceBench compares against). */
        GRPC
    }

    /** As the join above, choosing where this rank sends its messages; the receiving side takes either. */
    public static Collective join(Transport transport, RingEndpoint local, String group, int rank, List<HostPort> rankAddresses,
                                  Duration timeout, int chunkFloats, int window, Codec codec, DataPlane plane) {
        Objects.requireNonNull(plane, "data plane");
        Objects.requireNonNull(codec, "codec");
        Codec job = codec;
        codec = codec.linkCodec(); // the ring's float messages; a message codec's messages travel as bytes
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(local, "ring endpoint");
        if (group == null || group.isEmpty()) throw new IllegalArgumentException("a collective group needs a name");
        if (rankAddresses == null || rankAddresses.isEmpty()) {
            throw new IllegalArgumentException("group '" + group + "' needs the address of every rank; got none");
        }
        List<HostPort> addresses = List.copyOf(rankAddresses);
        if (rank < 0 || rank >= addresses.size()) {
            throw new IllegalArgumentException("rank " + rank + " is not in 0.." + (addresses.size() - 1) + " (group '"
                    + group + "' has " + addresses.size() + " ranks)");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the collective timeout must be positive, got " + timeout);
        }
        int maxChunk = (transport.config().maxMessageBytes() - 1024) / codec.bytesPerValue();
        if (chunkFloats < 1 || chunkFloats > maxChunk) {
            throw new IllegalArgumentException("chunkFloats " + chunkFloats + " is not in 1.." + maxChunk
                    + ": a message must fit the transport's limit of " + transport.config().maxMessageBytes() + " bytes");
        }
        if (window < 1) throw new IllegalArgumentException("a rank must be allowed at least 1 message in flight, got " + window);
        long timeoutNanos;
        try {
            timeoutNanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            timeoutNanos = Long.MAX_VALUE;
        }
        // two messages may wait in gRPC beside the one being written, so the sender rarely waits for on-ready; the
        // receiver re-asks for frames two at a time and relies on this for its one held-back frame (NetRingLink.release)
        int onReady = (int) Math.min(Integer.MAX_VALUE, 2 * codec.encodedBytes(chunkFloats) + 1024);
        NetRingLink link = new NetRingLink(transport, local, group, rank, addresses, timeoutNanos, window, onReady, codec,
                Math.toIntExact(codec.encodedBytes(chunkFloats)), plane == DataPlane.SOCKET);
        if (addresses.size() > 1) {
            try {
                local.openDataPort(transport);
                local.register(link);
            } catch (RuntimeException e) {
                link.close();
                throw e;
            }
        }
        return new RingCollective(rank, addresses.size(), chunkFloats, link, job);
    }
}
