package io.shadowsync.net.coll;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.RingAccept;
import io.shadowsync.net.proto.RingFrame;
import io.shadowsync.net.proto.RingGrpc;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The receiving end of every ring stream into one process: serve one per process (next to its other services,
 * through {@code Transport.serve}) and pass it to every {@link NetCollective#join} of that process. It hosts any
 * number of ranks of any number of groups (sync SGD's N·W ranks, W per process, beside the N-rank trainer group),
 * and routes each incoming stream by the (group, rank) its first frame names. A stream that comes before its rank
 * has joined waits, unread, until the rank joins (or its sender gives up); a stream for a rank that has left, or a
 * second stream for one rank, is refused with a status that says why.
 * <pre>
 *   RingEndpoint ring = new RingEndpoint();
 *   Server server = transport.serve(port, List.of(ring));
 *   Collective c = NetCollective.join(transport, ring, "trainers", rank, trainerAddresses, timeout);
 * </pre>
 * It also holds the process's data port ({@link SocketPlane}): opened on the first join (unless the job uses TLS), on
 * the transport's bind address, and offered to every left neighbour in the accept of its stream. Refused data
 * connections are logged, one line each naming the peer, to the log given at construction (standard error by default).
 *
 * <p>Sharing contract: thread-safe; gRPC calls it on its transport threads (it is a {@link Transport.InlineService}:
 * every handler only hands a frame to a rank's inbox under a short lock), ranks join and leave on theirs.
 */
public final class RingEndpoint implements Transport.InlineService, AutoCloseable {
    private record Key(String group, int rank) {}

    private static final System.Logger LOG = System.getLogger(RingEndpoint.class.getName());
    private SocketPlane.Listener data; // guarded by this; null until the first join, and under TLS
    private boolean dataTried; // guarded by this

    /** An endpoint; refused or dropped data connections are logged as warnings through {@link System.Logger}. */
    public RingEndpoint() {}

    /**
     * Opens this process's data port on the transport's bind address, once; not under TLS (messages then stay on the
     * encrypted gRPC streams). A port that cannot be opened leaves every rank here on gRPC, with a log line.
     */
    void openDataPort(Transport transport) {
        synchronized (this) {
            if (dataTried || closed || transport.config().tls()) return;
            dataTried = true;
            try {
                data = new SocketPlane.Listener(transport, new SocketPlane.Router() {
                    @Override
                    public NetRingLink dataTarget(String group, int rank) {
                        return link(group, rank);
                    }

                    @Override
                    public void log(String line) {
                        RingEndpoint.this.log(line);
                    }
                });
            } catch (IOException | RuntimeException e) {
                log("no ring data port on " + transport.config().bindHost() + " (" + e + "): the ranks of this process receive over gRPC");
            }
        }
    }

    /** The data port offered to left neighbours, or 0 when there is none (TLS, not opened yet, or it failed). */
    synchronized int dataPort() {
        return data == null ? 0 : data.port();
    }

    void log(String line) {
        LOG.log(System.Logger.Level.WARNING, line);
    }

    /** The rank of {@code group} joined here, or null. */
    synchronized NetRingLink link(String group, int rank) {
        return links.get(new Key(group, rank));
    }

    private final Map<Key, NetRingLink> links = new HashMap<>(); // guarded by this
    private final Map<Key, Incoming> waiting = new HashMap<>(); // streams for ranks not yet joined; guarded by this
    private final Set<Key> departed = new HashSet<>(); // ranks that left; guarded by this
    private boolean closed; // guarded by this

    /** The Ring service, with incoming frames parsed in place ({@link FrameMarshaller}) rather than copied. */
    @Override
    public ServerServiceDefinition bindService() {
        MethodDescriptor<FrameMarshaller.Received, RingAccept> method = RingGrpc.getStreamMethod()
                .toBuilder(new FrameMarshaller(), RingGrpc.getStreamMethod().getResponseMarshaller()).build();
        return ServerServiceDefinition.builder(RingGrpc.SERVICE_NAME)
                .addMethod(method, ServerCalls.asyncBidiStreamingCall(this::open))
                .build();
    }

    private StreamObserver<FrameMarshaller.Received> open(StreamObserver<RingAccept> responses) {
        ServerCallStreamObserver<RingAccept> call = (ServerCallStreamObserver<RingAccept>) responses;
        call.disableAutoRequest(); // the link asks for one frame per frame its rank has consumed
        Incoming in = new Incoming(call);
        call.setOnCancelHandler(in::cancelled);
        call.request(1); // the hello
        return in;
    }

    /** Ranks of this process now in a group (joined and not closed). */
    public synchronized int ranks() {
        return links.size();
    }

    /** Registers a rank that joins; adopts the stream from its left neighbour if that came first. */
    void register(NetRingLink link) {
        Key key = new Key(link.group(), link.rank());
        Incoming early;
        synchronized (this) {
            if (closed) throw new IllegalStateException("the ring endpoint of this process is closed");
            if (links.containsKey(key)) {
                throw new IllegalStateException("rank " + link.rank() + " of group '" + link.group()
                        + "' has already joined in this process: each rank joins once");
            }
            links.put(key, link);
            departed.remove(key);
            early = waiting.remove(key);
        }
        if (early != null) early.attach(link);
    }

    void unregister(NetRingLink link) {
        Key key = new Key(link.group(), link.rank());
        synchronized (this) {
            if (links.get(key) == link) {
                links.remove(key);
                departed.add(key);
            }
        }
    }

    /** Refuses new streams and fails every rank still joined here and every stream still waiting. Idempotent. */
    @Override
    public void close() {
        List<NetRingLink> joined;
        List<Incoming> early;
        SocketPlane.Listener listener;
        synchronized (this) {
            if (closed) return;
            closed = true;
            joined = new ArrayList<>(links.values());
            early = new ArrayList<>(waiting.values());
            waiting.clear();
            listener = data;
        }
        if (listener != null) listener.close();
        for (Incoming in : early) in.refuse(Status.UNAVAILABLE.withDescription("the ring endpoint was closed"));
        for (NetRingLink link : joined) link.endpointClosed();
    }

    /** One incoming stream: its hello routes it; later frames go to the rank that adopted it. */
    private final class Incoming implements StreamObserver<FrameMarshaller.Received> {
        private final ServerCallStreamObserver<RingAccept> call;
        private volatile NetRingLink link; // set once, before the link asks for more than the hello
        private Key key; // gRPC's serialized callbacks only
        private boolean done; // guarded by this Incoming: refused, ended or cancelled
        private String endedHow; // why it ended before it was attached, or null

        Incoming(ServerCallStreamObserver<RingAccept> call) {
            this.call = call;
        }

        @Override
        public void onNext(FrameMarshaller.Received received) {
            NetRingLink l = link;
            if (l != null) {
                l.inboundFrame(received);
                return;
            }
            RingFrame f = received.header();
            received.close(); // a hello carries no data
            if (key != null) {
                refuse(Status.FAILED_PRECONDITION.withDescription("a frame came before the stream was accepted"));
                return;
            }
            if (f.getGroup().isEmpty() || f.getSize() < 2 || f.getToRank() < 0 || f.getToRank() >= f.getSize()
                    || f.getFromRank() != (f.getToRank() + f.getSize() - 1) % f.getSize()) {
                refuse(Status.INVALID_ARGUMENT.withDescription("a ring stream must open with a hello naming its group, "
                        + "its size and a rank's left neighbour; got group '" + f.getGroup() + "', size " + f.getSize()
                        + ", from rank " + f.getFromRank() + " to rank " + f.getToRank()));
                return;
            }
            key = new Key(f.getGroup(), f.getToRank());
            NetRingLink target;
            String refusal = null;
            synchronized (RingEndpoint.this) {
                target = links.get(key);
                if (closed) {
                    refusal = "the ring endpoint is closed";
                } else if (target == null && departed.contains(key)) {
                    refusal = "rank " + key.rank + " of group '" + key.group + "' has closed its collective handle";
                } else if (target == null) {
                    if (waiting.containsKey(key)) {
                        refusal = "rank " + key.rank + " of group '" + key.group + "' already has a stream waiting for it";
                    } else {
                        waiting.put(key, this);
                    }
                }
            }
            if (refusal != null) {
                refuse((closed() ? Status.UNAVAILABLE : Status.FAILED_PRECONDITION).withDescription(refusal));
            } else if (target != null) {
                if (target.size() != f.getSize()) {
                    refuse(Status.FAILED_PRECONDITION.withDescription("group '" + key.group + "' has " + target.size()
                            + " ranks here, but rank " + f.getFromRank() + " joined it with " + f.getSize()));
                } else {
                    attach(target);
                }
            }
        }

        private boolean closed() {
            synchronized (RingEndpoint.this) {
                return closed;
            }
        }

        /** Hands this stream to its rank, or tells the rank how it ended if it ended while waiting. */
        void attach(NetRingLink l) {
            String how;
            synchronized (this) {
                how = endedHow;
                if (!done) link = l;
            }
            if (how != null) {
                l.inboundVanished(how);
            } else if (!l.adopt(call)) {
                link = null;
                refuse(Status.ALREADY_EXISTS.withDescription("rank " + l.rank() + " of group '" + l.group()
                        + "' already has a stream from its left neighbour"));
            }
        }

        void refuse(Status status) {
            synchronized (this) {
                if (done) return;
                done = true;
            }
            call.onError(status.asRuntimeException());
        }

        @Override
        public void onError(Throwable t) {
            ended("its ring stream broke: " + Status.fromThrowable(t));
        }

        /** The sender is gone: its call was cancelled (process killed, connection lost, keepalive failed). */
        void cancelled() {
            ended("its ring stream was cut without a goodbye (process ended, connection lost or keepalive failed)");
        }

        private void ended(String how) {
            NetRingLink l;
            synchronized (this) {
                if (done && link == null) return;
                done = true;
                l = link;
                if (l == null) endedHow = how;
            }
            if (l != null) {
                l.inboundVanished(how);
            } else {
                synchronized (RingEndpoint.this) {
                    if (key != null && waiting.get(key) == this) waiting.remove(key);
                }
            }
        }

        @Override
        public void onCompleted() {
            NetRingLink l = link;
            if (l != null) {
                l.inboundEnded();
            } else {
                synchronized (RingEndpoint.this) {
                    if (key != null && waiting.get(key) == this) waiting.remove(key);
                }
                synchronized (this) {
                    if (done) return;
                    done = true;
                }
                call.onCompleted();
            }
        }
    }
}
