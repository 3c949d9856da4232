package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.SocketOut;
import io.shadowsync.net.coll.SocketPlane;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.RowBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A node's row lane: the raw TCP port on which trainers' {@link LaneWire}s send pulls and pushes as binary frames
 * ({@link RowFrames}) instead of the gRPC {@code EmbeddingShard.Stream}; the ring's data plane ({@link SocketPlane})
 * does the same for the sync rounds. The port and a random ticket are in the node's {@code ShardInfo}, which a
 * trainer reads over the authenticated gRPC channel; a connection is taken only after {@link SocketPlane}'s
 * handshake, which proves the job's token and that ticket without sending either. Under TLS there is no lane (the rows
 * stay on the encrypted gRPC streams).
 *
 * <p>Each connection is one client lane's stream to this node: a thread of its own reads its frames into one reused
 * buffer and handles them in order, as the gRPC stream's handler does ({@link PsServices.Embeddings}: the same
 * admission, checks, counters and replication), and writes each answer into one reused buffer (a pull's rows go from
 * the table straight into it). A replicated push is answered when its backups have it, from the forward's thread, so
 * writes take the connection's lock. A refusal or a malformed frame is answered ({@link RowFrames#REFUSED}) and the
 * connection closed; an answer the client does not take within the call deadline closes it too. Stopping the node
 * closes every connection, so its clients see the end at once, as a killed process's would.
 *
 * <p>Sharing contract: thread-safe.
 */
final class RowLaneServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RowLaneServer.class.getName());

    private final PsServices.Embeddings rows;
    private final boolean replicated;
    private final int shard, shards;
    private final long deadlineNanos;
    private final int maxFrameBytes;
    private final byte[] ticket = SocketPlane.random();
    private final SocketPlane.Listener listener;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private RowLaneServer(Transport transport, PsServices.Embeddings rows, int shard, int shards, boolean replicated) throws IOException {
        this.rows = rows;
        this.shard = shard;
        this.shards = shards;
        this.replicated = replicated;
        this.deadlineNanos = transport.config().callDeadline().toNanos();
        this.maxFrameBytes = transport.config().maxMessageBytes();
        this.listener = new SocketPlane.Listener(transport, new SocketPlane.Router() {
            @Override
            public SocketPlane.Target dataTarget(String group, int rank) {
                return RowFrames.GROUP.equals(group) && rank == shard && !closed ? target : null;
            }

            @Override
            public void log(String line) {
                LOG.info("parameter server shard " + shard + ": " + line);
            }
        }, "parameter-server row lane");
    }

    /**
     * The lane of a node, or null under TLS, when the config turns lanes off ({@code --ps-rows stream}), or when no port
     * could be opened: its clients then use gRPC streams.
     */
    static RowLaneServer open(Transport transport, PsServices.Embeddings rows, int shard, int shards, boolean replicated) {
        if (transport.config().tls() || !transport.config().rowLanes()) return null;
        try {
            return new RowLaneServer(transport, rows, shard, shards, replicated);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "parameter server shard " + shard + ": no row lane on " + transport.config().bindHost()
                    + " (" + e + "): trainers send rows over gRPC streams");
            return null;
        }
    }

    int port() {
        return listener.port();
    }

    byte[] ticket() {
        return ticket.clone();
    }

    private final SocketPlane.Target target = new SocketPlane.Target() {
        @Override
        public byte[] ticket() {
            return ticket;
        }

        @Override
        public String refusal(int from, int size) {
            return size == shards ? null : "parameter server shard " + shard + " is one of " + shards + " shards, not of " + size;
        }

        @Override
        public boolean adoptData(SocketChannel ch) {
            if (closed) return false;
            Connection c = new Connection(ch);
            open.add(c);
            if (closed) { // close() may have run between the check and the add
                c.close();
                return false;
            }
            c.start();
            return true;
        }
    };

    /** Closes the listener and every connection: their clients' calls in flight fail at once (UNAVAILABLE). */
    @Override
    public void close() {
        closed = true;
        listener.close();
        for (Connection c : open) c.close();
    }

    /** Connections open now (tests). */
    int connections() {
        return open.size();
    }

    /** One client lane's connection: its reader thread handles its frames in order; answers under the write lock. */
    private final class Connection {
        private final SocketChannel ch;
        /** Set once the first frame is read (the handshake's last write is over then): the channel is non-blocking after. */
        private volatile SocketOut out;
        private volatile Selector readable;
        private final Object writeLock = new Object();
        /** The answer being built (guarded by writeLock). */
        private ByteBuffer frame;
        private volatile boolean over;

        Connection(SocketChannel ch) {
            this.ch = ch;
        }

        /**
         * Reads the first frame's header in blocking mode, then makes the channel non-blocking for {@link SocketOut}:
         * the handshake thread writes the node's proof on the channel after adopting it, and the client sends nothing
         * before it has that proof, so the first header read means the handshake's write is done.
         */
        private boolean first(ByteBuffer header) throws IOException {
            while (header.hasRemaining()) if (ch.read(header) < 0) return false;
            synchronized (writeLock) {
                if (over) return false;
                out = new SocketOut(ch); // non-blocking from here on
                readable = Selector.open();
                ch.register(readable, SelectionKey.OP_READ);
            }
            return true;
        }

        void start() {
            Thread t = new Thread(this::serve, "ps-row-lane:" + shard);
            t.setDaemon(true);
            t.start();
        }

        private void serve() {
            ByteBuffer header = ByteBuffer.allocateDirect(SocketPlane.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            // on the heap: the request's ids and gradients wrap its array (protobuf copies a direct buffer's bytes into a
            // new array for every request it wraps); the socket reads into it through the JDK's cached direct buffer
            ByteBuffer payload = ByteBuffer.allocate(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
            try {
                if (!first(header)) return;
                while (!over) {
                    if (header.hasRemaining() && !LaneWire.fill(ch, readable, header)) return; // the client closed its lane
                    int op = header.getInt(0), tag = header.getInt(4), extra = header.getInt(8), bytes = header.getInt(12);
                    if ((op != RowFrames.PULL && op != RowFrames.PUSH) || bytes < 0 || bytes > maxFrameBytes) {
                        refuse(tag, new Refused(Refusal.LENGTH_MISMATCH, "a row-lane frame with opcode " + op + " and " + bytes
                                + " bytes (at most " + maxFrameBytes + ")"));
                        return;
                    }
                    if (payload.capacity() < bytes) {
                        payload = ByteBuffer.allocate(Math.max(bytes, 2 * payload.capacity())).order(ByteOrder.LITTLE_ENDIAN);
                    }
                    payload.clear().limit(bytes);
                    if (!LaneWire.fill(ch, readable, payload)) return;
                    payload.flip();
                    if (!handle(op, tag, extra, payload)) return;
                    header.clear();
                }
            } catch (IOException | ClosedSelectorException e) {
                // the client went away or the node closed the connection: nothing to answer
            } finally {
                close();
            }
        }

        /** Serves one request; false when it was refused (the connection ends). */
        private boolean handle(int op, int tag, int segments, ByteBuffer payload) {
            boolean push = op == RowFrames.PUSH;
            RowBatch req;
            try {
                req = RowFrames.request(payload, segments, push, push && replicated);
            } catch (Refused r) {
                rows.counters().calls.increment();
                refuse(tag, r);
                return false;
            }
            if (!push) {
                try {
                    Replica r = rows.admitPull(req);
                    synchronized (writeLock) {
                        // the rows go from the table into the frame: its size is known once the pull is checked
                        r.slices.pull(req, bytes -> frame(RowFrames.ROWS, tag, req.getCodec(), bytes));
                        write();
                    }
                    rows.counters().rowsPulled.add(req.getIds().size() / 4);
                } catch (Refused e) {
                    refuse(tag, e);
                    return false;
                }
                return true;
            }
            rows.pushRows(req, new StreamObserver<>() {
                @Override
                public void onNext(PushAck ack) {
                    synchronized (writeLock) {
                        frame(RowFrames.ACK, tag, (int) ack.getRows(), 0);
                        write();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    answerRefusal(tag, Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                }
            }, false);
            return !over;
        }

        private void refuse(int tag, Refused r) {
            rows.counters().refuse(r.reason());
            answerRefusal(tag, r.status().getStatus());
        }

        /** Answers the call with its status and ends the connection (the calls after it are not served). */
        private void answerRefusal(int tag, Status st) {
            byte[] why = String.valueOf(st.getDescription()).getBytes(StandardCharsets.UTF_8);
            synchronized (writeLock) {
                if (!over) {
                    frame(RowFrames.REFUSED, tag, st.getCode().value(), why.length).put(why);
                    write();
                }
            }
            close();
        }

        /** Starts an answer in out's buffer (write lock held): the header, and room for bytes of payload. */
        private ByteBuffer frame(int op, int tag, int extra, int bytes) {
            return frame = out.frame(op, tag, extra, bytes);
        }

        /** Writes the answer built by {@link #frame} (write lock held); one not taken within the deadline ends the connection. */
        private void write() {
            if (over) return;
            frame.flip();
            try {
                if (out.drain(deadlineNanos)) return;
                LOG.info("parameter server shard " + shard + ": closed a row lane whose client took no answer for "
                        + TimeUnit.NANOSECONDS.toSeconds(deadlineNanos) + " s");
            } catch (IOException e) {
                // the client went away; its reader notices the end
            }
            close();
        }

        void close() {
            over = true;
            open.remove(this);
            SocketPlane.closeQuietly(ch);
            SocketOut o = out; // a write waiting on its selector fails now; one set up after this is closed by serve's end
            if (o != null) o.close();
            Selector r = readable;
            if (r != null) SocketPlane.closeQuietly(r);
        }
    }
}
