package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pairwise exchange on its direct channels ({@link RingLink#direct}): each rank sends its own vector once, to its
 * peer, and pays its outgoing link for that one vector, whatever the pairs' distance on the ring.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DirectExchangeTest {
    /**
     * The pairing's overhead per rank: every rank's pairing message forwarded N − 1 times, 4 bytes (its peer), and in
     * the group's first exchange 5 (the peer and whether its link has direct channels; in one JVM the address is empty).
     */
    static long pairing(int n, boolean first) {
        return (long) (n - 1) * (first ? 5 : 4);
    }

    /**
     * A pairing per round: neighbours (r ^ 1), mirrors (N − 1 − r: up to N − 1 hops on the ring), opposites (N/2 hops),
     * then random perfect matchings with one pair sitting out (each names itself).
     */
    static int[] pairs(int n, int round) {
        int[] p = new int[n];
        for (int r = 0; r < n; r++) {
            p[r] = switch (round) {
                case 0 -> r ^ 1;
                case 1 -> n - 1 - r;
                case 2 -> r ^ (n / 2);
                default -> -1;
            };
        }
        if (round > 2) {
            int[] perm = new java.util.SplittableRandom(round).ints(0, Integer.MAX_VALUE).limit(n).toArray();
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            java.util.Arrays.sort(order, java.util.Comparator.comparingInt(i -> perm[i]));
            for (int i = 0; i + 1 < n; i += 2) {
                p[order[i]] = order[i + 1];
                p[order[i + 1]] = order[i];
            }
            p[order[0]] = order[0]; // one pair sits out
            p[order[1]] = order[1];
        }
        return p;
    }

    /**
     * At N = 4 and 8, over pairings 1 to N − 1 hops apart on the ring (and ranks that sit out), each rank's
     * bytes for one exchange are one vector (4·len) plus the pairing's few bytes, counted by the collective and by the
     * rank's emulated link alike, and each rank gets its peer's vector. Caught: the ring relay (a rank sends up to N/2
     * vectors: 2, 3 or 4 of them here), a direct send that still forwards others' vectors, a link not charged for the
     * direct messages (the --net-bandwidth model would make gossip free), a channel that delivers another rank's vector.
     */
    @Test
    void aRankSendsOneVectorPerExchange() throws Exception {
        int len = 1000;
        for (int n : new int[] {4, 8}) {
            try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 300)) {
                for (int round = 0; round < 12; round++) {
                    boolean first = round == 0;
                    int[] peers = pairs(n, round);
                    long[] sent = new long[n], onLink = new long[n];
                    float[][] got = new float[n][len];
                    Ranks.runAll(n, r -> {
                        Collective c = g.rank(r);
                        long b = c.bytesSent(), l = g.link(r).bytes();
                        c.exchange(peers[r], ControlChannelTest.input(r, len), 0, got[r], 0, len);
                        sent[r] = c.bytesSent() - b;
                        onLink[r] = g.link(r).bytes() - l;
                    });
                    for (int r = 0; r < n; r++) {
                        long want = (peers[r] == r ? 0 : 4L * len) + pairing(n, first);
                        assertEquals(want, sent[r], "N=" + n + " round " + round + " rank " + r + " (peer " + peers[r] + "): bytes sent");
                        assertEquals(want, onLink[r], "N=" + n + " round " + round + " rank " + r + ": bytes its emulated link carried");
                        assertArrayEquals(ControlChannelTest.input(peers[r], len), got[r], "N=" + n + " rank " + r + " gets its peer's");
                    }
                }
            }
        }
    }

    /**
     * Under a message codec the peer's message goes straight to it: one message per rank plus the pairing, and raw
     * bytes of one float32 vector. Caught: messages still all-gathered (N − 1 of them per rank), raw counting the relay.
     */
    @Test
    void anEncodedExchangeSendsOneMessagePerRank() throws Exception {
        int n = 8, len = 500;
        Codec codec = Codec.named("int8");
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 64, codec)) {
            for (int round = 0; round < 3; round++) {
                int[] peers = pairs(n, round + 3);
                long[] sent = new long[n], raw = new long[n];
                float[][] got = new float[n][len];
                Ranks.runAll(n, r -> {
                    Collective c = g.rank(r);
                    long b = c.bytesSent(), w = c.rawBytesSent();
                    c.exchangeEncoded(codec.encoder(r), peers[r], ControlChannelTest.input(r, len), 0, got[r], 0, len);
                    sent[r] = c.bytesSent() - b;
                    raw[r] = c.rawBytesSent() - w;
                });
                for (int r = 0; r < n; r++) {
                    long overhead = pairing(n, round == 0), paired = peers[r] == r ? 0 : 1;
                    assertEquals(paired * codec.encodedBytes(len) + overhead, sent[r], "round " + round + " rank " + r);
                    assertEquals(paired * 4L * len + overhead, raw[r], "round " + round + " rank " + r + ": raw is one float32 vector");
                    float[] want = new float[len];
                    codec.decode(ByteBuffer.wrap(codec.encoder(peers[r]).encode(ControlChannelTest.input(peers[r], len), 0, len)), want, 0, len);
                    assertArrayEquals(want, got[r], "rank " + r + " decodes its peer's message");
                }
            }
        }
    }

    /**
     * A peer that has closed its handle is not waited on: a direct channel from it fails at once, whether it was made
     * before the peer left or after (the group's timeout here is an hour). Caught: a mailbox that never learns its
     * producer left (an exchange with a departed peer would wait for the whole timeout, or forever).
     */
    @Test
    void aDepartedPeerIsNotWaitedOn() throws Exception {
        try (InProcessCollectives g = new InProcessCollectives(4, LinkModel.NONE, Duration.ofHours(1), 64)) {
            Mailbox before = g.directBox(1, 0);
            g.rank(1).close();
            Mailbox after = g.directBox(2, 1); // made after rank 1 left: a sender to it fails too
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> before.take("exchange"));
            assertTrue(e.getMessage().contains("rank 1, which has closed its collective handle"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> after.claim("exchange"));
            assertThrows(IllegalStateException.class, () -> g.directBox(1, 3).take("exchange"));
        }
    }

    /**
     * A group that failed fails its direct channels too, those made later included. Caught: a failure that wakes only
     * the ring's mailboxes (a rank blocked on its peer would sleep on).
     */
    @Test
    void aFailedGroupFailsItsDirectChannels() throws Exception {
        try (InProcessCollectives g = new InProcessCollectives(3, LinkModel.NONE, Duration.ofHours(1), 64)) {
            Mailbox made = g.directBox(0, 2);
            g.fail(new IllegalStateException("rank 1 broke"));
            assertTrue(assertThrows(IllegalStateException.class, () -> made.take("exchange")).getMessage().contains("rank 1 broke"));
            assertTrue(assertThrows(IllegalStateException.class, () -> g.directBox(2, 0).take("exchange")).getMessage().contains("rank 1 broke"));
        }
    }
}
