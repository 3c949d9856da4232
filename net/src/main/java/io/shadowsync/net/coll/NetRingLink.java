package io.shadowsync.net.coll;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.shadowsync.comm.CollectiveTimeoutException;
import io.shadowsync.comm.Codec;
import io.shadowsync.comm.RingCollective;
import io.shadowsync.comm.RingLink;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.RingAccept;
import io.shadowsync.net.proto.RingFrame;
import io.shadowsync.net.proto.RingGrpc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One rank's ring connections: an outgoing gRPC stream on its own channel to the right neighbour's {@link
 * RingEndpoint}, and the incoming stream from the left neighbour, which that endpoint hands over ({@link #adopt}).
 * When the right neighbour offers a data port in its accept (and this rank sends on {@link
 * NetCollective.DataPlane#SOCKET}), the messages go on a raw TCP connection to it instead ({@link SocketPlane}, opened
 * by the rank's thread before its first message, so a receiver never mixes the two): a frame is encoded into a reused
 * direct buffer and written without blocking ({@link SocketOut}); the left neighbour's frames are read into reused
 * direct buffers by a reader thread ({@link SocketIn}) and decoded from there. The stream then carries control only:
 * aborts, and the goodbye, which on a data connection is an {@code END} frame behind the last message (a half-close
 * on the stream could overtake messages still in the socket). A data connection that ends without one fails the rank
 * after the control stream has had {@link #GRACE_NANOS} to say why (an abort names the cause), else as vanished.
 *
 * <p>On the gRPC stream:
 *
 * <p>Flow control, both ways bounded: the sender writes only while the call {@code isReady()} (it waits for the
 * on-ready callback otherwise), and the receiver asks gRPC for one frame per frame it has consumed, so at most
 * {@code window} frames wait here and at most the HTTP/2 window waits in the transport. Copies: the sender writes
 * a chunk's floats into one reused little-endian byte array that the frame wraps ({@code unsafeWrap}) and gRPC copies
 * into its transport buffers inside {@code onNext}; the receiver reads the floats straight out of the transport's
 * buffers ({@link FrameMarshaller}). The array can be reused because no data frame is sent before the right
 * neighbour's accept, and after the first response gRPC has committed the call and keeps no message for a replay.
 *
 * <p>Failure: an exception in this rank's operation ({@link #fail}) sends an abort frame to the right and ends the
 * left's call with ABORTED, and an abort from either neighbour fails this rank at once and is relayed further, so
 * the whole ring wakes within a few messages' time. A neighbour that ends its call without a goodbye (killed,
 * connection lost, keepalive failed) fails this rank when it next needs that neighbour, naming it and its address.
 *
 * <p>Sharing contract: {@link #send}, {@link #take} and {@link #release} are called by the rank's one thread; the
 * inbound and outbound callbacks come from gRPC threads (the outbound ones inline on the transport's event loop, so
 * they only flip state and signal); everything they share is guarded by {@code lock}, held briefly, and the rank's
 * thread waits on one condition that every callback signals. Calls on the outgoing stream, which copy a whole chunk,
 * are serialized by {@code callLock} instead, so a callback never waits for a copy.
 */
final class NetRingLink implements RingLink, SocketIn.Ends, SocketPlane.Target {
    private static final RingAccept ACCEPT = RingAccept.getDefaultInstance();
    /** How long a rank whose data connection broke waits for the control stream to say why (an abort, a goodbye). */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final Transport transport;
    private final RingEndpoint endpoint;
    private final boolean socketPlane; // send on the right neighbour's data port when it offers one
    private final int maxFrameBytes;
    private final String group;
    private final int rank;
    private final int n;
    private final List<HostPort> addresses;
    private final long timeoutNanos;
    private final int window;
    private final ManagedChannel channel; // to the right neighbour; null for a group of one

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ReentrantLock callLock = new ReentrantLock(); // outCall's onNext/onCompleted

    // from the left neighbour (guarded by lock)
    private final ArrayDeque<FrameMarshaller.Received> inbox = new ArrayDeque<>();
    private ServerCallStreamObserver<RingAccept> inCall;
    private boolean inFinished; // inCall is closed (by us) or cancelled (by the peer)
    private long inSeq;
    private boolean inEnded; // the left neighbour closed its handle after sending everything
    private String inVanished; // why the stream from the left broke, or null
    // to the right neighbour (guarded by lock unless noted)
    private ClientCallStreamObserver<RingFrame> outCall;
    private boolean accepted;
    private boolean outHalfClosed; // this side has sent its last frame (guarded by callLock)
    private boolean outFinished; // the call has ended (the right neighbour's answer, an error, or our cancel)
    private boolean outEnded; // ... because it closed its handle
    private String outVanished; // ... because the call broke, or null
    private long outSeq;
    private int dataPort; // the right neighbour's data port from its accept, 0 for none
    private byte[] dataTicket;
    private boolean dataTried; // the rank's thread has tried to open the data connection
    private volatile SocketOut out; // the data connection to the right, once open (written by the rank's thread)
    // the data connection from the left (guarded by lock)
    private byte[] ticket; // what the left neighbour must prove to attach its data connection; set by adopt
    private SocketIn in;
    private String inDataLost; // it broke without a goodbye: why, or null
    private long inDataLostAt;

    private RuntimeException failure;
    private boolean closed;
    // direct connections with the peers of pairwise exchanges (the map guarded by lock)
    private final byte[] peerTicket; // what a peer's direct connection must prove; shared with the group by directAddress
    private final java.util.Map<Integer, Direct> directs = new java.util.HashMap<>();
    // the rank's thread only
    private final FrameMessage taken = new FrameMessage();
    private float[] scratch = new float[0];
    private byte[] sendBytes = new byte[0];
    private final Codec codec;
    private FrameMarshaller.Received current; // taken and not yet released
    private boolean slotTaken; // a frame of the data connection is taken and not yet released
    private final SlotMessage slotMessage; // the left neighbour's frames
    private final ReentrantLock writeLock = new ReentrantLock(); // held while the rank's thread writes a data frame
    private int unrequested; // frames consumed and not yet asked for again

    NetRingLink(Transport transport, RingEndpoint endpoint, String group, int rank, List<HostPort> addresses,
                long timeoutNanos, int window, int onReadyThresholdBytes, Codec codec, int maxFrameBytes, boolean socketPlane) {
        this.transport = transport;
        this.maxFrameBytes = maxFrameBytes;
        this.socketPlane = socketPlane;
        this.codec = codec;
        this.endpoint = endpoint;
        this.group = group;
        this.rank = rank;
        this.n = addresses.size();
        this.addresses = addresses;
        this.timeoutNanos = timeoutNanos;
        this.window = window;
        this.peerTicket = SocketPlane.random();
        this.slotMessage = new SlotMessage(() -> in, left());
        if (n == 1) {
            channel = null;
            return;
        }
        channel = transport.channel(addresses.get(right()).toString());
        // callbacks run inline on the transport thread: they only flip state under a short lock and signal
        RingGrpc.RingStub stub = RingGrpc.newStub(channel).withWaitForReady().withOnReadyThreshold(onReadyThresholdBytes)
                .withExecutor(Runnable::run);
        CallCredentials creds = transport.callCredentials();
        if (creds != null) stub = stub.withCallCredentials(creds);
        // the stream waits (waitForReady) for the right neighbour's process to come up; the hello waits with it
        stub.stream(new Outbound());
        callLock.lock();
        try {
            outCall.onNext(RingFrame.newBuilder().setGroup(group).setFromRank(rank).setToRank(right()).setSize(n).build());
        } finally {
            callLock.unlock();
        }
    }

    String group() {
        return group;
    }

    int rank() {
        return rank;
    }

    int size() {
        return n;
    }

    private int left() {
        return (rank + n - 1) % n;
    }

    private int right() {
        return (rank + 1) % n;
    }

    /** "rank 2 at 127.0.0.1:40123". */
    String peer(int r) {
        return "rank " + r + " at " + addresses.get(r);
    }

    @Override
    public Codec codec() {
        return codec;
    }

    @Override
    public int window() {
        return window;
    }

    @Override
    public void send(int opcode, int total, int extra, float[] a, int from, int len, String op) throws InterruptedException {
        SocketOut o = awaitRoom(op);
        int bytes = Math.toIntExact(codec.encodedBytes(len));
        if (o != null) {
            writeLock.lockInterruptibly();
            try {
                ByteBuffer b = o.frame(opcode, total, extra, bytes);
                codec.encode(a, from, len, b);
                push(o, b.flip(), op);
            } finally {
                writeLock.unlock();
            }
            return;
        }
        if (sendBytes.length < bytes) sendBytes = new byte[bytes];
        codec.encode(a, from, len, ByteBuffer.wrap(sendBytes, 0, bytes));
        RingFrame frame = RingFrame.newBuilder().setSeq(++outSeq).setOpcode(opcode).setTotal(total).setExtra(extra)
                .setData(UnsafeByteOperations.unsafeWrap(sendBytes, 0, bytes)).build();
        callLock.lockInterruptibly();
        try {
            if (!outHalfClosed) outCall.onNext(frame); // copies the bytes into gRPC's buffers before it returns
        } finally {
            callLock.unlock();
        }
    }

    /** A typed byte message: its bytes go into the frame's data as they are (the opcode tells the receiver). */
    @Override
    public void sendBytes(int opcode, int total, int extra, byte[] b, int from, int len, String op) throws InterruptedException {
        SocketOut o = awaitRoom(op);
        if (o != null) {
            writeLock.lockInterruptibly();
            try {
                push(o, o.frame(opcode, total, extra, len).put(b, from, len).flip(), op);
            } finally {
                writeLock.unlock();
            }
            return;
        }
        RingFrame frame = RingFrame.newBuilder().setSeq(++outSeq).setOpcode(opcode).setTotal(total).setExtra(extra)
                .setData(UnsafeByteOperations.unsafeWrap(b, from, len)).build();
        callLock.lockInterruptibly();
        try {
            if (!outHalfClosed) outCall.onNext(frame); // copies the bytes into gRPC's buffers before it returns
        } finally {
            callLock.unlock();
        }
    }

    /**
     * Waits until the right neighbour has accepted the stream; then returns its data connection (opened now, on the
     * first message, when the neighbour offers a data port), or null once gRPC has room for a message.
     */
    private SocketOut awaitRoom(String op) throws InterruptedException {
        int port;
        byte[] tk;
        lock.lockInterruptibly();
        try {
            long left = timeoutNanos;
            while (true) {
                checkSendable(op);
                if (out != null) return out;
                if (accepted && socketPlane && dataPort > 0 && !dataTried) break;
                if (accepted && outCall.isReady()) return null;
                if (left <= 0) {
                    throw new CollectiveTimeoutException(rank, right(), peer(right()), op, accepted
                            ? "to make room for a message" : "to accept the ring stream of group '" + group
                            + "': is its process up and has rank " + right() + " joined the group?", timeoutNanos);
                }
                left = changed.awaitNanos(left);
            }
            dataTried = true;
            port = dataPort;
            tk = dataTicket;
        } finally {
            lock.unlock();
        }
        openData(port, tk, op);
        return awaitRoom(op);
    }

    /** What stops a send: a failure, a closed handle, a right neighbour that vanished or left (lock held). */
    private void checkSendable(String op) {
        checkUsable(op);
        if (outVanished != null) throw new IllegalStateException(peer(right()) + " vanished during " + op + ": " + outVanished);
        if (outEnded) {
            throw new IllegalStateException("rank " + rank + " cannot send to " + peer(right()) + " in " + op
                    + ": rank " + right() + " has closed its collective handle");
        }
    }

    /**
     * Opens the data connection to the right neighbour's port (rank's thread, lock not held). A port that cannot be
     * reached at all (a firewall, an address that only forwards the gRPC port) leaves this link on gRPC, with a log
     * line; a refusal, or a break in the handshake, fails the rank.
     */
    private void openData(int port, byte[] tk, String op) throws InterruptedException {
        String host = addresses.get(right()).host();
        SocketChannel ch;
        try {
            ch = SocketPlane.connect(transport, host, port, tk, group, rank, right(), n,
                    Math.min(timeoutNanos, SocketPlane.HANDSHAKE_NANOS));
        } catch (SocketPlane.Unreachable e) {
            endpoint.log("rank " + rank + " of group '" + group + "' sends over gRPC: the data port of " + peer(right())
                    + " is unreachable (" + e.getMessage() + ")");
            return;
        } catch (IOException e) {
            throw afterDataLoss(op, new IllegalStateException("rank " + rank + " could not open its ring data connection to "
                    + peer(right()) + " (port " + port + ") in " + op + ": " + e.getMessage(), e));
        } catch (IllegalStateException refused) { // e.g. the neighbour left meanwhile: its control stream says so
            throw afterDataLoss(op, refused);
        }
        SocketOut o;
        try {
            o = new SocketOut(ch);
        } catch (IOException e) {
            SocketPlane.closeQuietly(ch);
            throw new IllegalStateException("rank " + rank + " could not set up its ring data connection: " + e.getMessage(), e);
        }
        lock.lock();
        try {
            if (failure == null && !closed) {
                out = o;
                return;
            }
        } finally {
            lock.unlock();
        }
        o.close();
    }

    /** Writes one data frame to the right neighbour, waiting (at most the timeout) while the socket is full. */
    private void push(SocketOut o, ByteBuffer frame, String op) throws InterruptedException {
        push(o, right(), op, new WriteGuard() {
            @Override
            public void check(String op) {
                checkSendable(op);
            }

            @Override
            public RuntimeException broken(IOException e, String op) throws InterruptedException {
                return afterDataLoss(op, new IllegalStateException(peer(right()) + " vanished during " + op
                        + ": its data connection broke: " + e.getMessage(), e));
            }
        });
    }

    /** What a write on a data connection looks at when it wakes (lock held), and what a broken connection throws. */
    private interface WriteGuard {
        void check(String op);

        RuntimeException broken(IOException e, String op) throws InterruptedException;
    }

    /**
     * Writes the frame in o's buffer to rank {@code to}, waiting (at most the timeout) while the socket is full, and
     * looking at the link's state when woken.
     */
    private void push(SocketOut o, int to, String op, WriteGuard guard) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            boolean done;
            try {
                done = o.drain(deadline - System.nanoTime());
            } catch (IOException e) {
                throw guard.broken(e, op);
            }
            if (done) return;
            if (Thread.interrupted()) throw new InterruptedException("rank " + rank + " was interrupted in " + op);
            lock.lockInterruptibly();
            try {
                guard.check(op);
            } finally {
                lock.unlock();
            }
            if (deadline - System.nanoTime() <= 0) {
                throw new CollectiveTimeoutException(rank, to, peer(to), op, "to make room for a message", timeoutNanos);
            }
        }
    }

    /**
     * The data connection to the right broke or was refused. Its end may have failed or left, and say so on the
     * control stream a moment later: wait for that (at most {@link #GRACE_NANOS}) so that the message names the
     * cause; else it is {@code otherwise}.
     */
    private RuntimeException afterDataLoss(String op, RuntimeException otherwise) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long left = GRACE_NANOS;
            while (true) {
                checkSendable(op);
                if (left <= 0) return otherwise;
                left = changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Message take(String op) throws InterruptedException {
        FrameMarshaller.Received r;
        lock.lockInterruptibly();
        try {
            long left = timeoutNanos;
            while (true) {
                checkUsable(op);
                if (in != null && in.count() > 0) {
                    slotTaken = true;
                    return slotMessage.at(in.head(), op);
                }
                r = inbox.pollFirst();
                if (r != null) break;
                if (inVanished != null) throw new IllegalStateException(peer(left()) + " vanished during " + op + ": " + inVanished);
                if (inEnded) {
                    throw new IllegalStateException("rank " + rank + " waits in " + op + " for a message from "
                            + peer(left()) + ", which has closed its collective handle");
                }
                long wait = left;
                if (inDataLost != null) { // the control stream may still say why: give it a moment (afterDataLoss)
                    long grace = inDataLostAt + GRACE_NANOS - System.nanoTime();
                    if (grace <= 0) throw new IllegalStateException(peer(left()) + " vanished during " + op + ": " + inDataLost);
                    wait = Math.min(wait, grace);
                }
                if (left <= 0) {
                    throw new CollectiveTimeoutException(rank, left(), peer(left()), op, inCall == null
                            ? "to open its ring stream to this rank" : "for a message", timeoutNanos);
                }
                left -= wait - changed.awaitNanos(wait);
            }
        } finally {
            lock.unlock();
        }
        current = r;
        int bytes = r.dataBytes();
        taken.bytes = bytes;
        int width = codec.bytesPerValue();
        if (r.header().getOpcode() != RingCollective.ALL_GATHER_BYTES && bytes % width != 0) {
            throw new IllegalStateException("rank " + rank + " got a message of " + bytes + " bytes from "
                    + peer(left()) + " in " + op + ": not a whole number of " + codec.name() + " values (" + width
                    + " bytes each; do all ranks use the same codec?)");
        }
        taken.frame = r;
        taken.len = bytes / width;
        return taken;
    }

    /**
     * Returns the consumed frame's buffers and asks the left neighbour's stream for more: two frames at a time, which
     * halves the tasks this thread hands to the transport's event loop. The one frame this can hold back is covered by
     * the sender's on-ready threshold (two chunks), so a sender can still put {@code window} frames ahead of its
     * receiver's consumption before it waits, which is what the ring schedule needs to be free of deadlock.
     */
    @Override
    public void release() {
        if (slotTaken) {
            slotTaken = false;
            in.release();
            return;
        }
        FrameMarshaller.Received r = current;
        current = null;
        if (r != null) r.close();
        if (++unrequested < 2) return;
        ServerCallStreamObserver<RingAccept> call;
        lock.lock();
        try {
            call = inFinished ? null : inCall;
        } finally {
            lock.unlock();
        }
        if (call != null) call.request(unrequested);
        unrequested = 0;
    }

    private void checkUsable(String op) {
        if (failure != null) {
            throw new IllegalStateException("rank " + rank + " in " + op + ": the collective group has failed: "
                    + failure.getMessage(), failure);
        }
        if (closed) throw new IllegalStateException("rank " + rank + " has closed its collective handle");
    }

    @Override
    public void fail(RuntimeException cause) {
        String why = cause.getMessage();
        failWith(cause, "rank " + rank + " at " + addresses.get(rank) + " failed: " + (why == null ? cause.toString() : why));
    }

    /** Fails this rank (first cause wins) and tells both neighbours why, so they fail and relay it in turn. */
    private void failWith(RuntimeException cause, String reason) {
        boolean abortRight;
        lock.lock();
        try {
            if (failure != null) return;
            failure = cause;
            abortRight = outCall != null && !outFinished;
            if (inCall != null && !inFinished) {
                inCall.onError(Status.ABORTED.withDescription(reason).asRuntimeException());
                inFinished = true;
            }
            drainInbox();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        closeData(); // wakes this rank's thread if it waits on a socket; the neighbours learn why on the control streams
        if (abortRight) {
            callLock.lock();
            try {
                if (!outHalfClosed) {
                    outCall.onNext(RingFrame.newBuilder().setAbort(reason).build()); // small: sent even when not ready
                    outCall.onCompleted();
                    outHalfClosed = true;
                }
            } finally {
                callLock.unlock();
            }
        }
    }

    /** Makes the rank's thread, if it waits for room on the data connection, look at the link's state now. */
    private void wakeWriter() {
        SocketOut o = out;
        if (o != null) o.wake();
    }

    /** The data connection from the left, or null (any thread). */
    private SocketIn inbound() {
        lock.lock();
        try {
            return in;
        } finally {
            lock.unlock();
        }
    }

    /** Closes both data connections and every direct one (any thread): a write or read waiting on one fails at once. */
    private void closeData() {
        SocketOut o = out;
        SocketIn i = inbound();
        if (o != null) o.close();
        if (i != null) i.stop();
        List<Direct> ds;
        lock.lock();
        try {
            ds = List.copyOf(directs.values());
        } finally {
            lock.unlock();
        }
        for (Direct d : ds) d.shut();
    }

    /** Returns the buffers of frames that will never be read (lock held). */
    private void drainInbox() {
        for (FrameMarshaller.Received r; (r = inbox.pollFirst()) != null; ) r.close();
    }

    /**
     * Leaves the group. The half-close goes out behind the last messages; this waits (at most the timeout, or 2 s
     * after a failure) until the right neighbour has read it, so nothing this rank sent is cut off, then releases the
     * channel. The left neighbour's call is ended, so a sender to this rank fails at once.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            if (inCall != null && !inFinished) {
                inCall.onCompleted();
                inFinished = true;
            }
            drainInbox();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        sayGoodbyeOnData();
        if (outCall != null) {
            callLock.lock();
            try {
                if (!outHalfClosed) {
                    outCall.onCompleted();
                    outHalfClosed = true;
                }
            } finally {
                callLock.unlock();
            }
        }
        endpoint.unregister(this);
        SocketIn i = inbound();
        if (i != null) i.stop(); // a sender to this rank fails at once
        closeDirects();
        if (channel == null) return;
        boolean interrupted = false;
        lock.lock();
        try {
            // the goodbye (the half-close) must reach the right neighbour before the channel is cut, or it learns of
            // the cut first and names this rank as vanished: wait for its answer. A stream not yet accepted carries only
            // the hello and the goodbye, and the neighbour's endpoint answers a goodbye at once whether or not its rank
            // has joined, so that wait is short; it, and one after a failure (only the abort is left to deliver, and a
            // broken neighbour may never read it), are capped at 2 s
            long cap = TimeUnit.SECONDS.toNanos(2);
            long left = failure == null && accepted ? timeoutNanos : Math.min(timeoutNanos, cap);
            while (outCall != null && !outFinished && left > 0) left = changed.awaitNanos(left);
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            lock.unlock();
        }
        closeData();
        channel.shutdownNow();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the ring channel of " + this + " did not terminate within 5 s");
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * The graceful end of the data connection to the right: an {@link SocketPlane#END} frame behind the last message,
     * whose arrival completes the right neighbour's side of the control stream (what {@link #close} waits for). Skipped
     * after a failure (the abort goes on the control stream), and when the rank's thread is in the middle of a frame.
     */
    private void sayGoodbyeOnData() {
        SocketOut o = out;
        if (o == null || !writeLock.tryLock()) return;
        try {
            lock.lock();
            try {
                if (failure != null) return;
            } finally {
                lock.unlock();
            }
            o.frame(SocketPlane.END, 0, 0, 0).flip();
            long deadline = System.nanoTime() + timeoutNanos;
            while (!o.drain(deadline - System.nanoTime()) && deadline - System.nanoTime() > 0) {
                if (Thread.currentThread().isInterrupted()) return; // a select would return at once, again and again
                lock.lock();
                try {
                    if (failure != null || outFinished) return;
                } finally {
                    lock.unlock();
                }
            }
        } catch (IOException e) {
            // the right neighbour is gone: the control stream tells it, or told it already
        } finally {
            writeLock.unlock();
        }
    }

    // ---- direct connections with the peers of pairwise exchanges

    /**
     * This rank's data port and the ticket a peer's direct connection must prove, or null when it takes none (the
     * group sends on gRPC, or runs under TLS, or this process has no data port): then the group's exchanges relay.
     */
    @Override
    public byte[] directAddress() {
        int port = endpoint.dataPort();
        if (!socketPlane || port <= 0) return null;
        return ByteBuffer.allocate(4 + peerTicket.length).putInt(port).put(peerTicket).array();
    }

    /** The ticket a direct connection from a peer must prove (null: this rank takes none). */
    @Override
    public byte[] peerTicket() {
        return socketPlane ? peerTicket : null;
    }

    /**
     * The direct channel with rank {@code peer}: the connection to it is opened now, on first use, to the host of its
     * gRPC address and the data port its {@code address} names, proving its ticket and the job's token; the connection
     * from it is the one it opens (adopted by {@link #adoptPeer}). Both stay open for later exchanges.
     */
    @Override
    public RingLink direct(int peer, byte[] address, String op) throws InterruptedException {
        if (peer < 0 || peer >= n || peer == rank || address == null || address.length < 5) {
            throw new IllegalArgumentException("rank " + rank + " has no direct channel to rank " + peer + " of " + n);
        }
        Direct d = directWith(peer);
        if (d.out != null) return d;
        ByteBuffer a = ByteBuffer.wrap(address);
        int port = a.getInt();
        byte[] tk = new byte[a.remaining()];
        a.get(tk);
        SocketChannel ch;
        try {
            ch = SocketPlane.connect(transport, addresses.get(peer).host(), port, tk, group, rank, peer, n,
                    Math.min(timeoutNanos, SocketPlane.HANDSHAKE_NANOS), true);
        } catch (IOException e) {
            throw new IllegalStateException("rank " + rank + " could not open its direct connection to " + peer(peer)
                    + " (port " + port + ") in " + op + ": " + e.getMessage(), e);
        }
        try {
            d.out = new SocketOut(ch);
        } catch (IOException e) {
            SocketPlane.closeQuietly(ch);
            throw new IllegalStateException("rank " + rank + " could not set up its direct connection: " + e.getMessage(), e);
        }
        lock.lock();
        try {
            if (failure != null || closed) d.shut(); // closeData ran meanwhile and could not see the new connection
        } finally {
            lock.unlock();
        }
        return d;
    }

    private Direct directWith(int peer) {
        lock.lock();
        try {
            return directs.computeIfAbsent(peer, Direct::new);
        } finally {
            lock.unlock();
        }
    }

    /** Any other rank of a group of this size may connect directly. */
    @Override
    public String peerRefusal(int from, int size) {
        if (size == n && from >= 0 && from < size && from != rank) return null;
        return "rank " + rank + " of group '" + group + "' has " + n + " ranks here and takes direct connections from the others";
    }

    /** Takes a peer's direct connection (handshake done); false if there is one from it already, or this rank left. */
    @Override
    public boolean adoptPeer(int from, SocketChannel ch) {
        Direct d;
        SocketIn i;
        lock.lock();
        try {
            if (failure != null || closed) return false;
            d = directs.computeIfAbsent(from, Direct::new);
            if (d.in != null) return false;
            i = new SocketIn(ch, d, lock, changed, window + 1, maxFrameBytes);
            d.in = i;
        } finally {
            lock.unlock();
        }
        i.start("ring-direct-in '" + group + "' rank " + rank + " from " + from);
        return true;
    }

    /** Says goodbye on every direct connection (an END frame, so a peer that waits learns this rank left) and closes them. */
    private void closeDirects() {
        List<Direct> ds;
        lock.lock();
        try {
            ds = List.copyOf(directs.values());
        } finally {
            lock.unlock();
        }
        for (Direct d : ds) {
            SocketOut o = d.out;
            if (o != null && failure == null) {
                try {
                    o.frame(SocketPlane.END, 0, 0, 0).flip();
                    o.drain(TimeUnit.SECONDS.toNanos(1));
                } catch (IOException e) {
                    // the peer is gone already
                }
            }
            d.shut();
        }
    }

    /**
     * The direct channel with one peer: frames to it on this rank's connection ({@link SocketOut}), frames from it on
     * the connection it opened ({@link SocketIn}); the same header and codec as the ring's data connection. Waits are
     * on the link's lock and condition, so a failure of the group, or this rank's close, wakes them; each is bounded by
     * the link's timeout, and a peer that closed its handle or vanished fails a take at once.
     */
    private final class Direct implements RingLink, SocketIn.Ends, WriteGuard {
        private final int peer;
        private volatile SocketOut out; // written by the rank's thread
        private SocketIn in; // guarded by lock
        private String ended; // how the connection from the peer ended (guarded by lock), or null
        private final SlotMessage message;

        Direct(int peer) {
            this.peer = peer;
            this.message = new SlotMessage(() -> in, peer);
        }

        @Override
        public int window() {
            return window;
        }

        @Override
        public Codec codec() {
            return codec;
        }

        @Override
        public void send(int opcode, int total, int extra, float[] a, int from, int len, String op) throws InterruptedException {
            int bytes = Math.toIntExact(codec.encodedBytes(len));
            ByteBuffer b = out.frame(opcode, total, extra, bytes);
            codec.encode(a, from, len, b);
            write(b.flip(), op);
        }

        @Override
        public void sendBytes(int opcode, int total, int extra, byte[] b, int from, int len, String op) throws InterruptedException {
            write(out.frame(opcode, total, extra, len).put(b, from, len).flip(), op);
        }

        private void write(ByteBuffer frame, String op) throws InterruptedException {
            push(out, peer, op, this);
        }

        @Override
        public void check(String op) {
            checkUsable(op);
        }

        @Override
        public RuntimeException broken(IOException e, String op) throws InterruptedException {
            lock.lockInterruptibly();
            try {
                checkUsable(op); // the group's failure, or this rank's close, says more than the broken connection
            } finally {
                lock.unlock();
            }
            return new IllegalStateException(peer(peer) + " vanished during " + op + ": its direct connection broke: "
                    + e.getMessage(), e);
        }

        @Override
        public Message take(String op) throws InterruptedException {
            lock.lockInterruptibly();
            try {
                long left = timeoutNanos;
                while (true) {
                    checkUsable(op);
                    if (in != null && in.count() > 0) return message.at(in.head(), op);
                    if (ended != null) throw new IllegalStateException(peer(peer) + " " + ended + " (in " + op + ")");
                    if (left <= 0) {
                        throw new CollectiveTimeoutException(rank, peer, peer(peer), op, in == null
                                ? "to open its direct connection to this rank" : "for a message", timeoutNanos);
                    }
                    left = changed.awaitNanos(left);
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void release() {
            in.release();
        }

        @Override
        public void fail(RuntimeException cause) {
            NetRingLink.this.fail(cause);
        }

        /** The link closes its direct channels itself ({@link NetRingLink#close}). */
        @Override
        public void close() {
        }

        /** Closes both connections with the peer (any thread). */
        void shut() {
            SocketOut o = out;
            SocketIn i;
            lock.lock();
            try {
                i = in;
            } finally {
                lock.unlock();
            }
            if (o != null) o.close();
            if (i != null) i.stop();
        }

        @Override
        public void dataEnded() {
            endedAs("has closed its collective handle");
        }

        @Override
        public void dataLost(String why) {
            endedAs("vanished: " + why);
        }

        @Override
        public void dataMalformed(String what) {
            NetRingLink.this.fail(new IllegalStateException("rank " + rank + " got a malformed frame from " + peer(peer)
                    + " on its direct connection: " + what));
        }

        private void endedAs(String how) {
            lock.lock();
            try {
                if (ended == null) ended = how;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public String toString() {
            return "direct connection of rank " + rank + " with " + peer(peer) + ", group '" + group + "'";
        }
    }

    // ---- the data connection from the left: the endpoint's handshake and this link's reader thread

    /** The ticket the left neighbour's data connection must prove, or null before its ring stream is accepted. */
    @Override
    public byte[] ticket() {
        lock.lock();
        try {
            return ticket;
        } finally {
            lock.unlock();
        }
    }

    /** Only the left neighbour of a ring of this size sends data here. */
    @Override
    public String refusal(int from, int size) {
        if (size == n && from == left()) return null;
        return "rank " + rank + " of group '" + group + "' has " + n + " ranks here and takes data from rank " + left();
    }

    /** Takes the left neighbour's data connection (handshake done); false if there is one already, or this rank left. */
    @Override
    public boolean adoptData(SocketChannel ch) {
        SocketIn i;
        lock.lock();
        try {
            if (in != null || failure != null || closed || ticket == null) return false;
            i = new SocketIn(ch, this, lock, changed, window + 1, maxFrameBytes);
            in = i;
        } finally {
            lock.unlock();
        }
        i.start("ring-data-in '" + group + "' rank " + rank);
        return true;
    }

    /** The left neighbour said goodbye on its data connection, after its last message. */
    @Override
    public void dataEnded() {
        lock.lock();
        try {
            endInbound();
        } finally {
            lock.unlock();
        }
    }

    /** The left neighbour has sent its last message: its stream's call is completed, a waiting take fails (lock held). */
    private void endInbound() {
        inEnded = true;
        if (inCall != null && !inFinished) {
            inCall.onCompleted();
            inFinished = true;
        }
        changed.signalAll();
    }

    /** The data connection from the left ended without a goodbye; the control stream may still say why. */
    @Override
    public void dataLost(String why) {
        lock.lock();
        try {
            if (inDataLost == null && !inEnded && !closed) {
                inDataLost = why;
                inDataLostAt = System.nanoTime();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A frame on the data connection that no honest sender writes. */
    @Override
    public void dataMalformed(String what) {
        fail(new IllegalStateException("rank " + rank + " got a malformed ring frame from " + peer(left()) + ": " + what));
    }

    // ---- inbound: called by the endpoint on gRPC's threads, serialized per call

    /** Takes over the stream from the left neighbour; false when this rank already has one (or has left). */
    boolean adopt(ServerCallStreamObserver<RingAccept> call) {
        lock.lock();
        try {
            if (inCall != null) return false;
            inCall = call;
            if (failure != null) {
                call.onError(Status.ABORTED.withDescription("rank " + rank + " at " + addresses.get(rank) + " failed: "
                        + failure.getMessage()).asRuntimeException());
                inFinished = true;
            } else if (closed) {
                call.onCompleted();
                inFinished = true;
            } else {
                int port = endpoint.dataPort();
                if (port > 0) {
                    ticket = SocketPlane.random();
                    call.onNext(RingAccept.newBuilder().setDataPort(port).setTicket(ByteString.copyFrom(ticket)).build());
                } else {
                    call.onNext(ACCEPT);
                }
                call.request(window);
            }
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    void inboundFrame(FrameMarshaller.Received r) {
        RingFrame f = r.header();
        if (!f.getAbort().isEmpty()) {
            r.close();
            failWith(new IllegalStateException(f.getAbort()), f.getAbort());
            return;
        }
        String malformed = null;
        lock.lock();
        try {
            if (failure != null || closed) {
                r.close();
            } else if (f.getSeq() == inSeq + 1 && f.getOpcode() > 0) {
                inSeq++;
                inbox.addLast(r);
                changed.signalAll();
            } else {
                r.close();
                malformed = "rank " + rank + " got a malformed ring frame from " + peer(left()) + " (seq " + f.getSeq()
                        + " where " + (inSeq + 1) + " was due, opcode " + f.getOpcode() + ")";
            }
        } finally {
            lock.unlock();
        }
        if (malformed != null) fail(new IllegalStateException(malformed));
    }

    /** The left neighbour half-closed: it closed its handle after its last message. */
    void inboundEnded() {
        lock.lock();
        try {
            if (in == null) endInbound(); // else the goodbye that counts comes behind the last message, on the data connection
        } finally {
            lock.unlock();
        }
    }

    /** The stream from the left broke without a goodbye. */
    void inboundVanished(String why) {
        lock.lock();
        try {
            inFinished = true;
            if (!inEnded && !closed && inVanished == null) inVanished = why;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The endpoint was closed under this rank. */
    void endpointClosed() {
        fail(new IllegalStateException("the ring endpoint of rank " + rank + "'s process was closed"));
    }

    /** The stream to the right neighbour: its accept, its on-ready signals, and how it ends. */
    private final class Outbound implements ClientResponseObserver<RingFrame, RingAccept> {
        @Override
        public void beforeStart(ClientCallStreamObserver<RingFrame> call) {
            outCall = call; // before any callback and before stream() returns; published by the lock in the constructor
            call.setOnReadyHandler(this::signal);
        }

        private void signal() {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onNext(RingAccept value) {
            lock.lock();
            try {
                accepted = true;
                dataPort = value.getDataPort();
                dataTicket = value.getTicket().toByteArray();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            String desc = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
            switch (s.getCode()) {
                case ABORTED -> failWith(new IllegalStateException(desc), desc);
                case FAILED_PRECONDITION, ALREADY_EXISTS, INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED,
                     UNIMPLEMENTED -> fail(new IllegalStateException(peer(right()) + " refused the ring stream of group '"
                        + group + "': " + s.getCode() + ": " + desc));
                default -> {
                    lock.lock();
                    try {
                        if (!outFinished && !closed) outVanished = s.getCode() + ": " + desc;
                    } finally {
                        lock.unlock();
                    }
                }
            }
            lock.lock();
            try {
                outFinished = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            wakeWriter();
        }

        @Override
        public void onCompleted() {
            lock.lock();
            try {
                if (!closed) outEnded = true;
                outFinished = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            wakeWriter();
        }
    }

    /** "socket ring" once this rank sends on a data connection, "gRPC ring" while (or when) it sends on its stream. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s ring, group '%s', at %s", out != null ? "socket" : "gRPC", group, addresses.get(rank));
    }

    /**
     * Refuses a frame with a NaN or infinite value, as the parameter servers refuse one: no honest rank sends one
     * (a round never contributes a non-finite replica, a worker never a non-finite gradient), so it is a broken or
     * foreign peer, or a sum that overflowed, and either way it must not reach a replica. Fails the group.
     */
    private void requireFinite(float[] a, int off, int len, int sender) {
        if (io.shadowsync.kernels.Vec.allFinite(len, a, off)) return;
        int i = 0;
        while (Float.isFinite(a[off + i])) i++;
        throw new IllegalStateException("rank " + rank + " refused a ring frame from " + peer(sender) + ": value " + i
                + " of the frame is " + a[off + i] + " (a non-finite value never enters a replica)");
    }

    /**
     * The frame last taken from a data connection (the left neighbour's, or a peer's direct one): its values are
     * decoded out of the reader's slot on demand.
     */
    private final class SlotMessage implements Message {
        private final java.util.function.Supplier<SocketIn> source; // read under the lock, by at()
        private final int sender;
        private SocketIn in;
        private int slot, len;

        SlotMessage(java.util.function.Supplier<SocketIn> source, int sender) {
            this.source = source;
            this.sender = sender;
        }

        /** This message, as the frame in {@code slot} (lock held); checks its payload is whole values. */
        SlotMessage at(int slot, String op) {
            this.in = source.get();
            this.slot = slot;
            int bytes = in.payload(slot).remaining(), width = codec.bytesPerValue();
            if (in.opcode(slot) != RingCollective.ALL_GATHER_BYTES && bytes % width != 0) {
                throw new IllegalStateException("rank " + rank + " got a message of " + bytes + " bytes from "
                        + peer(sender) + " in " + op + ": not a whole number of " + codec.name() + " values (" + width
                        + " bytes each; do all ranks use the same codec?)");
            }
            len = bytes / width;
            return this;
        }

        @Override
        public int opcode() {
            return in.opcode(slot);
        }

        @Override
        public int total() {
            return in.total(slot);
        }

        @Override
        public int extra() {
            return in.extra(slot);
        }

        @Override
        public int len() {
            return len;
        }

        @Override
        public int byteLen() {
            return in.payload(slot).remaining();
        }

        @Override
        public void copyBytes(byte[] dst, int off) {
            ByteBuffer b = in.payload(slot);
            b.get(b.position(), dst, off, b.remaining());
        }

        @Override
        public float[] floats() {
            if (scratch.length < len) scratch = new float[len];
            copyTo(scratch, 0);
            return scratch;
        }

        @Override
        public void copyTo(float[] dst, int off) {
            ByteBuffer b = in.payload(slot);
            int at = b.position();
            codec.decode(b, dst, off, len);
            b.position(at);
            requireFinite(dst, off, len, sender);
        }
    }

    /** The frame last taken, seen as a message: its floats are copied out of the transport's buffers on demand. */
    private final class FrameMessage implements Message {
        FrameMarshaller.Received frame;
        int len;
        int bytes;

        @Override
        public int byteLen() {
            return bytes;
        }

        @Override
        public void copyBytes(byte[] dst, int off) {
            frame.copyBytes(dst, off);
        }

        @Override
        public int opcode() {
            return frame.header().getOpcode();
        }

        @Override
        public int total() {
            return frame.header().getTotal();
        }

        @Override
        public int extra() {
            return frame.header().getExtra();
        }

        @Override
        public int len() {
            return len;
        }

        @Override
        public float[] floats() {
            if (scratch.length < len) scratch = new float[len];
            frame.copyFloats(codec, scratch, 0);
            requireFinite(scratch, 0);
            return scratch;
        }

        @Override
        public void copyTo(float[] dst, int off) {
            frame.copyFloats(codec, dst, off);
            requireFinite(dst, off);
        }

        private void requireFinite(float[] a, int off) {
            NetRingLink.this.requireFinite(a, off, len, left());
        }
    }
}
