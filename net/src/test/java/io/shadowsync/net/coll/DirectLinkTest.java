package io.shadowsync.net.coll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.Ranks;
import io.shadowsync.comm.RingCollective;
import io.shadowsync.comm.RingLink;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pairwise exchange across processes (each rank on a host of its own, as separate processes would be): every pair
 * swaps its vectors on direct connections between the two ranks' data ports ({@link SocketPlane#PEER_MAGIC}), so a rank
 * sends its own vector once, never relays.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DirectLinkTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    private static final int CHUNK = 64;
    /** What a rank shares in its group's first exchange: its peer (4), a flag (1), its data port (4) and ticket (32). */
    private static final int FIRST_PAIRING = 4 + 1 + 4 + 32;

    /** Neighbours, mirrors (up to N − 1 hops), opposites (N/2 hops), then neighbours again (cached connections). */
    private static int[] pairs(int n, int round) {
        int[] p = new int[n];
        for (int r = 0; r < n; r++) {
            p[r] = switch (round % 3) {
                case 0 -> r ^ 1;
                case 1 -> n - 1 - r;
                default -> r ^ (n / 2);
            };
        }
        return p;
    }

    private static Collective[] join(Hosts hosts, int n, String group, Codec codec) {
        Collective[] c = new Collective[n];
        for (int r = 0; r < n; r++) {
            c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), group, r, hosts.ranks(1), LONG, CHUNK,
                    NetCollective.DEFAULT_WINDOW, codec);
        }
        return c;
    }

    /**
     * At N = 4 and 8, over four exchanges with peers 1 to N − 1 hops apart on the ring, each rank sends one vector
     * (4·len bytes) plus the pairing: every rank's 4 bytes forwarded N − 1 times, and in the group's first exchange its
     * data port and ticket (41 bytes). Each rank gets its peer's vector bit for bit. Caught: the ring relay (up to N/2
     * vectors a rank: 2 to 4 here), a direct connection that is not used (a plane that falls back to the relay), frames
     * of one peer delivered as another's.
     */
    @Test
    void aRankSendsOneVectorToItsPeerOnADirectConnection() throws Exception {
        int len = 1000;
        for (int n : new int[] {4, 8}) {
            try (Hosts hosts = new Hosts(n)) {
                Collective[] c = join(hosts, n, "direct", Codec.FLOAT32);
                try {
                    for (int round = 0; round < 4; round++) {
                        int[] peers = pairs(n, round);
                        long[] sent = new long[n];
                        float[][] got = new float[n][len];
                        Ranks.runAll(n, r -> {
                            long b = c[r].bytesSent();
                            c[r].exchange(peers[r], NetCollectiveTest.input(r, len, 0), 0, got[r], 0, len);
                            sent[r] = c[r].bytesSent() - b;
                        });
                        for (int r = 0; r < n; r++) {
                            long overhead = (long) (n - 1) * (round == 0 ? FIRST_PAIRING : 4);
                            assertEquals(4L * len + overhead, sent[r], "N=" + n + " round " + round + " rank " + r + " (peer " + peers[r] + ")");
                            assertArrayEquals(NetCollectiveTest.bits(NetCollectiveTest.input(peers[r], len, 0)), NetCollectiveTest.bits(got[r]),
                                    "N=" + n + " round " + round + ": rank " + r + " gets rank " + peers[r] + "'s vector");
                        }
                    }
                } finally {
                    for (Collective x : c) x.close();
                }
            }
        }
    }

    /**
     * Under a message codec (int8) a rank's one message goes to its peer only: its bytes plus the pairing, raw bytes of
     * one float32 vector, and the peer decodes what the encoder sent. Caught: messages still all-gathered (N − 1 a rank).
     */
    @Test
    void anEncodedExchangeSendsOneMessageToThePeer() throws Exception {
        int n = 4, len = 777;
        Codec codec = Codec.named("int8");
        try (Hosts hosts = new Hosts(n)) {
            Collective[] c = join(hosts, n, "int8", codec);
            try {
                for (int round = 0; round < 2; round++) {
                    int[] peers = pairs(n, round + 1);
                    long[] sent = new long[n], raw = new long[n];
                    float[][] got = new float[n][len];
                    Ranks.runAll(n, r -> {
                        long b = c[r].bytesSent(), w = c[r].rawBytesSent();
                        c[r].exchangeEncoded(codec.encoder(r), peers[r], NetCollectiveTest.input(r, len, 0), 0, got[r], 0, len);
                        sent[r] = c[r].bytesSent() - b;
                        raw[r] = c[r].rawBytesSent() - w;
                    });
                    for (int r = 0; r < n; r++) {
                        long overhead = (long) (n - 1) * (round == 0 ? FIRST_PAIRING : 4);
                        assertEquals(codec.encodedBytes(len) + overhead, sent[r], "round " + round + " rank " + r);
                        assertEquals(4L * len + overhead, raw[r], "round " + round + " rank " + r + ": raw bytes");
                        float[] want = new float[len];
                        codec.decode(ByteBuffer.wrap(codec.encoder(peers[r]).encode(NetCollectiveTest.input(peers[r], len, 0), 0, len)), want, 0, len);
                        assertArrayEquals(want, got[r], "rank " + r + " decodes its peer's message");
                    }
                }
            } finally {
                for (Collective x : c) x.close();
            }
        }
    }

    /** Rank r's direct channel with its peer, as the exchange keeps it (the ring's link is private to the collective). */
    private static RingLink directOf(Collective c, int peer) throws Exception {
        java.lang.reflect.Field f = RingCollective.class.getDeclaredField("link");
        f.setAccessible(true);
        NetRingLink link = (NetRingLink) f.get(c);
        return link.direct(peer, new byte[36], "exchange"); // opened by the exchange: the cached channel, the address unused
    }

    /**
     * A peer that closed its handle is not waited on: rank 0's wait for a message on its direct connection with rank 2
     * fails within seconds (the group's timeout is 30 s) saying rank 2 closed its handle; one whose process died fails
     * as vanished. Caught: a direct connection whose end nobody watches (the wait would run into the timeout, or
     * forever without one).
     */
    @Test
    void aPeerThatLeftFailsTheWaitAtOnce() throws Exception {
        int n = 3, len = 100;
        try (Hosts hosts = new Hosts(n)) {
            Collective[] c = join(hosts, n, "leave", Codec.FLOAT32);
            try {
                int[] peers = {2, 1, 0};
                Ranks.runAll(n, r -> c[r].exchange(peers[r], NetCollectiveTest.input(r, len, 0), 0, new float[len], 0, len));
                RingLink toTwo = directOf(c[0], 2);
                c[2].close();
                long t0 = System.nanoTime();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> toTwo.take("exchange"));
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "waited " + (System.nanoTime() - t0) / 1e9 + " s");
                assertTrue(e.getMessage().contains("rank 2 at") && e.getMessage().contains("has closed its collective handle"), e.getMessage());
            } finally {
                for (Collective x : c) x.close();
            }
        }
    }

    /**
     * Only a member that holds the job's token and the ticket its peer shared over the ring attaches a direct
     * connection, and only one per peer. Caught: a direct connection taken on the ticket alone, or on the token alone,
     * a second connection that hijacks a peer's.
     */
    @Test
    void aDirectConnectionWithoutTheTokenOrTheTicketIsRefused(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("good"), "0123456789abcdef-good");
        Path bad = Files.writeString(dir.resolve("bad"), "0123456789abcdef-bad!");
        Transport stranger = new Transport(NetConfig.LOOPBACK.withToken(bad));
        try (Hosts hosts = new Hosts(3, new Transport(NetConfig.LOOPBACK.withToken(good)))) {
            Collective[] c = join(hosts, 3, "g", Codec.FLOAT32);
            try {
                int[] peers = {2, 1, 0};
                Ranks.runAll(3, r -> c[r].exchange(peers[r], NetCollectiveTest.input(r, 5, 0), 0, new float[5], 0, 5));
                int port = hosts.endpoint(2).dataPort();
                byte[] ticket = hosts.endpoint(2).link("g", 2).peerTicket();
                long five = TimeUnit.SECONDS.toNanos(5);
                IllegalStateException noToken = assertThrows(IllegalStateException.class, () ->
                        SocketPlane.connect(stranger, "127.0.0.1", port, ticket, "g", 1, 2, 3, five, true));
                assertTrue(noToken.getMessage().contains("refused the direct connection of group 'g'")
                        && noToken.getMessage().contains("did not prove the job's token"), noToken.getMessage());
                IllegalStateException ringTicket = assertThrows(IllegalStateException.class, () -> SocketPlane.connect(hosts.transport,
                        "127.0.0.1", port, hosts.endpoint(2).link("g", 2).ticket(), "g", 1, 2, 3, five, true));
                assertTrue(ringTicket.getMessage().contains("did not prove"), ringTicket.getMessage());
                IllegalStateException second = assertThrows(IllegalStateException.class, () ->
                        SocketPlane.connect(hosts.transport, "127.0.0.1", port, ticket, "g", 0, 2, 3, five, true));
                assertTrue(second.getMessage().contains("already has a direct connection"), second.getMessage());
                SocketPlane.closeQuietly(SocketPlane.connect(hosts.transport, "127.0.0.1", port, ticket, "g", 1, 2, 3, five, true));
                float[][] x = {{1}, {2}, {3}};
                Ranks.runAll(3, r -> c[r].exchange(peers[r], x[r].clone(), 0, x[r], 0, 1));
                assertArrayEquals(new float[] {3}, x[0], "the group goes on");
            } finally {
                for (Collective x : c) x.close();
            }
        }
    }
}
