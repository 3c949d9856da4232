package io.shadowsync.comm;

/**
 * One rank's two connections in a ring, as {@link RingCollective}'s algorithms see them: an ordered stream of
 * messages to the right neighbour (rank + 1) and one from the left neighbour (rank − 1). The ring schedule and its
 * float arithmetic live in {@link RingCollective}, so every transport (threads of one JVM through a {@link Mailbox},
 * or gRPC streams between processes) produces the same bits for the same group size, length and inputs.
 *
 * <p>Sharing contract: {@link #send}, {@link #take} and {@link #release} are called by the one thread that plays
 * the rank, in the order the schedule needs; {@link #fail} and {@link #close} may be called from any thread. Every
 * wait is bounded by the link's timeout and then throws {@link CollectiveTimeoutException} naming the peer.
 */
public interface RingLink {
    /**
     * Messages a rank may send beyond those it has taken: at most what the right neighbour can hold unread, so that
     * every rank may send its window before it receives anything without a deadlock.
     */
    int window();

    /**
     * How float messages ({@link #send}) travel: their bytes on the wire, and their values as received (a lossy
     * codec rounds them). Byte messages ({@link #sendBytes}) never go through it.
     */
    default Codec codec() {
        return Codec.FLOAT32;
    }

    /**
     * Sends a[from .. from+len) to the right neighbour as one message with the header (opcode, total, extra); waits,
     * at most the timeout, while the link has no room. The array may be changed once this returns.
     *
     * @param op the operation's name, for messages
     */
    void send(int opcode, int total, int extra, float[] a, int from, int len, String op) throws InterruptedException;

    /**
     * Sends b[from .. from+len) to the right neighbour as one typed byte message: the control channel, whose bytes
     * travel exactly as given (never through a float or a codec). Waits as {@link #send} does.
     */
    void sendBytes(int opcode, int total, int extra, byte[] b, int from, int len, String op) throws InterruptedException;

    /**
     * Waits, at most the timeout, for the next message from the left neighbour. Its payload stays valid until
     * {@link #release()}.
     *
     * @param op the operation's name, for messages
     */
    Message take(String op) throws InterruptedException;

    /** Frees the message last taken. */
    void release();

    /** The group is broken: this rank's waits, now and later, throw; the neighbours learn it too (first cause wins). */
    void fail(RuntimeException cause);

    /** Leaves the group: the right neighbour may still read what was sent; a sender to this rank fails. Idempotent. */
    void close();

    /**
     * What another rank needs to open a {@link #direct} channel to this one (empty when the group itself knows):
     * {@link RingCollective} shares it with every rank once, in its first pairwise exchange. Null when this link
     * offers no direct channels; then every exchange of the group relays its vectors along the ring.
     */
    default byte[] directAddress() {
        return null;
    }

    /**
     * A direct channel between this rank and rank {@code peer} for a pairwise exchange: what this rank sends on it
     * goes to {@code peer} only, and what it takes comes from {@code peer} only, on this rank's outgoing link (one
     * message costs one message, no relay). The link keeps the channel for later exchanges with the same peer and
     * closes it with itself; the channel's {@link #fail} fails the whole link, and its {@link #close} is the link's
     * to call. Both ranks of a pair ask for each other's in the same exchange; waits are bounded by the link's timeout,
     * and a peer that has left fails them.
     *
     * @param address the peer's {@link #directAddress()}
     * @param op      the operation's name, for messages
     * @throws UnsupportedOperationException when {@link #directAddress()} is null
     */
    default RingLink direct(int peer, byte[] address, String op) throws InterruptedException {
        throw new UnsupportedOperationException(this + " has no direct channels");
    }

    /**
     * One message as received: the sender's header and {@code len()} floats. Valid until {@link #release()}; a link
     * may reuse one instance for all its messages.
     */
    interface Message {
        /** The sending operation. */
        int opcode();

        /** That operation's total length in floats. */
        int total();

        /** One operation-specific field (the root of a broadcast, the ordinal of a reduce op). */
        int extra();

        /** Floats in this message. */
        int len();

        /** The floats, at {@code [0, len())} of the returned array (owned by the link). */
        float[] floats();

        /** Bytes in a byte message (one sent by {@link #sendBytes}; the opcode says which kind was sent). */
        int byteLen();

        /** Copies a byte message's bytes into {@code dst[off .. off+byteLen())}. */
        void copyBytes(byte[] dst, int off);

        /** Copies the floats into {@code dst[off .. off+len())}, straight from wherever the link holds them. */
        void copyTo(float[] dst, int off);
    }
}
