package io.shadowsync.comm;

/**
 * A rank's ring connections inside one JVM: it takes from its own {@link Mailbox} and puts into its right
 * neighbour's, paying its outgoing {@link EmulatedLink} for every message. Its {@link #direct} channels are links of
 * the same kind over the pair's own two mailboxes ({@link InProcessCollectives#directBox}), on the same outgoing
 * link. Sharing contract: that of {@link RingLink}; the mailboxes' one-producer/one-consumer rule holds because each
 * rank's one thread is the only consumer of its inboxes and the only producer of its neighbour's and its peers'.
 */
final class MailboxLink implements RingLink {
    private final InProcessCollectives group;
    private final int rank;
    private final Mailbox in;
    private final Mailbox out;
    private final EmulatedLink link;
    private final SlotMessage taken = new SlotMessage();
    private final Codec codec;
    private java.nio.ByteBuffer wire = java.nio.ByteBuffer.allocate(0); // a lossy codec's encoding, reused
    /** The ring link's direct channels by peer (the rank's thread only); null on a direct channel itself. */
    private final java.util.Map<Integer, MailboxLink> directs;

    MailboxLink(InProcessCollectives group, int rank, Mailbox in, Mailbox out, EmulatedLink link, Codec codec) {
        this(group, rank, in, out, link, codec, new java.util.HashMap<>());
    }

    private MailboxLink(InProcessCollectives group, int rank, Mailbox in, Mailbox out, EmulatedLink link, Codec codec,
                        java.util.Map<Integer, MailboxLink> directs) {
        this.codec = codec;
        this.group = group;
        this.rank = rank;
        this.in = in;
        this.out = out;
        this.link = link;
        this.directs = directs;
    }

    /** Every rank of the group has direct channels: the group holds the mailboxes, so the address is empty. */
    @Override
    public byte[] directAddress() {
        return directs == null ? null : new byte[0];
    }

    @Override
    public RingLink direct(int peer, byte[] address, String op) {
        if (directs == null || peer == rank) throw new UnsupportedOperationException("rank " + rank + " has no direct channel to rank " + peer);
        return directs.computeIfAbsent(peer, p -> new MailboxLink(group, rank, group.directBox(p, rank),
                group.directBox(rank, p), link, codec, null));
    }

    @Override
    public int window() {
        return InProcessCollectives.INBOX_SLOTS;
    }

    @Override
    public Codec codec() {
        return codec;
    }

    /** A lossless codec's floats are copied as they are; a lossy one's are encoded and decoded, as a wire would. */
    @Override
    public void send(int opcode, int total, int extra, float[] a, int from, int len, String op) throws InterruptedException {
        Mailbox.Slot slot = out.claim(op);
        if (codec.lossless()) {
            System.arraycopy(a, from, slot.ensure(len), 0, len);
        } else {
            int bytes = Math.toIntExact(codec.encodedBytes(len));
            if (wire.capacity() < bytes) wire = java.nio.ByteBuffer.allocate(bytes);
            wire.clear();
            codec.encode(a, from, len, wire);
            wire.flip();
            codec.decode(wire, slot.ensure(len), 0, len);
        }
        slot.len = len;
        slot.byteLen = 0;
        slot.opcode = opcode;
        slot.total = total;
        slot.extra = extra;
        slot.deliverAt = link.reserve(codec.encodedBytes(len));
        out.publish();
    }

    @Override
    public void sendBytes(int opcode, int total, int extra, byte[] b, int from, int len, String op) throws InterruptedException {
        Mailbox.Slot slot = out.claim(op);
        System.arraycopy(b, from, slot.ensureBytes(len), 0, len);
        slot.byteLen = len;
        slot.len = 0;
        slot.opcode = opcode;
        slot.total = total;
        slot.extra = extra;
        slot.deliverAt = link.reserve(len);
        out.publish();
    }

    /** Takes the next message and waits for its emulated delivery. */
    @Override
    public Message take(String op) throws InterruptedException {
        Mailbox.Slot slot = in.take(op);
        EmulatedLink.awaitDeadline(slot.deliverAt);
        taken.slot = slot;
        return taken;
    }

    @Override
    public void release() {
        in.release();
    }

    /** Fails every mailbox of the group, so every rank blocked in it wakes. */
    @Override
    public void fail(RuntimeException cause) {
        group.fail(cause);
    }

    /** Leaves the group: the ring's mailboxes and every direct one of this rank's (those made later, too). */
    @Override
    public void close() {
        in.closeConsumer();
        out.closeProducer();
        if (directs != null) group.closeDirect(rank);
    }

    @Override
    public String toString() {
        return "in-process ring, " + link.model();
    }

    /** The slot last taken, seen as a message (the rank's thread only). */
    private static final class SlotMessage implements Message {
        Mailbox.Slot slot;

        @Override
        public int opcode() {
            return slot.opcode;
        }

        @Override
        public int total() {
            return slot.total;
        }

        @Override
        public int extra() {
            return slot.extra;
        }

        @Override
        public int len() {
            return slot.len;
        }

        @Override
        public float[] floats() {
            return slot.buf;
        }

        @Override
        public int byteLen() {
            return slot.byteLen;
        }

        @Override
        public void copyBytes(byte[] dst, int off) {
            System.arraycopy(slot.bytes, 0, dst, off, slot.byteLen);
        }

        @Override
        public void copyTo(float[] dst, int off) {
            System.arraycopy(slot.buf, 0, dst, off, slot.len);
        }
    }
}
