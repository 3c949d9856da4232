package io.shadowsync.net.coll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.Collective.ReduceOp;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.Ranks;
import io.shadowsync.comm.RingCollective;
import io.shadowsync.testing.LogCapture;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.NetCollective.DataPlane;
import io.shadowsync.net.proto.RingAccept;
import io.shadowsync.net.proto.RingFrame;
import io.shadowsync.net.proto.RingGrpc;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The ring's raw TCP data plane ({@link SocketPlane}): what travels on it, who may attach to it, how it breaks. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SocketPlaneTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    private static final int CHUNK = 16; // floats per message: every length here but the smallest spans several

    /**
     * Every operation a job runs, on one rank, recorded as bits: allReduce (sum and mean), broadcast from a root that
     * moves with the length, allGather, allGatherBytes (an empty message, and one of several chunks), the long
     * control calls, and a gossip exchange with the rank's mirror. The bytes sent are recorded less {@code addressBytes},
     * what this transport's direct address adds to the group's first exchange beyond the in-process ring's.
     */
    private static List<Long> script(Collective c, int r, int n, int len, long addressBytes) throws InterruptedException {
        List<Long> out = new ArrayList<>();
        float[] x = NetCollectiveTest.input(r, len, 2);
        c.allReduce(x, 2, len, ReduceOp.SUM);
        record(out, x);
        x = NetCollectiveTest.input(r + 7, len, 0);
        c.allReduce(x, 0, len, ReduceOp.MEAN);
        record(out, x);
        x = NetCollectiveTest.input(r + 11, len, 1);
        c.broadcast(x, 1, len, len % n);
        record(out, x);
        float[] all = new float[n * len + 3];
        c.allGather(NetCollectiveTest.input(r + 13, len, 0), 0, len, all, 3);
        record(out, all);
        byte[] msg = new byte[r == 1 ? 0 : 5 * CHUNK * 4 + r]; // rank 1's is empty; the others span several messages
        for (int i = 0; i < msg.length; i++) msg[i] = (byte) (31 * r + i);
        for (byte[] b : c.allGatherBytes(msg)) {
            out.add((long) b.length);
            for (byte v : b) out.add((long) v);
        }
        long[] longs = {Long.MAX_VALUE - r, -(1L << 50) + r, len};
        c.allReduceLongs(longs, 0, 3);
        for (long v : longs) out.add(v);
        for (long v : c.allGatherLongs(new long[] {r, (long) r << 40})) out.add(v);
        float[] recv = new float[len];
        c.exchange(n - 1 - r, NetCollectiveTest.input(r + 17, len, 0), 0, recv, 0, len);
        record(out, recv);
        out.add(c.bytesSent() - addressBytes);
        return out;
    }

    private static void record(List<Long> out, float[] a) {
        for (float v : a) out.add((long) Float.floatToRawIntBits(v));
    }

    /**
     * With 2, 3 and 4 ranks, lengths 0, 1, one not divisible by the ring size and one of many messages, every operation
     * gives on the socket plane exactly the bits (and the byte count) of the in-process ring, and every rank really
     * sends on a data connection. Caught: frames read into the wrong slot or out of order, a header field mixed up
     * (a broadcast root, a reduce op), a length off by the remainder, an empty message lost, byte messages decoded
     * as floats, bytes counted before encoding; and a plane that quietly stays on gRPC.
     */
    @Test
    void everyOperationGivesTheInProcessBitsOnTheDataPlane() throws Exception {
        for (int n = 2; n <= 4; n++) {
            int[] lengths = {0, 1, 2 * n + 1, 5 * CHUNK * n + 3};
            try (Hosts hosts = new Hosts(n); InProcessCollectives ref = new InProcessCollectives(n, LinkModel.NONE, LONG, CHUNK)) {
                Collective[] c = new Collective[n];
                for (int r = 0; r < n; r++) {
                    c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "ops", r, hosts.ranks(1), LONG, CHUNK,
                            NetCollective.DEFAULT_WINDOW);
                }
                try {
                    for (int len : lengths) {
                        final int size = n, l = len;
                        List<List<Long>> got = Collections.synchronizedList(new ArrayList<>(Collections.nCopies(n, null)));
                        List<List<Long>> want = Collections.synchronizedList(new ArrayList<>(Collections.nCopies(n, null)));
                        // the socket plane's direct address (data port and ticket, 36 bytes) travels N − 1 times
                        Ranks.runAll(n, r -> got.set(r, script(c[r], r, size, l, 36L * (size - 1))));
                        Ranks.runAll(n, r -> want.set(r, script(ref.rank(r), r, size, l, 0)));
                        for (int r = 0; r < n; r++) {
                            assertEquals(want.get(r), got.get(r), "rank " + r + " of " + n + ", length " + len);
                            assertTrue(c[r].toString().contains("socket ring"), c[r].toString());
                        }
                    }
                } finally {
                    for (Collective x : c) x.close();
                }
            }
        }
    }

    /** The gRPC plane stays available (the benchmark's baseline) and gives the same bits. Caught: a plane switch that is ignored. */
    @Test
    void theGrpcPlaneGivesTheSameBits() throws Exception {
        int n = 3, len = 5 * CHUNK * n + 3;
        try (Hosts hosts = new Hosts(n)) {
            Collective[] s = new Collective[n], g = new Collective[n];
            for (int r = 0; r < n; r++) {
                s[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "s", r, hosts.ranks(1), LONG, CHUNK, 4);
                g[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "g", r, hosts.ranks(1), LONG, CHUNK, 4,
                        Codec.FLOAT32, DataPlane.GRPC);
            }
            try {
                List<List<Long>> a = Collections.synchronizedList(new ArrayList<>(Collections.nCopies(n, null)));
                List<List<Long>> b = Collections.synchronizedList(new ArrayList<>(Collections.nCopies(n, null)));
                Ranks.runAll(n, r -> a.set(r, script(s[r], r, n, len, 0)));
                Ranks.runAll(n, r -> b.set(r, script(g[r], r, n, len, 0)));
                for (int r = 0; r < n; r++) {
                    // the same bits; the bytes differ by the exchange alone: on gRPC it relays (no direct connections)
                    int last = a.get(r).size() - 1;
                    assertEquals(b.get(r).subList(0, last), a.get(r).subList(0, last), "rank " + r);
                    assertTrue(g[r].toString().contains("gRPC ring"), g[r].toString());
                    assertTrue(s[r].toString().contains("socket ring"), s[r].toString());
                }
            } finally {
                for (int r = 0; r < n; r++) {
                    s[r].close();
                    g[r].close();
                }
            }
        }
    }

    /**
     * Only a peer that proves both the job's token and the ticket of the accepted ring stream attaches a data
     * connection, and never a second one: each refusal reaches the client with its reason and leaves a log line
     * naming the peer, and the group keeps working. Caught: a check of the ticket alone (a MAC under a fixed key), of
     * the token alone, a hijack of a connected rank, a refusal that breaks the running link.
     */
    @Test
    void aConnectionWithoutTheTokenOrTheTicketIsRefusedNamingThePeer(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("good"), "0123456789abcdef-good");
        Path bad = Files.writeString(dir.resolve("bad"), "0123456789abcdef-bad!");
        Transport stranger = new Transport(NetConfig.LOOPBACK.withToken(bad));
        try (LogCapture capture = LogCapture.of(RingEndpoint.class.getName());
             Hosts hosts = new Hosts(2, new Transport(NetConfig.LOOPBACK.withToken(good)))) {
            Collective[] c = new Collective[2];
            for (int r = 0; r < 2; r++) {
                c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "g", r, hosts.ranks(1), LONG, CHUNK, 4);
            }
            try {
                Ranks.runAll(2, r -> c[r].barrier()); // both data connections are up
                int port = hosts.endpoint(1).dataPort();
                byte[] ticket = hosts.endpoint(1).link("g", 1).ticket();
                assertTrue(port > 0);
                IllegalStateException noToken = assertThrows(IllegalStateException.class, () ->
                        SocketPlane.connect(stranger, "127.0.0.1", port, ticket, "g", 0, 1, 2, TimeUnit.SECONDS.toNanos(5)));
                assertTrue(noToken.getMessage().contains("refused the ring data connection of group 'g'")
                        && noToken.getMessage().contains("did not prove the job's token"), noToken.getMessage());
                IllegalStateException noTicket = assertThrows(IllegalStateException.class, () -> SocketPlane.connect(
                        hosts.transport, "127.0.0.1", port, new byte[32], "g", 0, 1, 2, TimeUnit.SECONDS.toNanos(5)));
                assertTrue(noTicket.getMessage().contains("did not prove"), noTicket.getMessage());
                IllegalStateException second = assertThrows(IllegalStateException.class, () -> SocketPlane.connect(
                        hosts.transport, "127.0.0.1", port, ticket, "g", 0, 1, 2, TimeUnit.SECONDS.toNanos(5)));
                assertTrue(second.getMessage().contains("already has a data connection"), second.getMessage());
                List<String> log = capture.messages(java.util.logging.Level.WARNING);
                assertEquals(3, log.size(), log.toString());
                for (String line : log) {
                    assertTrue(line.startsWith("refused a ring data connection from rank 0 of group 'g' at /127.0.0.1:"), line);
                }
                float[][] x = {{1, 2, 3}, {10, 20, 30}};
                Ranks.runAll(2, r -> c[r].allReduce(x[r], 0, 3, ReduceOp.SUM));
                for (float[] v : x) assertArrayEquals(new float[] {11, 22, 33}, v);
            } finally {
                for (Collective x : c) x.close();
            }
        }
    }

    /**
     * What a connecting rank writes holds neither the token nor the ticket: a listener played by the test records its
     * hello and proof. Caught: a handshake that sends either in the clear.
     */
    @Test
    void theTokenAndTheTicketNeverTravelOnTheDataConnection(@TempDir Path dir) throws Exception {
        String token = "0123456789abcdef-secret";
        Transport t = new Transport(NetConfig.LOOPBACK.withToken(Files.writeString(dir.resolve("token"), token)));
        byte[] ticket = SocketPlane.random();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<byte[]> heard = CompletableFuture.supplyAsync(() -> {
                try (Socket s = listener.accept()) {
                    s.getOutputStream().write(SocketPlane.MAGIC);
                    s.getOutputStream().write(SocketPlane.random());
                    s.setSoTimeout(500);
                    ByteArrayOutputStream got = new ByteArrayOutputStream();
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[4096];
                    try {
                        for (int k; (k = in.read(buf)) > 0; ) got.write(buf, 0, k);
                    } catch (SocketTimeoutException quiet) {
                        // the client waits for the answer: it has said everything
                    }
                    return got.toByteArray();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThrows(Exception.class, () -> SocketPlane.connect(t, "127.0.0.1", listener.getLocalPort(), ticket, "g", 0, 1,
                    2, TimeUnit.SECONDS.toNanos(5)));
            byte[] wire = heard.get(10, TimeUnit.SECONDS);
            assertTrue(wire.length > 64, "the client sent its hello and proof: " + wire.length + " bytes");
            assertFalse(contains(wire, token.getBytes(StandardCharsets.US_ASCII)), "the token went on the wire");
            assertFalse(contains(wire, ticket), "the ticket went on the wire");
        }
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return true;
        }
        return false;
    }

    /**
     * A left neighbour whose data connection dies in the middle of a message while its control stream stays open (a
     * process half gone, a connection cut): the receiving rank fails within seconds naming it, not after its 30 s
     * timeout. The neighbour is played by the test: it opens the ring stream, proves its ticket on the data port,
     * writes half a broadcast frame and closes the socket. Caught: a reader that takes the end of the stream for a
     * pause, or a message that does not say who vanished.
     */
    @Test
    void aDataConnectionCutMidMessageFailsTheRankNamingThePeer() throws Exception {
        try (Hosts hosts = new Hosts(2)) {
            // rank 1 (on host 1) is the end of a broadcast from rank 0: it only receives
            Collective c1 = NetCollective.join(hosts.transport, hosts.endpoint(1), "cut", 1, hosts.ranks(1), LONG, CHUNK, 4);
            ManagedChannel ch = hosts.transport.channel(hosts.address(1).toString());
            try {
                CompletableFuture<RingAccept> accept = new CompletableFuture<>();
                StreamObserver<RingFrame> stream = RingGrpc.newStub(ch).stream(new StreamObserver<>() {
                    @Override
                    public void onNext(RingAccept value) {
                        accept.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        accept.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
                stream.onNext(RingFrame.newBuilder().setGroup("cut").setFromRank(0).setToRank(1).setSize(2).build());
                RingAccept a = accept.get(10, TimeUnit.SECONDS);
                assertTrue(a.getDataPort() > 0, "rank 1 offers a data port");
                Throwable[] thrown = new Throwable[1];
                Thread t = new Thread(() -> {
                    try {
                        c1.broadcast(new float[100], 0, 100, 0);
                    } catch (Throwable e) {
                        thrown[0] = e;
                    }
                });
                t.start();
                try (SocketChannel data = SocketPlane.connect(hosts.transport, "127.0.0.1", a.getDataPort(),
                        a.getTicket().toByteArray(), "cut", 0, 1, 2, TimeUnit.SECONDS.toNanos(5))) {
                    ByteBuffer half = ByteBuffer.allocate(SocketPlane.HEADER_BYTES + 20).order(ByteOrder.LITTLE_ENDIAN);
                    half.putInt(RingCollective.BROADCAST).putInt(100).putInt(0).putInt(4 * 14).put(new byte[20]).flip();
                    while (half.hasRemaining()) data.write(half);
                }
                long t0 = System.nanoTime();
                t.join(10_000);
                double s = (System.nanoTime() - t0) / 1e9;
                assertFalse(t.isAlive(), "rank 1 still waits");
                assertTrue(s < 5, "took " + s + " s to notice");
                IllegalStateException e = assertInstanceOf(IllegalStateException.class, thrown[0]);
                assertTrue(e.getMessage().contains("rank 0 at " + hosts.address(0) + " vanished during broadcast")
                        && e.getMessage().contains("in the middle of a message"), e.getMessage());
                stream.onCompleted();
            } finally {
                c1.close();
                ch.shutdownNow();
                ch.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** The data port opens with the first group of two or more ranks, not before; a group of one opens none. */
    @Test
    void noDataPortWithoutAJoinAndNoneForAGroupOfOne() throws Exception {
        try (Hosts hosts = new Hosts(1)) {
            assertEquals(0, hosts.endpoint(0).dataPort(), "no port before a rank joins");
            try (Collective c = NetCollective.join(hosts.transport, hosts.endpoint(0), "solo", 0, hosts.ranks(1), LONG)) {
                c.allReduce(new float[3], 0, 3, ReduceOp.SUM);
                assertEquals(0, hosts.endpoint(0).dataPort(), "a group of one uses no network");
                assertNotNull(c.toString());
            }
        }
    }
}
