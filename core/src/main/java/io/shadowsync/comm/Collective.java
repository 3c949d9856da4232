package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.Objects;

/**
 * Collective operations among the N ranks (trainers, or workers for sync SGD) of a job. Every rank calls the
 * same operations in the same order with the same lengths; a call returns when this rank's part is done.
 *
 * <p>One {@code Collective} object is one rank's handle and is used by one thread at a time. Implementations:
 * in-process ({@code InProcessCollectives}, threads of one JVM, optionally over emulated links) and networked
 * (the gRPC ring in the net module). The allreduce is a ring (reduce-scatter, then allgather, in chunks) in both.
 */
public interface Collective extends AutoCloseable {
    /** This rank, in [0, size). */
    int rank();

    /** Number of ranks. */
    int size();

    /** In place: data[off .. off+len) becomes the element-wise sum (or mean) over all ranks. */
    void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException;

    /** In place: every rank's data[off .. off+len) becomes root's. */
    void broadcast(float[] data, int off, int len, int root) throws InterruptedException;

    /** recv[rOff + r·len .. +len) becomes rank r's send[sOff .. sOff+len), on every rank. */
    void allGather(float[] send, int sOff, int len, float[] recv, int rOff) throws InterruptedException;

    /** Returns when every rank has called it. */
    void barrier() throws InterruptedException;

    /**
     * The typed control channel: in place, data[off .. off+len) becomes the element-wise sum over all ranks, exact
     * (two's-complement, wrapping like {@code long} addition, never rounded through a float). For counts, flags and
     * sequence numbers, not for parameters: the ring sends every rank's whole vector to every rank (N·len·8 bytes).
     */
    default void allReduceLongs(long[] data, int off, int len) throws InterruptedException {
        Objects.checkFromIndexSize(off, len, data.length);
        byte[] mine = new byte[8 * len];
        ByteBuffer.wrap(mine).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(data, off, len);
        byte[][] all = allGatherBytes(mine);
        long[] sum = new long[len];
        for (int r = 0; r < all.length; r++) {
            if (all[r].length != 8 * len) {
                throw new IllegalStateException("rank " + rank() + " called allReduceLongs of " + len + " longs, but rank "
                        + r + " sent " + all[r].length / 8 + ": every rank must call the same operations with the same lengths");
            }
            LongBuffer b = ByteBuffer.wrap(all[r]).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
            for (int i = 0; i < len; i++) sum[i] += b.get(i);
        }
        System.arraycopy(sum, 0, data, off, len);
    }

    /**
     * The typed control channel: every rank's send[0 .. len) (the same len on every rank), exactly, rank r's at
     * [r·len, (r+1)·len) of the returned array. Over {@link #allGatherBytes}.
     */
    default long[] allGatherLongs(long[] send) throws InterruptedException {
        int len = send.length;
        byte[] mine = new byte[8 * len];
        ByteBuffer.wrap(mine).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(send);
        byte[][] all = allGatherBytes(mine);
        long[] out = new long[Math.multiplyExact(len, all.length)];
        for (int r = 0; r < all.length; r++) {
            if (all[r].length != 8 * len) {
                throw new IllegalStateException("rank " + rank() + " called allGatherLongs of " + len + " longs, but rank "
                        + r + " sent " + all[r].length / 8 + ": every rank must call the same operations with the same lengths");
            }
            ByteBuffer.wrap(all[r]).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out, r * len, len);
        }
        return out;
    }

    /**
     * The typed control channel: every rank contributes one byte message (of any length, the ranks' lengths may
     * differ) and gets all of them back, indexed by rank; the bytes arrive exactly as sent (text travels as UTF-8).
     * For small control messages (failure reasons, flags); the array passed in may be changed once this returns.
     *
     * <p>This default rides on {@link #allGather}: it carries 16 bits in each float as an integer in [0, 65535],
     * which a float holds exactly, so it is exact over any transport; {@link RingCollective} sends typed byte
     * messages instead.
     */
    default byte[][] allGatherBytes(byte[] message) throws InterruptedException {
        int n = size();
        int[] lengths = new int[n];
        int len = message.length; // up to 2^31 − 1: split in two 16-bit halves
        float[] mine = {len >>> 16, len & 0xffff};
        float[] gotLen = new float[2 * n];
        allGather(mine, 0, 2, gotLen, 0);
        int max = 0;
        for (int r = 0; r < n; r++) {
            lengths[r] = ((int) gotLen[2 * r] << 16) | (int) gotLen[2 * r + 1];
            max = Math.max(max, lengths[r]);
        }
        int halves = (max + 1) / 2;
        float[] send = new float[halves];
        for (int i = 0; i < len; i++) {
            send[i / 2] += (i % 2 == 0 ? 256 : 1) * (message[i] & 0xff);
        }
        float[] recv = new float[halves * n];
        allGather(send, 0, halves, recv, 0);
        byte[][] out = new byte[n][];
        for (int r = 0; r < n; r++) {
            byte[] m = new byte[lengths[r]];
            for (int i = 0; i < m.length; i++) {
                int v = (int) recv[r * halves + i / 2];
                m[i] = (byte) (i % 2 == 0 ? v >>> 8 : v);
            }
            out[r] = m;
        }
        return out;
    }

    /**
     * Pairwise exchange: recv[rOff .. rOff+len) becomes rank {@code peer}'s send[sOff .. sOff+len). A collective
     * call with a pairing: every rank of the group calls it (the same number of times, in the same order among its
     * other operations, with the same len), and the peers form pairs: if rank a names b then b names a (a rank
     * that names itself gets its own send). Because every rank enters every exchange, no pair waits on a rank that
     * is busy elsewhere, so no pairing deadlocks; a pairing that is not symmetric fails on every rank with the same
     * message instead of hanging. {@code send} and {@code recv} may be the same array when the ranges do not
     * overlap.
     *
     * <p>This default gathers every rank's send (N·len floats per rank); {@link RingCollective} sends each vector
     * straight to its peer when its link has direct channels ({@link RingLink#direct}: one vector per rank), else
     * relays it along the ring hops from its sender to its peer.
     */
    default void exchange(int peer, float[] send, int sOff, float[] recv, int rOff, int len) throws InterruptedException {
        Objects.checkFromIndexSize(sOff, len, send.length);
        Objects.checkFromIndexSize(rOff, len, recv.length);
        int[] peers = checkPairing(this, peer);
        float[] all = new float[Math.multiplyExact(len, size())];
        allGather(send, sOff, len, all, 0);
        System.arraycopy(all, peers[rank()] * len, recv, rOff, len);
    }

    /**
     * Shares every rank's peer of an {@link #exchange} (through {@link #allGatherBytes}) and checks the pairing is
     * symmetric; returns the peers, indexed by rank. Every rank sees the same peers, so all throw or none does.
     */
    static int[] checkPairing(Collective c, int peer) throws InterruptedException {
        // a peer out of range is shared too, so that every rank throws, none waits
        return pairs(c.allGatherBytes(ByteBuffer.allocate(4).putInt(0, peer).array()));
    }

    /**
     * The peers of an exchange from every rank's pairing message (its peer in the first 4 bytes, big-endian, then
     * anything), checked to be symmetric as {@link #checkPairing} does.
     */
    static int[] pairs(byte[][] all) {
        int n = all.length;
        int[] peers = new int[n];
        for (int r = 0; r < n; r++) peers[r] = ByteBuffer.wrap(all[r]).getInt(0);
        for (int r = 0; r < n; r++) {
            int p = peers[r];
            if (p < 0 || p >= n || peers[p] != r) {
                throw new IllegalArgumentException("rank " + r + " named rank " + p + " for an exchange, but "
                        + (p < 0 || p >= n ? "the group has " + n + " ranks" : "rank " + p + " named rank " + peers[p])
                        + ": the peers of an exchange must form pairs (a names b and b names a)");
            }
        }
        return peers;
    }

    /**
     * The job's codec ({@link Codec#FLOAT32} unless the job chose another). A fixed-width lossy one (fp16, bf16) is
     * also the links' ({@link Codec#linkCodec()}): it rounds what allReduce, broadcast, allGather and exchange deliver.
     * A message codec (int8, top-k) leaves the float operations float32 and is used by {@link #allReduceEncoded} and
     * {@link #exchangeEncoded}. The typed channel never uses it.
     */
    default Codec codec() {
        return Codec.FLOAT32;
    }

    /**
     * In place: data[off .. off+len) becomes the sum (or mean) over all ranks of what each rank's encoder sent for its
     * own data[off .. off+len), and every rank gets the same bits. {@code encoder} is this rank's, of the group's
     * {@link #codec()}: with error feedback it keeps what it did not send for the next call.
     *
     * <p>A fixed-width codec runs the ring {@link #allReduce} (each hop encodes; every rank ends on the owner's rounded
     * sums). A message codec cannot be summed hop by hop without re-encoding sums at every hop (int8) or losing the
     * sparsity (top-k: a sum of sparse vectors is denser), so every rank's message travels whole
     * ({@link #allGatherBytes}: N − 1 messages sent per rank) and every rank decodes and adds them in rank order,
     * 0 to N − 1: the same float operations on the same bytes, so the same bits on every rank, and what each sender
     * sent is exactly what is summed, which keeps its error feedback exact.
     */
    default void allReduceEncoded(Codec.Encoder encoder, float[] data, int off, int len, ReduceOp op) throws InterruptedException {
        Objects.checkFromIndexSize(off, len, data.length);
        Codec c = encoder.codec();
        if (!c.equals(codec())) {
            throw new IllegalArgumentException("an encoder of " + c.name() + " on a group whose codec is " + codec().name());
        }
        if (c.fixedWidth()) {
            allReduce(data, off, len, op);
            return;
        }
        byte[][] all = allGatherBytes(encoder.encode(data, off, len));
        java.util.Arrays.fill(data, off, off + len, 0f);
        for (byte[] m : all) {
            if (m.length != c.encodedBytes(len)) {
                throw new IllegalStateException("rank " + rank() + " got a " + c.name() + " message of " + m.length + " bytes for "
                        + len + " values, where " + c.encodedBytes(len) + " were due: every rank must call the same operations"
                        + " with the same lengths and codec");
            }
            c.decodeAdd(ByteBuffer.wrap(m), data, off, len);
        }
        if (op == ReduceOp.MEAN) {
            float div = size();
            for (int i = off; i < off + len; i++) data[i] /= div;
        }
    }

    /**
     * Pairwise exchange under the job's codec: as {@link #exchange}, recv[rOff .. rOff+len) becomes what rank
     * {@code peer}'s encoder sent for its send[sOff .. sOff+len). A fixed-width codec runs {@link #exchange} (the links
     * round); a message codec's messages travel as bytes ({@link #allGatherBytes}, so this default sends each message
     * to every rank).
     */
    default void exchangeEncoded(Codec.Encoder encoder, int peer, float[] send, int sOff, float[] recv, int rOff, int len)
            throws InterruptedException {
        if (encoder.codec().fixedWidth()) {
            exchange(peer, send, sOff, recv, rOff, len);
            return;
        }
        exchangeMessages(this, encoder, checkPairing(this, peer), send, sOff, recv, rOff, len);
    }

    /**
     * A message codec's {@link #exchangeEncoded} once the pairing is known ({@link #checkPairing}): every rank's message
     * goes to every rank ({@link #allGatherBytes}), and recv[rOff .. rOff+len) becomes this rank's peer's, decoded.
     */
    static void exchangeMessages(Collective c, Codec.Encoder encoder, int[] peers, float[] send, int sOff, float[] recv, int rOff,
                                 int len) throws InterruptedException {
        Objects.checkFromIndexSize(sOff, len, send.length);
        Objects.checkFromIndexSize(rOff, len, recv.length);
        byte[][] all = c.allGatherBytes(encoder.encode(send, sOff, len));
        encoder.codec().decode(ByteBuffer.wrap(all[peers[c.rank()]]), recv, rOff, len);
    }

    /** Bytes this rank has sent so far (payload, as encoded on the wire). */
    long bytesSent();

    /**
     * Bytes this rank would have sent so far with every float as float32 and every operation as the ring runs it
     * uncompressed: beside {@link #bytesSent()}, the compression ratio. Equal to it without a lossy codec.
     */
    default long rawBytesSent() {
        return bytesSent();
    }

    @Override
    void close();

    /**
     * Breaks the group because this rank's job failed: every rank blocked in, or later entering, an operation throws
     * an exception that carries {@code cause} (across processes too), then this handle is closed. Unlike the graceful
     * {@link #close()}, it never waits for a neighbour to read what was sent. Idempotent; any thread.
     */
    default void abort(RuntimeException cause) {
        close();
    }

    /** Element-wise reduction of an allreduce. */
    enum ReduceOp { SUM, MEAN }
}
