package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.StreamAnswer;
import io.shadowsync.net.proto.StreamCall;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The round trips of a {@link RemoteEmbeddingStore} over persistent streams: each client lane keeps one
 * {@code EmbeddingShard.Stream} open to the replica of each shard it uses, and its pulls and pushes go on it as
 * tagged messages, so a call costs a message each way instead of a new HTTP/2 stream with its headers and deadline.
 *
 * <p><b>Order.</b> A node handles a stream's calls in the order they were sent, so a pull sees every push the lane
 * sent before it to that shard, acknowledged or not: sending a step's pushes without waiting adds no staleness to the
 * lane's own rows. <b>Pushes in flight</b> are bounded: {@link #send} first waits for the lane's previous pushes
 * ({@link #settle}), so at most one step's pushes per lane are on the wire (one request per shard; a step too large
 * for one request per shard is sent chunk after chunk and waited for, as the unary mode does), and a replica sees a
 * lane's pushes in seq order, which its exactly-once check needs.
 *
 * <p><b>Failures.</b> An answer that does not come within the call deadline (and a grace period), a stream the node
 * ends (it died: UNAVAILABLE or CANCELLED; it refused a call: the refusal's status) fail the calls on it. When the
 * shard's replica is gone ({@link ShardSet#failover}) the lane opens a stream to the next replica and sends it every
 * call still unanswered, in order, with the same (client, seq); otherwise the failure is thrown, naming the shard.
 *
 * <p>Sharing contract: thread-safe; each call works on its caller's lane, under the lane's monitor; answers arrive on
 * the transport's threads and only complete futures.
 */
final class RowStreams extends RowCalls {
    private static final System.Logger LOG = System.getLogger(RowStreams.class.getName());

    private final EmbeddingShardGrpc.EmbeddingShardStub[] stubs;
    /** Whether calls go on the nodes' row lanes ({@link LaneWire}) where a node offers one, or on gRPC streams only. */
    private final boolean lanes;
    /** Per node (shard order), the node itself when it runs in this JVM ({@link DirectWire}), else null. */
    private final PsServer[] inJvm;

    /** {@code inJvm}: per node, the node when it lives in this JVM (its calls are served directly), else null. */
    RowStreams(ShardSet set, int[] dims, int chunkRows, boolean lanes, RowCodec codec, PsServer[] inJvm) {
        super(set, dims, chunkRows, codec);
        this.lanes = lanes;
        this.inJvm = inJvm.clone();
        this.stubs = new EmbeddingShardGrpc.EmbeddingShardStub[set.size()];
        for (int n = 0; n < stubs.length; n++) stubs[n] = set.stub(EmbeddingShardGrpc.newStub(set.channel(n)));
    }

    @Override
    void start(ClientLane lane, ShardBuffer[] bufs, List<Call> calls) {
        synchronized (lane) {
            calls.clear();
            for (int s = 0; s < bufs.length; s++) {
                ShardBuffer b = bufs[s];
                if (b.count == 0) continue;
                b.prepareRows();
                Wire st = stream(lane, s);
                for (int from = 0, off = 0; from < b.count; from += chunkRows) {
                    RowBatch req = b.nextChunk(from, chunkRows, false, dims, lane.chunkFloats, set.route(s, st.pos(), 0, 0), codec);
                    Call c = new Call(s, false, req, lane.chunkFloats[0]);
                    c.dest = b.rows;
                    c.destOff = off;
                    off += c.size;
                    calls.add(c);
                    st.send(c);
                    requests.increment();
                    rowsPulled.add(Math.min(chunkRows, b.count - from));
                }
            }
        }
    }

    @Override
    void finish(ClientLane lane, ShardBuffer[] bufs, List<Call> calls) {
        synchronized (lane) {
            for (Call c : calls) {
                StreamAnswer a = await(lane, c);
                ShardBuffer b = bufs[c.shard];
                if (a == LaneWire.LANDED) {
                    b.rowPos = c.destOff + c.size; // the lane's reader copied the rows into place
                } else {
                    takeRows(b, c.shard, c.req, c.size, a.getValues());
                }
                pulled(c.req);
            }
            calls.clear();
        }
    }

    @Override
    void send(ClientLane lane) {
        synchronized (lane) {
            settle(lane);
            final ShardBuffer[] bufs = lane.pushes;
            boolean oneEach = true;
            for (ShardBuffer b : bufs) oneEach &= b.count <= chunkRows;
            if (!oneEach) {
                sendChunked(lane, bufs);
                return;
            }
            for (int s = 0; s < bufs.length; s++) {
                if (bufs[s].count == 0) continue;
                lane.inFlight[s] = sendPush(lane, s, bufs[s], 0);
            }
            lane.swapPushes(); // these buffers stay untouched until settled: the requests wrap them
        }
    }

    @Override
    void settle(ClientLane lane) {
        synchronized (lane) {
            for (int s = 0; s < lane.inFlight.length; s++) {
                Call c = lane.inFlight[s];
                if (c == null) continue;
                acknowledged(lane, c);
                lane.inFlight[s] = null;
            }
            for (ShardBuffer b : lane.sent) b.reset();
        }
    }

    /** A step with more rows for some shard than one request holds: chunk k of every shard at once, one k after the other. */
    private void sendChunked(ClientLane lane, ShardBuffer[] bufs) {
        for (int from = 0; ; from += chunkRows) {
            boolean any = false;
            for (int s = 0; s < bufs.length; s++) {
                if (from >= bufs[s].count) continue;
                lane.inFlight[s] = sendPush(lane, s, bufs[s], from);
                any = true;
            }
            if (!any) break;
            settle(lane);
        }
        for (ShardBuffer b : bufs) b.reset();
    }

    private Call sendPush(ClientLane lane, int s, ShardBuffer b, int from) {
        Wire st = stream(lane, s);
        RowBatch req = b.nextChunk(from, chunkRows, true, dims, lane.chunkFloats, set.route(s, st.pos(), lane.client, ++lane.seq), codec);
        Call c = new Call(s, true, req, Math.min(chunkRows, b.count - from));
        st.send(c);
        requests.increment();
        return c;
    }

    private void acknowledged(ClientLane lane, Call c) {
        checkApplied(c.shard, await(lane, c).getRows(), c.size);
    }

    /** The lane's stream to shard s's replica in use, opened (or moved there, with its unanswered calls) as needed. */
    private Wire stream(ClientLane lane, int s) {
        Wire st = lane.streams[s];
        int pos = set.primary(s);
        if (st != null && st.pos() == pos && !st.ended()) return st;
        return reopen(lane, s, pos, st == null ? null : Status.UNAVAILABLE.withDescription("the shard moved on to replica " + pos).asRuntimeException());
    }

    /** Opens the lane's stream to shard s's replica at pos and sends it the old stream's unanswered calls, in order. */
    private Wire reopen(ClientLane lane, int s, int pos, Throwable why) {
        Wire old = lane.streams[s];
        List<Call> unanswered = old == null ? List.of() : old.abandon(why);
        PsServer here = inJvm[set.node(s, pos)];
        Wire st = here != null ? new DirectWire(here, pos) : lanes && LaneWire.offered(set, s, pos) ? openLane(s, pos) : null;
        if (st == null) {
            ShardStream g = new ShardStream(s, pos);
            stubs[set.node(s, pos)].stream(g);
            st = g;
        }
        lane.streams[s] = st;
        for (Call c : unanswered) {
            c.req = RowTraffic.rerouted(c.req, pos);
            st.send(c);
        }
        return st;
    }

    /**
     * A row lane to shard s's replica at pos, or null when it cannot be opened (unreachable, a handshake that broke or
     * took too long: a port a firewall drops, a node starved of CPU), logged: the lane then takes a gRPC stream, as a
     * ring rank whose data port cannot be reached stays on its stream. A dead node fails that stream in turn.
     */
    private Wire openLane(int s, int pos) {
        try {
            return new LaneWire(set, s, pos, dims, codec);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.INFO, set.name(s, pos) + ": its row lane cannot be opened (" + e.getMessage()
                    + "); this thread's rows to it go on a gRPC stream");
            return null;
        }
    }

    /** Call c's answer; when its replica is gone, the answer of the shard's next replica, which gets the lane's unanswered calls. */
    private StreamAnswer await(ClientLane lane, Call c) {
        while (true) {
            int pos = c.pos;
            try {
                return set.await(c.shard, pos, c.answer, c.push ? "EmbeddingShard.Stream (push)" : "EmbeddingShard.Stream (pull)");
            } catch (ParameterServerException e) {
                int next = set.failover(c.shard, pos, e);
                if (c.pos == pos) reopen(lane, c.shard, next, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ParameterServerException("interrupted while waiting for " + set.name(c.shard), c.shard,
                        set.address(c.shard), Status.Code.CANCELLED, e);
            }
        }
    }

    /**
     * A lane's ordered connection to one replica of one shard: a gRPC stream ({@link ShardStream}), a row lane
     * ({@link LaneWire}), or the node's handlers called directly when it lives in this JVM ({@link DirectWire}). It registers each call it sends (tag, position, answer future) and completes the future with
     * the call's answer, or fails every unanswered call when it ends.
     */
    interface Wire {
        /** The chain position of the replica it goes to. */
        int pos();

        void send(Call c);

        boolean ended();

        /** Ends the wire (its calls are moving elsewhere) and hands over its unanswered calls, in the order they were sent. */
        List<Call> abandon(Throwable why);

        /** Ends the wire for good (the lane is dropped or the store closed); unanswered calls fail. */
        void cancel(String why);
    }

    /** One pull or push on a stream: resent as it is (re-routed) when the stream moves to another replica. */
    static final class Call {
        final int shard;
        final boolean push;
        /** Floats (pull) or rows (push) it carries. */
        final int size;
        RowBatch req;
        /** A pull's rows land in dest (its buffer's rows) from float destOff: where a row lane's reader copies them. */
        float[] dest;
        int destOff;
        /** Set by the stream it was last sent on. */
        volatile int pos;
        volatile long tag;
        volatile CompletableFuture<StreamAnswer> answer;

        Call(int shard, boolean push, RowBatch req, int size) {
            this.shard = shard;
            this.push = push;
            this.req = req;
            this.size = size;
        }
    }

    /**
     * A lane's stream to one replica of one shard, and its calls not yet answered. A stream that failed keeps them
     * (their futures failed) until the lane moves them to the next replica's stream ({@link #abandon}).
     *
     * <p>Sharing contract: sends come from the lane's owner (under the lane's monitor), answers from the transport's
     * threads; both under this stream's monitor.
     */
    static final class ShardStream implements ClientResponseObserver<StreamCall, StreamAnswer>, Wire {
        final int shard;
        final int pos;
        private ClientCallStreamObserver<StreamCall> out;
        private final List<Call> unanswered = new ArrayList<>();
        private long nextTag;
        private Throwable ended;

        ShardStream(int shard, int pos) {
            this.shard = shard;
            this.pos = pos;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<StreamCall> requests) {
            this.out = requests;
        }

        @Override
        public int pos() {
            return pos;
        }

        @Override
        public synchronized void send(Call c) {
            c.pos = pos;
            c.tag = ++nextTag;
            c.answer = new CompletableFuture<>();
            unanswered.add(c);
            if (ended != null) {
                c.answer.completeExceptionally(ended);
                return;
            }
            out.onNext(StreamCall.newBuilder().setTag(c.tag).setPush(c.push).setBatch(c.req).build());
        }

        @Override
        public synchronized boolean ended() {
            return ended != null;
        }

        @Override
        public synchronized List<Call> abandon(Throwable why) {
            if (ended == null) {
                ended = why;
                out.cancel("the client moved to another replica", why);
            }
            List<Call> left = new ArrayList<>(unanswered);
            unanswered.clear();
            return left;
        }

        @Override
        public synchronized void cancel(String why) {
            if (ended != null) return;
            ended = Status.CANCELLED.withDescription(why).asRuntimeException();
            out.cancel(why, null);
            for (Call c : unanswered) c.answer.completeExceptionally(ended);
        }

        @Override
        public synchronized void onNext(StreamAnswer a) {
            for (int i = 0; i < unanswered.size(); i++) {
                Call c = unanswered.get(i);
                if (c.tag == a.getTag()) {
                    unanswered.remove(i);
                    c.answer.complete(a);
                    return;
                }
            }
        }

        @Override
        public synchronized void onError(Throwable t) {
            if (ended == null) ended = t;
            for (Call c : unanswered) c.answer.completeExceptionally(t);
        }

        @Override
        public synchronized void onCompleted() {
            onError(Status.UNAVAILABLE.withDescription("the node ended the stream with " + unanswered.size()
                    + " calls unanswered").asRuntimeException());
        }
    }
}
