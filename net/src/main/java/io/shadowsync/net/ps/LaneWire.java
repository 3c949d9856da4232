package io.shadowsync.net.ps;

import io.grpc.Status;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.coll.SocketOut;
import io.shadowsync.net.coll.SocketPlane;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.StreamAnswer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A client lane's raw TCP connection to one replica of one shard, on the node's row lane ({@link RowLaneServer}):
 * the same calls as a gRPC {@link RowStreams.ShardStream}, as binary frames ({@link RowFrames}). The lane's thread
 * writes each request into one reused buffer (the only copy before the kernel's); a reader thread reads each answer
 * into one reused buffer and, for a pull, copies its rows straight into the call's {@link ShardBuffer} (its own slot
 * there, so chunks and look-ahead pulls land where the caller reads them) before completing the call's future.
 *
 * <p>Failures end the wire, as the end of a gRPC stream does, with the status {@link RowStreams} and
 * {@link ShardSet#failover} act on: a connection that ends or breaks (the node was killed or stopped) is UNAVAILABLE
 * (one that cannot be opened at all is the constructor's IOException: the caller takes a gRPC stream instead); a handshake the node refuses, or a node that does not prove the job's token, is
 * UNAUTHENTICATED; a refusal carries the node's status. A request that the kernel does not take within the call
 * deadline ends the wire (DEADLINE_EXCEEDED); an answer that does not come is the caller's deadline
 * ({@link ShardSet#await}).
 *
 * <p>Sharing contract: sends come from the lane's owner (under the lane's monitor), one after the other, and write
 * under {@link #writeLock}; the reader completes calls under this wire's monitor, which a send holds only to register
 * its call (never while writing, so a full socket never blocks the reader that would drain the node's answers).
 */
final class LaneWire extends WireCalls {
    /** The answer of a pull whose rows were copied into its buffer already. */
    static final StreamAnswer LANDED = StreamAnswer.newBuilder().setTag(-1).build();

    private final int shard, pos;
    private final String name;
    private final long deadlineNanos;
    private final int maxFrameBytes;
    /** The tables' dims and the row codec: what a pull's answer must hold, and how its rows decode. */
    private final int[] dims;
    private final RowCodec codec;
    private final Object writeLock = new Object();
    private SocketChannel ch;
    private SocketOut out;
    private Selector readable;
    private int nextTag; // guarded by this

    /**
     * Connects to the node holding shard s's replica at pos and proves the token. A node that refuses the handshake,
     * or does not prove the token itself, leaves the wire ended (UNAUTHENTICATED: its calls fail with the reason).
     *
     * @throws IOException when the lane could not be opened (unreachable, or the handshake broke or took too long):
     *                     the caller may use a gRPC stream to the node instead
     */
    LaneWire(ShardSet set, int s, int pos, int[] dims, RowCodec codec) throws IOException {
        this.dims = dims;
        this.codec = codec;
        this.shard = s;
        this.pos = pos;
        this.name = set.name(s, pos);
        this.deadlineNanos = set.deadlineNanos();
        this.maxFrameBytes = set.maxMessageBytes();
        int node = set.node(s, pos);
        ShardInfo info = set.info(node);
        try {
            ch = SocketPlane.connect(set.transport(), set.address(s, pos).host(), info.getDataPort(),
                    info.getDataTicket().toByteArray(), RowFrames.GROUP, 0, info.getShard(), set.size(),
                    Math.min(deadlineNanos, SocketPlane.HANDSHAKE_NANOS));
            out = new SocketOut(ch);
            readable = Selector.open();
            ch.register(readable, SelectionKey.OP_READ);
        } catch (IllegalStateException e) {
            end(Status.UNAUTHENTICATED.withDescription("its row lane refused this client: " + e.getMessage()).asRuntimeException());
            return;
        } catch (IOException e) {
            close();
            if (ch != null) SocketPlane.closeQuietly(ch);
            throw e;
        }
        Thread reader = new Thread(this::read, "ps-row-lane-in:" + s + "/" + pos);
        reader.setDaemon(true);
        reader.start();
    }

    /** A lane can be opened to the node: it has a row lane (not under TLS), and it is not dead for this client. */
    static boolean offered(ShardSet set, int s, int pos) {
        return set.info(set.node(s, pos)).getDataPort() != 0;
    }

    @Override
    public int pos() {
        return pos;
    }

    @Override
    public void send(RowStreams.Call c) {
        int tag;
        synchronized (this) {
            tag = ++nextTag;
            if (!register(c, pos, tag)) return;
        }
        synchronized (writeLock) {
            try {
                ByteBuffer b = out.frame(c.push ? RowFrames.PUSH : RowFrames.PULL, tag, c.req.getSegmentsCount(),
                        RowFrames.requestBytes(c.req));
                RowFrames.putRequest(b, c.req);
                b.flip();
                if (!out.drain(deadlineNanos)) {
                    end(Status.DEADLINE_EXCEEDED.withDescription("its row lane took no request for "
                            + deadlineNanos / 1_000_000_000L + " s").asRuntimeException());
                }
            } catch (IOException e) {
                end(Status.UNAVAILABLE.withDescription("its row lane broke: " + e.getMessage()).asRuntimeException());
            }
        }
    }

    @Override
    void release() {
        close();
    }

    private void close() {
        if (out != null) out.close();
        if (readable != null) SocketPlane.closeQuietly(readable);
    }

    private void read() {
        ByteBuffer header = ByteBuffer.allocateDirect(SocketPlane.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer payload = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (ended == null) {
                header.clear();
                if (!fill(ch, readable, header)) {
                    end(Status.UNAVAILABLE.withDescription("its row lane ended (the node stopped or was killed)").asRuntimeException());
                    return;
                }
                int op = header.getInt(0), tag = header.getInt(4), extra = header.getInt(8), bytes = header.getInt(12);
                if (bytes < 0 || bytes > maxFrameBytes) {
                    end(Status.INTERNAL.withDescription("its row lane sent a frame of " + bytes + " bytes").asRuntimeException());
                    return;
                }
                if (payload.capacity() < bytes) {
                    payload = ByteBuffer.allocateDirect(Math.max(bytes, 2 * payload.capacity())).order(ByteOrder.LITTLE_ENDIAN);
                }
                payload.clear().limit(bytes);
                if (!fill(ch, readable, payload)) {
                    end(Status.UNAVAILABLE.withDescription("its row lane ended in the middle of an answer (the node stopped or "
                            + "was killed)").asRuntimeException());
                    return;
                }
                payload.flip();
                if (op == RowFrames.REFUSED) {
                    byte[] why = new byte[bytes];
                    payload.get(why);
                    end(Status.fromCodeValue(extra).withDescription(new String(why, StandardCharsets.UTF_8)).asRuntimeException());
                    return;
                }
                answer(op, tag, extra, payload);
            }
        } catch (IOException | ClosedSelectorException e) {
            end(Status.UNAVAILABLE.withDescription("its row lane broke: " + e.getMessage()).asRuntimeException());
        }
    }

    /** Completes the call of tag with its answer (a pull's rows copied into its buffer first). */
    private synchronized void answer(int op, int tag, int extra, ByteBuffer payload) {
        for (int i = 0; i < unanswered.size(); i++) {
            RowStreams.Call c = unanswered.get(i);
            if (c.tag != tag) continue;
            unanswered.remove(i);
            if (op == RowFrames.ACK && c.push) {
                c.answer.complete(StreamAnswer.newBuilder().setTag(tag).setRows(Integer.toUnsignedLong(extra)).build());
            } else if (op == RowFrames.ROWS && !c.push && extra != c.req.getCodec()) {
                c.answer.completeExceptionally(Status.INTERNAL.withDescription(name + " answered a pull asked in row codec "
                        + c.req.getCodec() + " (" + codec + ") with rows in row codec " + Integer.toUnsignedString(extra)).asRuntimeException());
            } else if (op == RowFrames.ROWS && !c.push && payload.remaining() == RowCalls.valueBytes(codec, c.req, dims)) {
                if (codec == RowCodec.FLOAT32) {
                    payload.asFloatBuffer().get(c.dest, c.destOff, c.size);
                } else {
                    RowCalls.decodeRows(codec, payload, c.req, dims, c.dest, c.destOff);
                }
                c.answer.complete(LANDED);
            } else {
                c.answer.completeExceptionally(Status.INTERNAL.withDescription(name + " answered a " + (c.push ? "push" : "pull of "
                        + c.size + " floats in " + codec) + " with frame " + op + " of " + payload.remaining() + " bytes").asRuntimeException());
            }
            return;
        }
    }

    /** Reads until b is full, waiting on the selector while the non-blocking channel has nothing: false at its end. */
    static boolean fill(SocketChannel ch, Selector readable, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b);
            if (n < 0) return false;
            if (n == 0) readable.select(k -> { });
        }
        return true;
    }

    @Override
    public String toString() {
        return "row lane to " + name + " (shard " + shard + ")";
    }
}
