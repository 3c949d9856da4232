package io.shadowsync.comm;

import java.time.Duration;

/**
 * A group of N ranks that run collectives among threads of one JVM, optionally over emulated links: the embedded
 * launcher's stand-in for a network. {@link #rank(int)} is rank i's {@link Collective} handle; give each to the
 * one thread that plays that rank (a trainer's sync thread).
 * <pre>
 *   InProcessCollectives group = new InProcessCollectives(4, LinkModel.parse("10gbit", "0.5ms"));
 *   // on trainer i's sync thread:
 *   group.rank(i).allReduce(snapshot, 0, snapshot.length, Collective.ReduceOp.MEAN);
 * </pre>
 *
 * <p>Topology: the ranks form a ring; every message goes from rank r to rank r+1 (mod N) through a bounded inbox
 * of reused buffers and costs the sender's outgoing {@link EmulatedLink} (its NIC, {@link #link(int)}): the
 * sender reserves its link and hands the message over at once, the receiver waits until the message's delivery
 * time. Receiving is free (full-duplex NICs). The one exception is the pairwise {@link Collective#exchange}: beside
 * its 4-byte pairing check on the ring, each pair swaps its vectors through two mailboxes of its own, made on first
 * use (a direct link, as two hosts of a switched network have), each rank paying its own outgoing link for its one
 * vector. All other operations are rings:
 * <ul>
 *   <li>allReduce: reduce-scatter, then allgather, N−1 steps each; the vector is split into N segments and each
 *       segment into chunks of at most {@code chunkFloats}, and a rank keeps up to {@value #INBOX_SLOTS} chunks in
 *       flight, so large vectors pipeline and latencies overlap. Segment s is summed in the fixed order
 *       {@code x_s + x_{s+1} + … + x_{s−1}} by one rank and copied to the others, so every rank gets the same float
 *       bits, run after run. MEAN divides that sum by N before the allgather.</li>
 *   <li>broadcast: a pipelined chain root → root+1 → … → root−1, chunk by chunk ((N−1) latencies + one transfer).</li>
 *   <li>allGather: ring, N−1 steps, chunked like allReduce.</li>
 *   <li>barrier: N−1 ring steps of empty messages (each rank has then heard, transitively, from every other):
 *       costs N−1 latencies, more than a dissemination barrier's log2 N, but keeps one sender per inbox.</li>
 * </ul>
 * Every message carries its operation, total length and root/op, and the receiver checks them against its own
 * call, so ranks that disagree get an {@link IllegalStateException} saying how, instead of garbage.
 *
 * <p>Failure: any exception inside an operation (a mismatch, an interrupt, a {@link CollectiveTimeoutException}
 * after waiting {@code timeout} for one peer without progress) fails the whole group, so every other rank
 * blocked in it wakes with an exception instead of hanging. Closing rank r's handle is graceful: r's right
 * neighbour may still read what r sent, then fails if it waits for more; a sender to r fails at once. {@link
 * #close()} closes every rank.
 */
public final class InProcessCollectives implements AutoCloseable {
    /** 256 KiB of floats per message: large enough to amortize a hand-off, small enough to pipeline. */
    public static final int DEFAULT_CHUNK_FLOATS = 64 * 1024;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    /** Messages in flight per inbox (and a rank's send-ahead window). */
    static final int INBOX_SLOTS = 8;

    private final LinkModel linkModel;
    private final EmulatedLink[] links;
    private final Mailbox[] inboxes;
    private final RingCollective[] ranks;
    private final long timeoutNanos;
    /** The direct channels' mailboxes, by from·N + to; guarded by itself, as are failure and closedRanks. */
    private final java.util.Map<Long, Mailbox> direct = new java.util.HashMap<>();
    private RuntimeException failure;
    private final java.util.BitSet closedRanks = new java.util.BitSet();

    /** N ranks over the given link, with the default timeout and chunk size. */
    public InProcessCollectives(int n, LinkModel link) {
        this(n, link, DEFAULT_TIMEOUT, DEFAULT_CHUNK_FLOATS);
    }

    /**
     * @param n           ranks, at least 1
     * @param link        every rank's outgoing link ({@link LinkModel#NONE}: no emulation)
     * @param timeout     how long a rank waits for one peer without progress before it gives up, positive
     * @param chunkFloats most floats in one message, at least 1 (small values exercise the chunking in tests)
     */
    public InProcessCollectives(int n, LinkModel link, Duration timeout, int chunkFloats) {
        this(n, link, timeout, chunkFloats, Codec.FLOAT32);
    }

    /**
     * As {@link #InProcessCollectives(int, LinkModel, Duration, int)}, with the job's codec: the float messages take
     * its {@link Codec#linkCodec()} (the emulated links carry the encoded bytes, and a lossy one rounds the values as a
     * network would), and {@link Collective#allReduceEncoded} its messages.
     */
    public InProcessCollectives(int n, LinkModel link, Duration timeout, int chunkFloats, Codec codec) {
        java.util.Objects.requireNonNull(codec, "codec");
        if (n < 1) throw new IllegalArgumentException("a collective group needs at least 1 rank, got " + n);
        if (link == null) throw new IllegalArgumentException("a link model is required; LinkModel.NONE means no emulation");
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the collective timeout must be positive, got " + timeout);
        }
        if (chunkFloats < 1) throw new IllegalArgumentException("a message holds at least 1 float, got chunkFloats " + chunkFloats);
        this.timeoutNanos = saturatedNanos(timeout);
        this.linkModel = link;
        this.links = new EmulatedLink[n];
        this.inboxes = new Mailbox[n];
        this.ranks = new RingCollective[n];
        for (int r = 0; r < n; r++) {
            links[r] = new EmulatedLink(link);
            inboxes[r] = new Mailbox((r + n - 1) % n, r, INBOX_SLOTS, timeoutNanos);
        }
        for (int r = 0; r < n; r++) {
            MailboxLink ring = new MailboxLink(this, r, inboxes[r], inboxes[(r + 1) % n], links[r], codec.linkCodec());
            ranks[r] = new RingCollective(r, n, chunkFloats, ring, codec);
        }
    }

    /** The N rank handles of a new group over the given link (default timeout and chunk size). */
    public static Collective[] create(int n, LinkModel link) {
        return new InProcessCollectives(n, link).ranks();
    }

    /** The N rank handles of a new group over the given link whose float messages take the given codec. */
    public static Collective[] create(int n, LinkModel link, Codec codec) {
        return new InProcessCollectives(n, link, DEFAULT_TIMEOUT, DEFAULT_CHUNK_FLOATS, codec).ranks();
    }

    /** The N rank handles of a new group over the given link, giving up on a silent peer after timeout. */
    public static Collective[] create(int n, LinkModel link, Duration timeout) {
        return new InProcessCollectives(n, link, timeout, DEFAULT_CHUNK_FLOATS).ranks();
    }

    /** Rank i's handle, for the one thread that plays rank i. */
    public Collective rank(int i) {
        if (i < 0 || i >= ranks.length) {
            throw new IllegalArgumentException("no rank " + i + " in a group of " + ranks.length);
        }
        return ranks[i];
    }

    /** All rank handles, indexed by rank (a new array, the same handles). */
    public Collective[] ranks() {
        return ranks.clone();
    }

    public int size() {
        return ranks.length;
    }

    public LinkModel linkModel() {
        return linkModel;
    }

    /** Rank i's outgoing link (its NIC); share it with that trainer's parameter-server clients to model one NIC. */
    public EmulatedLink link(int i) {
        rank(i);
        return links[i];
    }

    /** Closes every rank's handle; threads blocked in an operation wake with an exception. Idempotent. */
    @Override
    public void close() {
        for (RingCollective r : ranks) r.close();
    }

    /** Breaks the group: every rank blocked in, or later entering, an operation throws (first cause wins). */
    void fail(RuntimeException cause) {
        for (Mailbox m : inboxes) m.fail(cause);
        synchronized (direct) {
            if (failure == null) failure = cause;
            for (Mailbox m : direct.values()) m.fail(cause);
        }
    }

    /**
     * The mailbox of the direct channel from rank {@code from} to rank {@code to} (a pairwise exchange's), made on
     * first use by either end: one producer (from's thread) and one consumer (to's). A mailbox made after the group
     * failed, or after one of its ends closed its handle, starts failed or closed, so no rank waits on a peer that left.
     */
    Mailbox directBox(int from, int to) {
        synchronized (direct) {
            return direct.computeIfAbsent((long) from * ranks.length + to, k -> {
                Mailbox m = new Mailbox(from, to, INBOX_SLOTS, timeoutNanos);
                if (failure != null) m.fail(failure);
                if (closedRanks.get(from)) m.closeProducer();
                if (closedRanks.get(to)) m.closeConsumer();
                return m;
            });
        }
    }

    /** Rank r closed its handle: its direct channels close (a peer waiting on one fails at once). */
    void closeDirect(int r) {
        synchronized (direct) {
            closedRanks.set(r);
            int n = ranks.length;
            direct.forEach((k, m) -> {
                if (k / n == r) m.closeProducer();
                if (k % n == r) m.closeConsumer();
            });
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }
}
