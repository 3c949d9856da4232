package io.shadowsync.net.coll;

import io.shadowsync.net.Transport;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The ring's data plane: one raw TCP connection from each rank to its right neighbour that carries the group's
 * messages at the socket's rate, beside the gRPC ring stream, which stays open for control (the rendezvous of the
 * two ranks, aborts, the goodbye, and noticing a peer that vanished). This class holds the listener of one process
 * and the handshake that opens a connection; {@link SocketOut} writes frames and {@link SocketIn} reads them.
 *
 * <p>Handshake (the token is never sent): the listener sends a magic and a fresh 32-byte nonce; the connecting rank
 * answers with its hello (group, its rank, the rank it sends to, the group's size, its own nonce) and
 * {@code HMAC-SHA256(token, "client" ‖ server nonce ‖ ticket ‖ hello)}, where the ticket is the random value the
 * receiving rank put in its {@code RingAccept} on the authenticated gRPC stream; the listener checks that proof in
 * constant time and answers 0 and its own proof over the client's nonce, or 1 and why it refused (and logs a line
 * naming the peer). So a connection is taken only from the process that opened the accepted gRPC stream and holds the
 * job's token, and a replayed handshake fails on a new nonce. Without a token the key is a fixed string and the
 * ticket alone binds the connection to the stream. Under TLS there is no data plane: the endpoint opens no listener
 * and messages stay on the (encrypted) gRPC stream.
 *
 * <p>Direct connections: for the pairwise exchange a rank also connects straight to its peer's data port, with
 * {@link #PEER_MAGIC} and the same handshake and proof, over the ticket the peer shared with its group through the
 * ring (so only a member of the group that holds the job's token gets in); the listener hands the connection to the
 * peer's link as the one from that rank ({@code NetRingLink.adoptPeer}).
 *
 * <p>Frames: a 16-byte little-endian header (opcode, total, extra, payload bytes) and the payload, the codec's bytes
 * of a float message or a byte message as it is; opcode {@link #END} (no payload) is the sender's goodbye.
 */
public final class SocketPlane {
    public static final int HEADER_BYTES = 16;
    /** The opcode of the last frame of a connection whose sender closed its handle. */
    static final int END = -1;
    /** How long a handshake may take on either side. */
    public static final long HANDSHAKE_NANOS = TimeUnit.SECONDS.toNanos(5);
    static final byte[] MAGIC = "SSRING01".getBytes(StandardCharsets.US_ASCII);
    /** What a connecting rank writes instead of {@link #MAGIC} to open a direct connection to a peer of its exchanges. */
    static final byte[] PEER_MAGIC = "SSPEER01".getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE = 32, MAC = 32, MAX_GROUP = 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private SocketPlane() {}

    /** A fresh random value of 32 bytes (a ticket or a nonce). */
    public static byte[] random() {
        byte[] b = new byte[NONCE];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * What a listener needs of its process: the rank a connection is for (null if none) and where to log. The ring's
     * ranks ({@code NetRingLink}) and the parameter servers' row lanes ({@code io.shadowsync.net.ps}) are its targets.
     */
    public interface Router {
        Target dataTarget(String group, int rank);

        void log(String line);
    }

    /** The receiving end a handshake names (group, rank): what the connection must prove, and who takes it. */
    public interface Target {
        /** The ticket the connection must prove, or null while this target takes no connection. */
        byte[] ticket();

        /** Why a proven connection from rank {@code from} of a group of {@code size} is refused, or null to take it. */
        String refusal(int from, int size);

        /** Takes the proven connection (it is the target's now); false when it cannot (it has one, or it left). */
        boolean adoptData(SocketChannel ch);

        /** The ticket a direct connection ({@link #PEER_MAGIC}) must prove, or null: this target takes none. */
        default byte[] peerTicket() {
            return null;
        }

        /** Why a proven direct connection from rank {@code from} of a group of {@code size} is refused, or null. */
        default String peerRefusal(int from, int size) {
            return "it takes no direct connections";
        }

        /** Takes a proven direct connection from rank {@code from}; false when it cannot. */
        default boolean adoptPeer(int from, SocketChannel ch) {
            return false;
        }
    }

    /** The connecting side could not reach the listener at all (nothing was sent): the sender may stay on gRPC. */
    public static final class Unreachable extends IOException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Connects to a rank's listener and proves the ticket and the token; returns the channel, blocking, ready for
     * frames.
     *
     * @throws Unreachable           when the connection cannot be made (the caller may fall back to gRPC)
     * @throws IOException           when it broke during the handshake
     * @throws IllegalStateException when the listener refused it (with its reason) or did not prove the token itself
     */
    public static SocketChannel connect(Transport transport, String host, int port, byte[] ticket, String group, int from, int to,
                                 int size, long timeoutNanos) throws IOException {
        return connect(transport, host, port, ticket, group, from, to, size, timeoutNanos, false);
    }

    /**
     * As {@link #connect(Transport, String, int, byte[], String, int, int, int, long)}; with {@code peer}, a direct
     * connection to rank {@code to} for the pairwise exchange ({@link #PEER_MAGIC}), whose ticket is the one rank
     * {@code to} shared with its group over the ring ({@link NetRingLink#directAddress}).
     */
    static SocketChannel connect(Transport transport, String host, int port, byte[] ticket, String group, int from, int to,
                                 int size, long timeoutNanos, boolean peer) throws IOException {
        SocketChannel ch = SocketChannel.open();
        boolean ok = false;
        try {
            int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
            try {
                ch.socket().connect(new InetSocketAddress(host, port), millis);
            } catch (IOException e) {
                throw new Unreachable("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
            }
            ch.socket().setTcpNoDelay(true);
            ch.socket().setSoTimeout(millis);
            DataInputStream in = new DataInputStream(ch.socket().getInputStream());
            OutputStream out = ch.socket().getOutputStream();
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IllegalStateException(host + ":" + port + " is not a shadowsync ring data port");
            }
            byte[] serverNonce = in.readNBytes(NONCE), clientNonce = random();
            if (serverNonce.length != NONCE) throw new IOException("the listener closed the connection during its greeting");
            byte[] hello = hello(group, from, to, size, clientNonce);
            ByteArrayOutputStream msg = new ByteArrayOutputStream();
            msg.write(peer ? PEER_MAGIC : MAGIC);
            msg.write(hello);
            msg.write(transport.prove(clientProof(serverNonce, ticket, hello)));
            out.write(msg.toByteArray());
            out.flush();
            int answer = in.read();
            if (answer == 1) {
                throw new IllegalStateException("rank " + to + " at " + host + ":" + port + " refused the " + (peer ? "direct" : "ring data")
                        + " connection of group '"
                        + group + "': " + in.readUTF());
            }
            if (answer != 0) throw new IOException("the listener closed the connection during the handshake");
            byte[] proof = in.readNBytes(MAC);
            if (!MessageDigest.isEqual(proof, transport.prove(serverProof(clientNonce, serverNonce, ticket)))) {
                throw new IllegalStateException("rank " + to + " at " + host + ":" + port + " did not prove the job's token on the"
                        + " ring data connection of group '" + group + "'");
            }
            ch.socket().setSoTimeout(0);
            ok = true;
            return ch;
        } finally {
            if (!ok) ch.close();
        }
    }

    private static byte[] hello(String group, int from, int to, int size, byte[] clientNonce) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        byte[] g = group.getBytes(StandardCharsets.UTF_8);
        d.writeInt(g.length);
        d.write(g);
        d.writeInt(from);
        d.writeInt(to);
        d.writeInt(size);
        d.write(clientNonce);
        return b.toByteArray();
    }

    private static byte[] clientProof(byte[] serverNonce, byte[] ticket, byte[] hello) {
        return concat("shadowsync ring data: client".getBytes(StandardCharsets.US_ASCII), serverNonce, ticket, hello);
    }

    private static byte[] serverProof(byte[] clientNonce, byte[] serverNonce, byte[] ticket) {
        return concat("shadowsync ring data: server".getBytes(StandardCharsets.US_ASCII), clientNonce, serverNonce, ticket);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) b.writeBytes(p);
        return b.toByteArray();
    }

    /**
     * One process's data listener, on the bind address of its gRPC server and a port of its own: a thread accepts, and
     * each handshake runs on a virtual thread of its own (bounded by {@link #HANDSHAKE_NANOS}), so a stalled client
     * holds up no other.
     */
    public static final class Listener implements AutoCloseable {
        private final ServerSocketChannel server;
        private final Transport transport;
        private final Router router;
        /** What its connections carry, for log lines: "ring data". */
        private final String what;
        private final Thread acceptor;
        private volatile boolean closed;

        Listener(Transport transport, Router router) throws IOException {
            this(transport, router, "ring data");
        }

        public Listener(Transport transport, Router router, String what) throws IOException {
            this.transport = transport;
            this.router = router;
            this.what = what;
            server = ServerSocketChannel.open();
            try {
                server.bind(new InetSocketAddress(InetAddress.getByName(transport.config().bindHost()), 0));
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
            // not Thread.ofPlatform/ofVirtual (Java 21): net compiles for Java 17 (Spark executors)
            acceptor = new Thread(this::accept, what.replace(' ', '-') + "-listener:" + port());
            acceptor.setDaemon(true);
            acceptor.start();
        }

        public int port() {
            return server.socket().getLocalPort();
        }

        private void accept() {
            while (!closed) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (IOException e) {
                    if (!closed) router.log("the " + what + " listener on port " + port() + " stopped: " + e);
                    return;
                }
                Thread h = new Thread(() -> handshake(ch), what.replace(' ', '-') + "-handshake");
                h.setDaemon(true);
                h.start();
            }
        }

        private void handshake(SocketChannel ch) {
            String who = "an unknown peer";
            boolean adopted = false;
            try {
                who = String.valueOf(ch.getRemoteAddress());
                ch.socket().setTcpNoDelay(true);
                ch.socket().setSoTimeout((int) TimeUnit.NANOSECONDS.toMillis(HANDSHAKE_NANOS));
                DataInputStream in = new DataInputStream(ch.socket().getInputStream());
                DataOutputStream out = new DataOutputStream(ch.socket().getOutputStream());
                byte[] serverNonce = random();
                out.write(MAGIC);
                out.write(serverNonce);
                out.flush();
                byte[] magic = in.readNBytes(MAGIC.length);
                boolean peer = Arrays.equals(magic, PEER_MAGIC);
                if (!peer && !Arrays.equals(magic, MAGIC)) {
                    refuse(ch, out, who, "it is not a shadowsync " + what + " connection");
                    return;
                }
                int glen = in.readInt();
                if (glen < 1 || glen > MAX_GROUP) {
                    refuse(ch, out, who, "its hello names a group of " + glen + " bytes");
                    return;
                }
                String group = new String(in.readNBytes(glen), StandardCharsets.UTF_8);
                int from = in.readInt(), to = in.readInt(), size = in.readInt();
                byte[] clientNonce = in.readNBytes(NONCE), mac = in.readNBytes(MAC);
                if (mac.length != MAC) throw new IOException("the connection ended during the hello");
                who = "rank " + from + " of group '" + group + "' at " + who;
                Target link = router.dataTarget(group, to);
                byte[] ticket = link == null ? null : peer ? link.peerTicket() : link.ticket();
                if (ticket == null) {
                    refuse(ch, out, who, "rank " + to + " of group '" + group + "' is not in its group in this process (it "
                            + "has left, or has not accepted a ring stream)");
                    return;
                }
                byte[] expected = transport.prove(clientProof(serverNonce, ticket, hello(group, from, to, size, clientNonce)));
                if (!MessageDigest.isEqual(expected, mac)) {
                    refuse(ch, out, who, "it did not prove the job's token and the ticket of rank " + to + "'s ring stream");
                    return;
                }
                String refusal = peer ? link.peerRefusal(from, size) : link.refusal(from, size);
                if (refusal != null) {
                    refuse(ch, out, who, refusal);
                    return;
                }
                ch.socket().setSoTimeout(0);
                if (peer ? !link.adoptPeer(from, ch) : !link.adoptData(ch)) {
                    refuse(ch, out, who, "rank " + to + " of group '" + group + "' already has a " + (peer ? "direct" : "data")
                            + " connection from it, or has left");
                    return;
                }
                adopted = true;
                out.writeByte(0);
                out.write(transport.prove(serverProof(clientNonce, serverNonce, ticket)));
                out.flush();
            } catch (SocketTimeoutException e) {
                router.log("dropped a " + what + " connection from " + who + ": its handshake took longer than "
                        + TimeUnit.NANOSECONDS.toSeconds(HANDSHAKE_NANOS) + " s");
                closeQuietly(ch);
            } catch (IOException | RuntimeException e) {
                // an adopted channel is the link's now: a broken one fails that link's next read with the cause
                if (!adopted) {
                    router.log("dropped a " + what + " connection from " + who + " during its handshake: " + e);
                    closeQuietly(ch);
                }
            }
        }

        private void refuse(SocketChannel ch, DataOutputStream out, String who, String why) {
            router.log("refused a " + what + " connection from " + who + ": " + why);
            try {
                out.writeByte(1);
                out.writeUTF(why);
                out.flush();
            } catch (IOException ignored) {
                // the peer left; the log line says what happened
            }
            closeQuietly(ch);
        }

        @Override
        public void close() {
            closed = true;
            closeQuietly(server);
            try {
                acceptor.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing what is already broken
        }
    }
}
