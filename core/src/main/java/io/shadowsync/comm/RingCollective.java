package io.shadowsync.comm;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One rank's handle in a ring group: the ring algorithms (see {@link InProcessCollectives} for the schedule and its
 * fixed summation order), run by the calling thread over a {@link RingLink}: a {@link Mailbox} between threads of
 * one JVM, or gRPC streams between processes ({@code io.shadowsync.net.coll.NetCollective}). Because the schedule and
 * its float arithmetic live here, every transport gives the same bits for the same N, length and inputs.
 *
 * <p>Sharing contract: used by one thread at a time (it is the only consumer of its link's incoming messages and
 * the only producer of its outgoing ones); {@link #close()} and {@link #bytesSent()} may be called from any thread.
 */
public final class RingCollective implements Collective {
    /** Opcodes carried by every message, so that a receiver can check the sender runs the same call. */
    public static final int ALL_REDUCE = 1, BROADCAST = 2, ALL_GATHER = 3, BARRIER = 4, ALL_GATHER_BYTES = 5, EXCHANGE = 6;
    private static final float[] EMPTY = new float[0];

    private final RingLink link;
    private final int rank;
    private final int n;
    private final int chunkFloats;
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong rawBytesSent = new AtomicLong();
    private final Codec codec;
    private volatile boolean closed;
    /** Whether the group's first exchange has shared the links' direct addresses (the rank's thread only). */
    private boolean pairedBefore;
    /** Every rank's direct address when every link has direct channels, else null: exchanges relay (rank's thread). */
    private byte[][] direct;

    /**
     * @param rank        this rank, in [0, n)
     * @param n           ranks in the ring, at least 1
     * @param chunkFloats most floats in one message, at least 1
     * @param link        this rank's connections to its neighbours; closed by {@link #close()}
     */
    public RingCollective(int rank, int n, int chunkFloats, RingLink link) {
        this(rank, n, chunkFloats, link, link.codec());
    }

    /**
     * As {@link #RingCollective(int, int, int, RingLink)}, for a job whose codec is {@code codec}: the link must carry
     * its {@link Codec#linkCodec()} (the codec itself when fixed-width, float32 for a message codec).
     */
    public RingCollective(int rank, int n, int chunkFloats, RingLink link, Codec codec) {
        if (!codec.linkCodec().equals(link.codec())) {
            throw new IllegalArgumentException("a job of codec " + codec.name() + " needs links of " + codec.linkCodec().name()
                    + ", got " + link.codec().name());
        }
        this.codec = codec;
        if (n < 1) throw new IllegalArgumentException("a collective group needs at least 1 rank, got " + n);
        if (rank < 0 || rank >= n) throw new IllegalArgumentException("rank " + rank + " is not in 0.." + (n - 1));
        if (chunkFloats < 1) throw new IllegalArgumentException("a message holds at least 1 float, got chunkFloats " + chunkFloats);
        this.link = Objects.requireNonNull(link, "ring link");
        this.rank = rank;
        this.n = n;
        this.chunkFloats = chunkFloats;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException {
        Objects.requireNonNull(op, "reduce op");
        Objects.checkFromIndexSize(off, len, data.length);
        checkOpen("allReduce");
        if (n == 1) return; // the sum and the mean of one vector is that vector
        int q = len / n, rem = len % n;
        int chunks = chunks(q + (rem > 0 ? 1 : 0), chunkFloats);
        ring(ALL_REDUCE, len, op.ordinal(), data, off, q, rem, chunks, n - 1, op == ReduceOp.MEAN);
    }

    @Override
    public void allGather(float[] send, int sOff, int len, float[] recv, int rOff) throws InterruptedException {
        Objects.checkFromIndexSize(sOff, len, send.length);
        Objects.checkFromIndexSize(rOff, (long) len * n > Integer.MAX_VALUE ? -1 : len * n, recv.length);
        checkOpen("allGather");
        System.arraycopy(send, sOff, recv, rOff + rank * len, len);
        if (n == 1) return;
        ring(ALL_GATHER, len, 0, recv, rOff, len, 0, chunks(len, chunkFloats), 0, false);
    }

    @Override
    public void barrier() throws InterruptedException {
        checkOpen("barrier");
        if (n == 1) return;
        ring(BARRIER, 0, 0, EMPTY, 0, 0, 0, 1, 0, false);
    }

    @Override
    public void broadcast(float[] data, int off, int len, int root) throws InterruptedException {
        Objects.checkFromIndexSize(off, len, data.length);
        if (root < 0 || root >= n) throw new IllegalArgumentException("broadcast root " + root + " is not a rank of " + n);
        checkOpen("broadcast");
        if (n == 1) return;
        int pos = Math.floorMod(rank - root, n); // 0 = root, n−1 = end of the chain
        if (pos == 0) link.codec().round(data, off, len); // the root ends on what the others receive
        int chunks = chunks(len, chunkFloats);
        try {
            for (int i = 0; i < chunks; i++) {
                int from = off + (int) ((long) len * i / chunks), to = off + (int) ((long) len * (i + 1) / chunks);
                if (pos > 0) receive(link, BROADCAST, len, root, data, from, to - from, false, false, false);
                if (pos < n - 1) send(link, BROADCAST, len, root, data, from, to - from);
            }
        } catch (RuntimeException e) {
            link.fail(e);
            throw e;
        } catch (InterruptedException e) {
            link.fail(new IllegalStateException("rank " + rank + " was interrupted in " + "broadcast", e));
            throw e;
        }
    }

    /**
     * Typed byte messages around the ring: at step k (0 .. N−2) a rank forwards rank (rank − k)'s message and
     * receives rank (rank − k − 1)'s, each split into messages of at most the size of a float message (chunkFloats
     * encoded floats; the first one's header carries the whole length). Within a step a rank sends its chunk i, then
     * receives chunk i, so a rank blocked on its right neighbour is always ahead of it, and a cycle of waits cannot
     * close: no deadlock at any window ≥ 1.
     */
    @Override
    public byte[][] allGatherBytes(byte[] message) throws InterruptedException {
        Objects.requireNonNull(message, "message");
        checkOpen("allGatherBytes");
        byte[][] out = new byte[n][];
        out[rank] = message.clone();
        if (n == 1) return out;
        int max = (int) Math.min(Integer.MAX_VALUE, link.codec().encodedBytes(chunkFloats)); // a float message's size
        String op = name(ALL_GATHER_BYTES);
        failingGroup(op, () -> {
            for (int k = 0; k < n - 1; k++) {
                int src = Math.floorMod(rank - k, n), from = Math.floorMod(rank - k - 1, n);
                out[from] = passBytes(link, Math.floorMod(rank - 1, n), out[src], src, from, max, op);
            }
        });
        return out;
    }

    /**
     * One step of a byte message's travel on {@code via}: sends s (rank src's message) and receives rank from's, from
     * the rank at the other end ({@code sender}), in messages of at most max bytes, each chunk sent before the same
     * chunk is received (the first one's header carries the whole length).
     */
    private byte[] passBytes(RingLink via, int sender, byte[] s, int src, int from, int max, String op) throws InterruptedException {
        byte[] r = null;
        int cs = chunks(s.length, max), cr = 1;
        for (int i = 0; i < Math.max(cs, cr); i++) {
            if (i < cs) {
                int at = i * max, len = Math.min(max, s.length - at);
                via.sendBytes(ALL_GATHER_BYTES, s.length, src, s, at, len, op);
                bytesSent.addAndGet(len);
                rawBytesSent.addAndGet(len);
            }
            if (i < cr) {
                RingLink.Message m = via.take(op);
                try {
                    if (m.opcode() != ALL_GATHER_BYTES || m.extra() != from || r != null && m.total() != r.length) {
                        throw new IllegalStateException("rank " + rank + " called " + op + ", waiting for rank "
                                + from + "'s message, but rank " + sender + " sent a message of "
                                + describe(m.opcode(), m.total(), m.extra()) + ": every rank must call the same"
                                + " collective operations, in the same order");
                    }
                    if (r == null) {
                        r = new byte[m.total()];
                        cr = chunks(r.length, max);
                    }
                    int at = i * max, len = Math.min(max, r.length - at);
                    if (m.byteLen() != len) {
                        throw new IllegalStateException("rank " + rank + " got " + m.byteLen() + " bytes of rank "
                                + from + "'s message where " + len + " were due (do all ranks use the same chunk size?)");
                    }
                    m.copyBytes(r, at);
                } finally {
                    via.release();
                }
            }
        }
        return r;
    }

    /**
     * Every rank first learns every peer (a 4-byte {@link #allGatherBytes}; the group's first exchange also shares
     * every link's {@link RingLink#directAddress()}), so all agree on the steps, or all throw on a pairing that is not
     * symmetric. Then, when every rank's link has direct channels, each pair swaps its vectors on its own channel
     * ({@link RingLink#direct}): a rank sends its vector once, to its peer, chunk by chunk, each chunk before it
     * receives the peer's same chunk, so no pair waits on another.
     *
     * <p>Otherwise the ring relays each rank's vector from its sender to its peer: at step k (1 .. the longest such
     * path) a rank sends the vector of rank (rank − k + 1) and receives that of rank (rank − k), when that vector has
     * at least k hops to go; one that arrives at its peer lands in recv, the others are held for the next step. Chunks
     * go send-then-receive as in {@link #allGatherBytes}, so no pairing deadlocks; a rank sends up to N/2 vectors.
     */
    @Override
    public void exchange(int peer, float[] send, int sOff, float[] recv, int rOff, int len) throws InterruptedException {
        Objects.checkFromIndexSize(sOff, len, send.length);
        Objects.checkFromIndexSize(rOff, len, recv.length);
        checkOpen("exchange");
        int[] peers = pairing(peer);
        if (peer == rank) System.arraycopy(send, sOff, recv, rOff, len); // and it may still relay the others' vectors
        if (direct != null) {
            if (peer != rank) swap(peer, send, sOff, recv, rOff, len);
            return;
        }
        int longest = 0;
        for (int r = 0; r < n; r++) longest = Math.max(longest, hops(r, peers));
        int chunks = chunks(len, chunkFloats);
        float[] held = null, incoming = null; // a vector received to forward at the next step, and a spare
        try {
            for (int k = 1; k <= longest; k++) {
                int out = Math.floorMod(rank - k + 1, n), in = Math.floorMod(rank - k, n);
                boolean sending = hops(out, peers) >= k, receiving = hops(in, peers) >= k;
                boolean lands = receiving && hops(in, peers) == k;
                float[] src = k == 1 ? send : held;
                int srcOff = k == 1 ? sOff : 0;
                if (receiving && !lands && incoming == null) incoming = new float[len];
                float[] dst = lands ? recv : incoming;
                int dstOff = lands ? rOff : 0;
                for (int i = 0; i < chunks; i++) {
                    int a = (int) ((long) len * i / chunks), b = (int) ((long) len * (i + 1) / chunks);
                    if (sending) send(link, EXCHANGE, len, out, src, srcOff + a, b - a);
                    if (receiving) receive(link, EXCHANGE, len, in, dst, dstOff + a, b - a, false, false, false);
                }
                if (receiving && !lands) { // forward it next step; what was held (sent now) becomes the spare
                    float[] t = held;
                    held = incoming;
                    incoming = t;
                }
            }
        } catch (RuntimeException e) {
            link.fail(e);
            throw e;
        } catch (InterruptedException e) {
            link.fail(new IllegalStateException("rank " + rank + " was interrupted in " + name(EXCHANGE), e));
            throw e;
        }
    }

    /**
     * Shares every rank's peer and checks they pair; in the group's first exchange, also every link's direct address,
     * which sets {@link #direct} when every rank has one (the same decision on every rank: all see the same messages).
     */
    private int[] pairing(int peer) throws InterruptedException {
        if (pairedBefore) return Collective.checkPairing(this, peer);
        byte[] address = link.directAddress();
        java.nio.ByteBuffer mine = java.nio.ByteBuffer.allocate(5 + (address == null ? 0 : address.length)).putInt(peer);
        mine.put((byte) (address == null ? 0 : 1));
        if (address != null) mine.put(address);
        byte[][] all = allGatherBytes(mine.array());
        int[] peers = Collective.pairs(all);
        pairedBefore = true;
        byte[][] addresses = new byte[n][];
        for (int r = 0; r < n; r++) {
            if (all[r].length < 5 || all[r][4] != 1) return peers; // a rank without direct channels: the ring relays
            addresses[r] = java.util.Arrays.copyOfRange(all[r], 5, all[r].length);
        }
        direct = addresses;
        return peers;
    }

    /** Swaps this rank's vector with its peer's on their direct channel, chunk by chunk, each sent before it is received. */
    private void swap(int peer, float[] send, int sOff, float[] recv, int rOff, int len) throws InterruptedException {
        int chunks = chunks(len, chunkFloats);
        failingGroup(name(EXCHANGE), () -> {
            RingLink d = link.direct(peer, direct[peer], name(EXCHANGE));
            for (int i = 0; i < chunks; i++) {
                int a = (int) ((long) len * i / chunks), b = (int) ((long) len * (i + 1) / chunks);
                send(d, EXCHANGE, len, rank, send, sOff + a, b - a);
                receive(d, EXCHANGE, len, peer, recv, rOff + a, b - a, false, false, false);
            }
        });
    }

    /** A step of an operation on the link. */
    private interface Step {
        void run() throws InterruptedException;
    }

    /** Runs the step; an exception in it (an interrupt too) fails the group before it is thrown on. */
    private void failingGroup(String op, Step step) throws InterruptedException {
        try {
            step.run();
        } catch (RuntimeException e) {
            link.fail(e);
            throw e;
        } catch (InterruptedException e) {
            link.fail(new IllegalStateException("rank " + rank + " was interrupted in " + op, e));
            throw e;
        }
    }

    /** Ring hops from rank r to its peer (0: it names itself). */
    private int hops(int r, int[] peers) {
        return Math.floorMod(peers[r] - r, n);
    }

    /**
     * The ring schedule shared by allReduce, allGather and barrier. Segment s of the vector starts at
     * {@code base + s·q + min(s, rem)} and holds {@code q + (s < rem ? 1 : 0)} floats, split evenly into
     * {@code chunks} messages. At step k a rank sends segment (rank − k) and receives segment (rank − k − 1):
     * the first {@code addSteps} steps add what arrives (reduce-scatter), the rest copy it (allgather). A chunk
     * sent at step k is the one received at step k − 1, so a rank may send up to {@code min(slots, chunks)}
     * messages ahead of what it has received.
     */
    private void ring(int opcode, int total, int extra, float[] a, int base, int q, int rem, int chunks, int addSteps,
                      boolean mean) throws InterruptedException {
        long messages = (long) (addSteps + n - 1) * chunks; // long: a tiny chunk size on a huge vector
        int window = Math.min(link.window(), chunks);
        long sent = 0;
        try {
            for (long m = 0; m < messages; m++) {
                for (; sent < messages && sent - m < window; sent++) {
                    int seg = Math.floorMod(rank - sent / chunks, n), i = (int) (sent % chunks);
                    int from = chunkStart(base, q, rem, seg, i, chunks);
                    send(link, opcode, total, extra, a, from, chunkStart(base, q, rem, seg, i + 1, chunks) - from);
                }
                int k = (int) (m / chunks), i = (int) (m % chunks);
                int seg = Math.floorMod(rank - k - 1, n);
                int from = chunkStart(base, q, rem, seg, i, chunks);
                receive(link, opcode, total, extra, a, from, chunkStart(base, q, rem, seg, i + 1, chunks) - from,
                        k < addSteps, mean && k == addSteps - 1, k == addSteps - 1);
            }
        } catch (RuntimeException e) {
            link.fail(e);
            throw e;
        } catch (InterruptedException e) {
            link.fail(new IllegalStateException("rank " + rank + " was interrupted in " + name(opcode), e));
            throw e;
        }
    }

    /** Start of chunk i of segment seg (chunk {@code chunks} is the segment's end). */
    private static int chunkStart(int base, int q, int rem, int seg, int i, int chunks) {
        int segLen = q + (seg < rem ? 1 : 0);
        return base + seg * q + Math.min(seg, rem) + (int) ((long) segLen * i / chunks);
    }

    private void send(RingLink via, int opcode, int total, int extra, float[] a, int from, int len) throws InterruptedException {
        via.send(opcode, total, extra, a, from, len, name(opcode));
        bytesSent.addAndGet(link.codec().encodedBytes(len)); // bytes on the wire, after encoding
        rawBytesSent.addAndGet(4L * len);
    }

    /**
     * Takes the next message, checks it belongs to the same call, adds or copies it. The sum is {@code b + a} (what
     * arrived plus this rank's own) and the mean divides that sum by N: every transport must keep this order. The
     * owner of a segment (owns: the last add) rounds its finished sum through a lossy link codec, as the others will
     * receive it, so that every rank ends on the same bits.
     */
    private void receive(RingLink via, int opcode, int total, int extra, float[] a, int from, int len, boolean add, boolean mean,
                         boolean owns) throws InterruptedException {
        RingLink.Message m = via.take(name(opcode));
        try {
            if (m.opcode() != opcode || m.total() != total || m.extra() != extra || m.len() != len) {
                throw new IllegalStateException("rank " + rank + " called " + describe(opcode, total, extra) + ", but rank "
                        + (via == link ? Math.floorMod(rank - 1, n) : extra) + " sent a message of " + describe(m.opcode(), m.total(), m.extra())
                        + (m.opcode() == opcode && m.total() == total && m.extra() == extra
                                ? " with " + m.len() + " floats where " + len + " were due (do all ranks use the same chunk size?)" : "")
                        + ": every rank must call the same collective operations, in the same order, with the same lengths");
            }
            if (!add) {
                m.copyTo(a, from);
            } else if (!mean) {
                float[] b = m.floats();
                for (int j = 0; j < len; j++) a[from + j] = b[j] + a[from + j];
            } else {
                float[] b = m.floats();
                float div = n;
                for (int j = 0; j < len; j++) a[from + j] = (b[j] + a[from + j]) / div;
            }
            if (owns) link.codec().round(a, from, len);
        } finally {
            via.release();
        }
    }

    private void checkOpen(String op) {
        if (closed) throw new IllegalStateException("rank " + rank + " called " + op + " on its closed collective handle");
    }

    /** The name of an operation, for messages. */
    public static String name(int opcode) {
        return switch (opcode) {
            case ALL_REDUCE -> "allReduce";
            case BROADCAST -> "broadcast";
            case ALL_GATHER -> "allGather";
            case BARRIER -> "barrier";
            case ALL_GATHER_BYTES -> "allGatherBytes";
            case EXCHANGE -> "exchange";
            default -> "an unknown operation (" + opcode + ")";
        };
    }

    private static String describe(int opcode, int total, int extra) {
        return switch (opcode) {
            case ALL_REDUCE -> "allReduce(" + (extra >= 0 && extra < ReduceOp.values().length ? ReduceOp.values()[extra]
                    : "op #" + extra) + ") of " + total + " floats";
            case BROADCAST -> "broadcast from root " + extra + " of " + total + " floats";
            case ALL_GATHER -> "allGather of " + total + " floats per rank";
            case BARRIER -> "barrier";
            case ALL_GATHER_BYTES -> "allGatherBytes (rank " + extra + "'s message of " + total + " bytes)";
            case EXCHANGE -> "exchange of " + total + " floats (rank " + extra + "'s)";
            default -> name(opcode);
        };
    }

    @Override
    public Codec codec() {
        return codec;
    }

    /** As {@link Collective#allReduceEncoded}; the raw bytes count what the float32 ring allreduce would have sent. */
    @Override
    public void allReduceEncoded(Codec.Encoder encoder, float[] data, int off, int len, ReduceOp op) throws InterruptedException {
        if (encoder.codec().fixedWidth()) {
            Collective.super.allReduceEncoded(encoder, data, off, len, op);
            return;
        }
        long before = bytesSent.get();
        Collective.super.allReduceEncoded(encoder, data, off, len, op);
        long ringFloats = 0; // what this rank sends in the ring: segment rank − k at steps k = 0 .. 2N − 3
        for (int k = 0; k < 2 * n - 2; k++) ringFloats += len / n + (Math.floorMod(rank - k, n) < len % n ? 1 : 0);
        rawBytesSent.addAndGet(4 * ringFloats - (bytesSent.get() - before));
    }

    /**
     * As {@link Collective#exchangeEncoded}. A message codec's message goes straight to the peer on the pair's direct
     * channel when the links have them (this rank's one message), else to every rank ({@link #allGatherBytes}); the
     * raw bytes count what the float32 {@link #exchange} would have sent from this rank (its vector, and under the
     * relay those it forwards, len floats each).
     */
    @Override
    public void exchangeEncoded(Codec.Encoder encoder, int peer, float[] send, int sOff, float[] recv, int rOff, int len)
            throws InterruptedException {
        if (encoder.codec().fixedWidth()) {
            exchange(peer, send, sOff, recv, rOff, len);
            return;
        }
        checkOpen("exchange");
        int[] peers = pairing(peer);
        long before = bytesSent.get();
        long vectors = 0; // the vectors the float32 exchange sends from this rank
        if (direct != null) {
            Objects.checkFromIndexSize(sOff, len, send.length);
            Objects.checkFromIndexSize(rOff, len, recv.length);
            Codec c = encoder.codec();
            byte[] m = encoder.encode(send, sOff, len);
            byte[][] got = {m};
            if (peer != rank) {
                String op = name(EXCHANGE);
                failingGroup(op, () -> {
                    got[0] = passBytes(link.direct(peer, direct[peer], op), peer, m, rank, peer,
                            (int) Math.min(Integer.MAX_VALUE, link.codec().encodedBytes(chunkFloats)), op);
                    if (got[0].length != c.encodedBytes(len)) {
                        throw new IllegalStateException("rank " + rank + " got a " + c.name() + " message of " + got[0].length
                                + " bytes for " + len + " values from rank " + peer + ", where " + c.encodedBytes(len)
                                + " were due: both ranks of a pair must exchange the same lengths with the same codec");
                    }
                });
                vectors = 1;
            }
            c.decode(java.nio.ByteBuffer.wrap(got[0]), recv, rOff, len);
        } else {
            Collective.exchangeMessages(this, encoder, peers, send, sOff, recv, rOff, len);
            for (int k = 1; k < n; k++) if (hops(Math.floorMod(rank - k + 1, n), peers) >= k) vectors++;
        }
        rawBytesSent.addAndGet(4L * len * vectors - (bytesSent.get() - before));
    }

    @Override
    public long bytesSent() {
        return bytesSent.get();
    }

    @Override
    public long rawBytesSent() {
        return rawBytesSent.get();
    }

    /** Leaves the group: the right neighbour may still read what this rank sent; a sender to this rank fails. */
    @Override
    public void close() {
        closed = true;
        link.close();
    }

    @Override
    public void abort(RuntimeException cause) {
        link.fail(cause);
        close();
    }

    @Override
    public String toString() {
        return "rank " + rank + " of " + n + " (" + link + ")";
    }

    /** At least one chunk of at most per floats for n (≥ 0) floats: ⌈n / per⌉ (Math.ceilDiv is Java 18; core compiles for 17). */
    private static int chunks(int n, int per) {
        return Math.max(1, (int) ((n + (long) per - 1) / per));
    }
}
