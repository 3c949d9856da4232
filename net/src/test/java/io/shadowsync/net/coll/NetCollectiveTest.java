package io.shadowsync.net.coll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.Collective.ReduceOp;
import io.shadowsync.comm.CollectiveTimeoutException;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.Ranks;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetCollectiveTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    /** Rank r's input for a case: seeded by (rank, len), values in [−1, 1), with {@code pad} margin floats each side. */
    static float[] input(int rank, int len, int pad) {
        SplittableRandom rng = new SplittableRandom(1000L * rank + len);
        float[] x = new float[len + 2 * pad];
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * rng.nextDouble() - 1);
        return x;
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < b.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }

    /** Joins every rank of a group (one thread joins all: join must not wait for the others). */
    private static Collective[] join(Hosts hosts, String group, List<HostPort> addresses, int perHost, Duration timeout,
                                     int chunk) {
        Collective[] c = new Collective[addresses.size()];
        for (int r = 0; r < c.length; r++) {
            c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r / perHost), group, r, addresses, timeout, chunk,
                    NetCollective.DEFAULT_WINDOW);
        }
        return c;
    }

    private static void closeAll(Collective[] c) {
        for (Collective x : c) if (x != null) x.close();
    }

    /** Every rank allreduces its input (with untouched margins of 3 floats) and returns the results. */
    private static float[][] allReduce(Collective[] c, int len, ReduceOp op) throws Exception {
        int pad = 3;
        float[][] out = new float[c.length][];
        Ranks.runAll(c.length, r -> {
            float[] x = input(r, len, pad);
            c[r].allReduce(x, pad, len, op);
            out[r] = x;
        });
        return out;
    }

    @Test
    void allReduceGivesTheInProcessRingsBitsOnEveryRank() throws Exception {
        for (int n = 2; n <= 5; n++) {
            int[] lengths = {0, 1, 7, n - 1, 1000, 1_000_003};
            float[][][][] want = new float[lengths.length][2][][];
            try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 4096)) {
                for (int i = 0; i < lengths.length; i++) {
                    for (ReduceOp op : ReduceOp.values()) want[i][op.ordinal()] = allReduce(g.ranks(), lengths[i], op);
                }
            }
            try (Hosts hosts = new Hosts(n)) {
                Collective[] c = join(hosts, "g", hosts.ranks(1), 1, LONG, 4096);
                try {
                    for (int i = 0; i < lengths.length; i++) {
                        for (ReduceOp op : ReduceOp.values()) {
                            float[][] got = allReduce(c, lengths[i], op);
                            for (int r = 0; r < n; r++) {
                                assertArrayEquals(bits(want[i][op.ordinal()][r]), bits(got[r]), "n=" + n + " len="
                                        + lengths[i] + " " + op + " rank " + r + " differs from the in-process ring");
                            }
                            checkNaiveSum(got[n - 1], n, lengths[i], op);
                        }
                    }
                    // 2(n−1)/n of each vector, twice (SUM and MEAN); segments differ by one float, so allow 2n per call
                    long total = 0;
                    for (int len : lengths) total += len;
                    assertEquals(2.0 * 4 * 2 * (n - 1) * total / n, c[0].bytesSent(), 2.0 * lengths.length * 4 * 2 * n);
                } finally {
                    closeAll(c);
                }
            }
        }
    }

    /** Spot-checks a result against a double-precision sum of the inputs; the margins stay the rank's own. */
    private static void checkNaiveSum(float[] got, int n, int len, ReduceOp op) {
        int pad = 3;
        float[][] in = new float[n][];
        for (int r = 0; r < n; r++) in[r] = input(r, len, pad);
        for (int i = 0; i < len + 2 * pad; i += 1 + len / 50) {
            boolean inside = i >= pad && i < pad + len;
            double sum = 0, abs = 0;
            for (int r = 0; r < n; r++) {
                sum += in[r][i];
                abs += Math.abs(in[r][i]);
            }
            double want = inside ? (op == ReduceOp.MEAN ? sum / n : sum) : in[n - 1][i];
            assertEquals(want, got[i], inside ? 1e-6 * abs + 1e-7 : 0, "n=" + n + " len=" + len + " " + op + " at " + i);
        }
    }

    @Test
    void broadcastFromEveryRootAllGatherAndTinyChunks() throws Exception {
        int n = 4, len = 50;
        try (Hosts hosts = new Hosts(n)) {
            Collective[] c = join(hosts, "b", hosts.ranks(1), 1, LONG, 7);
            try {
                for (int root = 0; root < n; root++) {
                    final int rt = root;
                    float[][] got = new float[n][];
                    Ranks.runAll(n, r -> {
                        float[] x = input(r, len, 1);
                        c[r].broadcast(x, 1, len, rt);
                        got[r] = x;
                    });
                    float[] want = input(root, len, 1);
                    for (int r = 0; r < n; r++) {
                        float[] mine = input(r, len, 1);
                        assertEquals(mine[0], got[r][0]);
                        assertEquals(mine[len + 1], got[r][len + 1]);
                        for (int i = 1; i <= len; i++) assertEquals(want[i], got[r][i], "root " + rt + " rank " + r);
                    }
                }
                int g = 11;
                float[][] all = new float[n][];
                Ranks.runAll(n, r -> {
                    float[] recv = new float[2 + n * g];
                    c[r].allGather(input(r, g, 0), 0, g, recv, 2);
                    all[r] = recv;
                });
                for (int r = 0; r < n; r++) {
                    assertEquals(0f, all[r][0]);
                    for (int src = 0; src < n; src++) {
                        float[] want = input(src, g, 0);
                        for (int i = 0; i < g; i++) assertEquals(want[i], all[r][2 + src * g + i], "rank " + r + " block " + src);
                    }
                }
                // 1,000 floats in chunks of 7: 36 messages per segment, more than the window, so flow control works
                float[][] big;
                try (InProcessCollectives ref = new InProcessCollectives(n, LinkModel.NONE, LONG, 7)) {
                    big = allReduce(ref.ranks(), 1000, ReduceOp.MEAN);
                }
                float[][] got = allReduce(c, 1000, ReduceOp.MEAN);
                for (int r = 0; r < n; r++) assertArrayEquals(bits(big[r]), bits(got[r]));
            } finally {
                closeAll(c);
            }
        }
    }

    /**
     * The typed control channel and the pairwise exchange over gRPC, in chunks of 7 floats (28 bytes): longs above
     * 2^53 sum exactly (a float or double encoding would round them), byte messages of different lengths (one empty,
     * one of 36 frames, more than the window) arrive as sent and are counted as sent, and every rank gets its peer's
     * vector for pairs of neighbours, of far ranks, and with ranks that name themselves.
     */
    @Test
    void longsBytesAndPairwiseExchangeOverTheRing() throws Exception {
        int n = 4;
        try (Hosts hosts = new Hosts(2)) {
            Collective[] c = join(hosts, "ctl", hosts.ranks(2), 2, LONG, 7);
            try {
                long[][] sums = new long[n][];
                byte[][][] msgs = new byte[n][][];
                Ranks.runAll(n, r -> {
                    long[] x = {(1L << 40) + 3 * r + 1, Long.MAX_VALUE - r, -(1L << 60) + r};
                    c[r].allReduceLongs(x, 0, 3);
                    sums[r] = x;
                    msgs[r] = c[r].allGatherBytes(message(r));
                });
                long[] want = new long[3];
                for (int r = 0; r < n; r++) {
                    want[0] += (1L << 40) + 3 * r + 1;
                    want[1] += Long.MAX_VALUE - r;
                    want[2] += -(1L << 60) + r;
                }
                long allBytes = 0;
                for (int r = 0; r < n; r++) allBytes += message(r).length;
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(want, sums[r], "rank " + r);
                    for (int src = 0; src < n; src++) assertArrayEquals(message(src), msgs[r][src], "rank " + r + " from " + src);
                    // 3 ranks' 24 bytes each, then every message but the right neighbour's
                    assertEquals(3 * 24 + allBytes - message((r + 1) % n).length, c[r].bytesSent(), "rank " + r);
                }
                int len = 50;
                for (int[] peers : new int[][] {{1, 0, 3, 2}, {3, 2, 1, 0}, {2, 1, 0, 3}}) {
                    float[][] got = new float[n][];
                    Ranks.runAll(n, r -> {
                        float[] recv = new float[len + 2];
                        c[r].exchange(peers[r], input(r, len, 0), 0, recv, 1, len);
                        got[r] = recv;
                    });
                    for (int r = 0; r < n; r++) {
                        assertEquals(0f, got[r][0]);
                        assertEquals(0f, got[r][len + 1]);
                        assertArrayEquals(input(peers[r], len, 0), Arrays.copyOfRange(got[r], 1, len + 1),
                                "rank " + r + " of pairing " + Arrays.toString(peers));
                    }
                }
            } finally {
                closeAll(c);
            }
        }
    }

    /**
     * The job's codec on the wire: with bf16 an allReduce gives the in-process ring's bits under bf16 (the same
     * rounding at the same places), an allGather counts 2 bytes per value sent, and the control channel still sums
     * longs exactly (it never goes through the codec).
     */
    @Test
    void aLossyCodecRoundsAsInProcessAndCountsItsEncodedBytes() throws Exception {
        int n = 3, len = 1000, g = 11;
        try (Hosts hosts = new Hosts(n)) {
            Collective[] c = new Collective[n];
            for (int r = 0; r < n; r++) {
                c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "bf", r, hosts.ranks(1), LONG, 7,
                        NetCollective.DEFAULT_WINDOW, Codec.BF16);
            }
            try {
                float[][] want;
                try (InProcessCollectives ref = new InProcessCollectives(n, LinkModel.NONE, LONG, 7, Codec.BF16)) {
                    want = allReduce(ref.ranks(), len, ReduceOp.SUM);
                }
                float[][] got = allReduce(c, len, ReduceOp.SUM);
                for (int r = 0; r < n; r++) assertArrayEquals(bits(want[r]), bits(got[r]), "rank " + r);
                long[] before = new long[n];
                long[][] sums = new long[n][];
                for (int r = 0; r < n; r++) before[r] = c[r].bytesSent();
                Ranks.runAll(n, r -> {
                    c[r].allGather(input(r, g, 0), 0, g, new float[n * g], 0);
                    long[] x = {(1L << 40) + r};
                    c[r].allReduceLongs(x, 0, 1);
                    sums[r] = x;
                });
                for (int r = 0; r < n; r++) {
                    assertEquals(before[r] + 2L * (n - 1) * g + 8L * (n - 1), c[r].bytesSent(), "rank " + r);
                    assertEquals(3 * (1L << 40) + 3, sums[r][0], "rank " + r);
                }
            } finally {
                closeAll(c);
            }
        }
    }

    /**
     * A message codec across processes: top-k's messages travel whole (typed byte messages on the ring), every rank adds
     * them in rank order, so each rank gets the in-process group's bits for the same inputs, the same on every rank,
     * and sends its message to N − 1 ranks.
     */
    @Test
    void aMessageCodecGivesEveryRankTheInProcessBits() throws Exception {
        int n = 3, len = 1000;
        Codec topk = Codec.named("topk:0.05");
        try (Hosts hosts = new Hosts(n)) {
            Collective[] c = new Collective[n];
            for (int r = 0; r < n; r++) {
                c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "topk", r, hosts.ranks(1), LONG, 7,
                        NetCollective.DEFAULT_WINDOW, topk);
            }
            try (InProcessCollectives ref = new InProcessCollectives(n, LinkModel.NONE, LONG, 7, topk)) {
                float[][] want = new float[n][], got = new float[n][];
                Collective[] local = ref.ranks();
                Ranks.runAll(n, r -> {
                    want[r] = input(r, len, 0);
                    local[r].allReduceEncoded(topk.encoder(r), want[r], 0, len, ReduceOp.MEAN);
                });
                Ranks.runAll(n, r -> {
                    got[r] = input(r, len, 0);
                    c[r].allReduceEncoded(topk.encoder(r), got[r], 0, len, ReduceOp.MEAN);
                });
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(bits(want[0]), bits(got[r]), "rank " + r);
                    assertEquals((n - 1) * topk.encodedBytes(len), c[r].bytesSent(), "rank " + r);
                }
            } finally {
                closeAll(c);
            }
        }
    }

    private static byte[] message(int r) {
        if (r == 1) return new byte[0];
        if (r == 2) {
            byte[] b = new byte[1000];
            new SplittableRandom(r).nextBytes(b);
            return b;
        }
        return ("trainer " + r + " cannot write /ckpt-é✓").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void noRankPassesABarrierBeforeAllHaveArrived() throws Exception {
        int n = 3, rounds = 20;
        AtomicInteger arrived = new AtomicInteger();
        try (Hosts hosts = new Hosts(n)) {
            Collective[] c = join(hosts, "barrier", hosts.ranks(1), 1, LONG, 64);
            try {
                Ranks.runAll(n, r -> {
                    for (int k = 0; k < rounds; k++) {
                        if ((r + k) % 3 == 0) Thread.yield();
                        arrived.incrementAndGet();
                        c[r].barrier();
                        int seen = arrived.get();
                        if (seen < (k + 1) * n) throw new AssertionError("rank " + r + " passed barrier " + k + " after " + seen);
                    }
                });
            } finally {
                closeAll(c);
            }
        }
        assertEquals(n * rounds, arrived.get());
    }

    /**
     * Sync SGD's layout: 2 processes with 2 ranks each in group "sgd", beside the 2-rank group "trainers" in the
     * same processes, all running at once; each stays in step with mixed operations and lengths.
     */
    @Test
    void severalRanksAndGroupsShareOneEndpointPerProcess() throws Exception {
        try (Hosts hosts = new Hosts(2)) {
            Collective[] sgd = join(hosts, "sgd", hosts.ranks(2), 2, LONG, 5);
            Collective[] trainers = join(hosts, "trainers", hosts.ranks(1), 1, LONG, 64);
            try {
                assertEquals(3, hosts.endpoint(0).ranks());
                Ranks.runAll(6, t -> {
                    Collective c = t < 4 ? sgd[t] : trainers[t - 4];
                    int n = c.size(), r = c.rank();
                    SplittableRandom shared = new SplittableRandom(t < 4 ? 99 : 7);
                    for (int k = 0; k < 40; k++) {
                        int len = shared.nextInt(60), root = shared.nextInt(n);
                        float[] x = new float[len];
                        Arrays.fill(x, r + k);
                        c.allReduce(x, 0, len, ReduceOp.SUM);
                        for (float v : x) if (v != n * k + n * (n - 1) / 2) throw new AssertionError("round " + k + ": " + v);
                        Arrays.fill(x, r);
                        c.broadcast(x, 0, len, root);
                        for (float v : x) if (v != root) throw new AssertionError("broadcast round " + k + ": " + v);
                        int g = Math.min(len, 8);
                        float[] all = new float[n * g];
                        c.allGather(new float[] {r, r, r, r, r, r, r, r}, 0, g, all, 0);
                        for (int i = 0; i < n * g; i++) if (all[i] != i / g) throw new AssertionError("allGather round " + k);
                        c.barrier();
                    }
                });
            } finally {
                closeAll(sgd);
                closeAll(trainers);
            }
            assertEquals(0, hosts.endpoint(0).ranks());
            assertEquals(0, hosts.endpoint(1).ranks());
        }
    }

    @Test
    void mismatchedLengthsFailEveryRankWithAClearMessage() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            Collective[] c = join(hosts, "m", hosts.ranks(1), 1, LONG, 64);
            try {
                Throwable[] thrown = Ranks.run(3, r -> c[r].allReduce(new float[10], 0, r == 1 ? 9 : 10, ReduceOp.SUM));
                for (int r = 0; r < 3; r++) assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
                String all = thrown[0].getMessage() + thrown[1].getMessage() + thrown[2].getMessage();
                assertTrue(all.contains("allReduce(SUM) of 10 floats") && all.contains("allReduce(SUM) of 9 floats"), all);
                // the group is broken for good: the next call fails at once rather than hanging
                IllegalStateException late = assertThrows(IllegalStateException.class, () -> c[0].barrier());
                assertTrue(late.getMessage().contains("the collective group has failed"), late.getMessage());
            } finally {
                closeAll(c);
            }
        }
    }

    @Test
    void mismatchedOperationsAreCaught() throws Exception {
        try (Hosts hosts = new Hosts(2)) {
            Collective[] c = join(hosts, "ops", hosts.ranks(1), 1, LONG, 64);
            try {
                Throwable[] thrown = Ranks.run(2, r -> {
                    if (r == 0) c[r].barrier();
                    else c[r].broadcast(new float[4], 0, 4, 1);
                });
                assertInstanceOf(IllegalStateException.class, thrown[0]);
                assertTrue(thrown[0].getMessage().contains("rank 0 called barrier, but rank 1 sent a message of broadcast "
                        + "from root 1 of 4 floats"), thrown[0].getMessage());
            } finally {
                closeAll(c);
            }
        }
    }

    // repeated: a close that cut the channel before its goodbye reached the neighbour failed about 1 run in 40
    @RepeatedTest(20)
    void aClosedPeerIsNamedAtOnce() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            Collective[] c = join(hosts, "closed", hosts.ranks(1), 1, LONG, 64);
            try {
                c[2].close();
                long t0 = System.nanoTime();
                Throwable[] thrown = Ranks.run(2, r -> c[r].allReduce(new float[300], 0, 300, ReduceOp.SUM));
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "took too long to notice");
                String peer = "rank 2 at " + hosts.address(2);
                for (int r = 0; r < 2; r++) {
                    assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
                    assertTrue(thrown[r].getMessage().contains(peer) && thrown[r].getMessage().contains("closed its collective handle"),
                            thrown[r].getMessage());
                }
                assertThrows(IllegalStateException.class, () -> c[2].barrier()); // closed handles refuse work
            } finally {
                closeAll(c);
            }
        }
    }

    @Test
    void aKilledProcessIsNamedWithinSeconds() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            Collective[] c = join(hosts, "kill", hosts.ranks(1), 1, LONG, 1024);
            try {
                AtomicInteger rounds = new AtomicInteger();
                Throwable[] thrown = new Throwable[3];
                Thread[] t = Ranks.start(3, thrown, r -> {
                    float[] x = new float[100_000];
                    while (true) {
                        c[r].allReduce(x, 0, x.length, ReduceOp.MEAN);
                        if (r == 0) rounds.incrementAndGet();
                    }
                });
                while (rounds.get() < 3) Thread.onSpinWait();
                String peer = "rank 2 at " + hosts.address(2);
                hosts.kill(2);
                long t0 = System.nanoTime();
                Ranks.join(t, 10_000);
                double s = (System.nanoTime() - t0) / 1e9;
                assertTrue(s < 5, "took " + s + " s to notice");
                for (int r = 0; r < 3; r++) System.out.printf("killed peer, rank %d after %.3f s: %s%n", r, s, thrown[r]);
                for (int r = 0; r < 2; r++) {
                    assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
                    assertTrue(thrown[r].getMessage().contains(peer), thrown[r].getMessage());
                }
                // who reports first is a race: rank 1 sees its neighbour's stream cut, or the killed side's own endpoint
                // reports rank 1's stream cut before it goes; either way the survivors learn that a stream vanished
                assertTrue(thrown[1].getMessage().contains("vanished during allReduce"), thrown[1].getMessage());
            } finally {
                closeAll(c);
            }
        }
    }

    @Test
    void aSilentPeerTimesOutNamingIt() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            // rank 0 gives up after 0.3 s, the others would wait 30 s: rank 1 wakes because rank 0 tells it
            Collective[] c = new Collective[3];
            for (int r = 0; r < 3; r++) {
                c[r] = NetCollective.join(hosts.transport, hosts.endpoint(r), "silent", r, hosts.ranks(1),
                        r == 0 ? Duration.ofMillis(300) : LONG, 16, NetCollective.DEFAULT_WINDOW);
            }
            try {
                // ranks 0 and 1 call, rank 2 never does: rank 0 waits for rank 2's message and gives up naming it
                long t0 = System.nanoTime();
                Throwable[] thrown = Ranks.run(2, r -> c[r].allReduce(new float[30], 0, 30, ReduceOp.SUM));
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "rank 1 was not woken");
                CollectiveTimeoutException te = assertInstanceOf(CollectiveTimeoutException.class, thrown[0]);
                assertEquals(0, te.rank());
                assertEquals(2, te.waitedFor());
                assertTrue(te.getMessage().contains("for rank 2 at " + hosts.address(2)), te.getMessage());
                assertTrue(thrown[1].getMessage().contains("the collective group has failed: rank 0 at " + hosts.address(0)
                        + " failed: rank 0 waited 0.300 s in allReduce for rank 2"), thrown[1].getMessage());
                // the group is broken for good
                assertThrows(IllegalStateException.class, () -> c[1].barrier());
            } finally {
                closeAll(c);
            }
            // a rank whose right neighbour never joins times out waiting for it to accept the stream
            Collective alone = NetCollective.join(hosts.transport, hosts.endpoint(0), "never", 0, hosts.ranks(1),
                    Duration.ofMillis(300));
            try {
                CollectiveTimeoutException te = assertThrows(CollectiveTimeoutException.class, alone::barrier);
                assertEquals(1, te.waitedFor());
                assertTrue(te.getMessage().contains("rank 1 at " + hosts.address(1)), te.getMessage());
            } finally {
                alone.close();
            }
        }
    }

    @Test
    void anInterruptedRankFailsTheGroupSoItsPeersWakeToo() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            Collective[] c = join(hosts, "intr", hosts.ranks(1), 1, LONG, 64);
            try {
                Throwable[] thrown = new Throwable[2];
                Thread[] t = Ranks.start(2, thrown, r -> c[r].allReduce(new float[100], 0, 100, ReduceOp.SUM));
                while (t[0].isAlive() && t[0].getState() != Thread.State.WAITING && t[0].getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait();
                }
                t[0].interrupt();
                Ranks.join(t, 10_000);
                assertInstanceOf(InterruptedException.class, thrown[0]);
                IllegalStateException peer = assertInstanceOf(IllegalStateException.class, thrown[1]);
                assertTrue(peer.getMessage().contains("rank 0 was interrupted"), peer.getMessage());
            } finally {
                closeAll(c);
            }
        }
    }

    /**
     * A trainer whose job failed aborts its handle with the cause while its peers wait in an allreduce for it: they
     * wake at once (not after the 30 s timeout) with the cause in the message. Caught: an abort that only closes
     * gracefully (the peers learn nothing of why), or one that waits on the neighbours.
     */
    @Test
    void anAbortedRankWakesItsWaitingPeersWithTheCause() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            Collective[] c = join(hosts, "abort", hosts.ranks(1), 1, LONG, 64);
            try {
                allReduce(c, 100, ReduceOp.SUM); // a running job: every rank's streams are up
                Throwable[] thrown = new Throwable[2];
                Thread[] t = Ranks.start(2, thrown, r -> c[r].allReduce(new float[100], 0, 100, ReduceOp.SUM));
                while (t[0].isAlive() && t[0].getState() != Thread.State.WAITING && t[0].getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait();
                }
                long t0 = System.nanoTime();
                c[2].abort(new IllegalStateException("trainer 2's job failed: data.tsv:7: bad label"));
                Ranks.join(t, 10_000);
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "took too long to notice");
                for (int r = 0; r < 2; r++) {
                    IllegalStateException e = assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
                    assertTrue(e.getMessage().contains("data.tsv:7: bad label"), e.getMessage());
                }
            } finally {
                closeAll(c);
            }
        }
    }

    /**
     * A rank that sends a NaN (a broken or foreign peer: the trainers never contribute one) is refused by the rank that
     * receives it, naming the sender, and the whole group fails instead of summing the NaN into every replica. Caught: a
     * ring that adds whatever arrives, as the in-process one does.
     */
    @Test
    void aFrameWithANaNIsRefusedAndFailsTheGroup() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            Collective[] c = join(hosts, "nan", hosts.ranks(1), 1, LONG, 64);
            try {
                float[][] data = new float[3][30];
                data[1][17] = Float.NaN;
                Throwable[] thrown = Ranks.run(3, r -> c[r].allReduce(data[r], 0, 30, ReduceOp.SUM));
                String sender = "rank 1 at " + hosts.address(1);
                boolean named = false;
                for (int r = 0; r < 3; r++) {
                    IllegalStateException e = assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
                    named |= e.getMessage().contains("refused a ring frame from " + sender);
                    if (r != 1) assertFalse(Float.isNaN(data[r][17]), "rank " + r + " took the NaN in");
                }
                assertTrue(named, "the sender is named: " + thrown[2].getMessage());
            } finally {
                closeAll(c);
            }
        }
    }

    @Test
    void closingAfterTheLastOperationDoesNotBreakSlowerPeers() throws Exception {
        try (Hosts hosts = new Hosts(3)) {
            for (int trial = 0; trial < 8; trial++) {
                Collective[] c = join(hosts, "last-" + trial, hosts.ranks(1), 1, LONG, 2);
                float[][] got = new float[3][];
                try {
                    Ranks.runAll(3, r -> {
                        float[] x = {r, r, r, r, r};
                        c[r].allReduce(x, 0, 5, ReduceOp.SUM);
                        c[r].close(); // the others may still be finishing
                        got[r] = x;
                    });
                } finally {
                    closeAll(c);
                }
                for (float[] x : got) assertArrayEquals(new float[] {3, 3, 3, 3, 3}, x);
            }
            for (int i = 0; i < 3; i++) assertEquals(0, hosts.endpoint(i).ranks());
        }
    }

    @Test
    void oneRankIsTheIdentityAndUsesNoNetwork() throws Exception {
        try (Hosts hosts = new Hosts(1)) {
            try (Collective c = NetCollective.join(hosts.transport, hosts.endpoint(0), "solo", 0, hosts.ranks(1), LONG)) {
                float[] x = {1.5f, -2f, 3f};
                c.allReduce(x, 0, 3, ReduceOp.MEAN);
                c.broadcast(x, 0, 3, 0);
                c.barrier();
                float[] all = new float[3];
                c.allGather(x, 0, 3, all, 0);
                assertArrayEquals(new float[] {1.5f, -2f, 3f}, x);
                assertArrayEquals(x, all);
                assertEquals(0, c.bytesSent());
                assertEquals(0, hosts.endpoint(0).ranks());
            }
        }
    }

    @Test
    void aPeerWithTheWrongTokenIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("good"), "0123456789abcdef-good");
        Path bad = Files.writeString(dir.resolve("bad"), "0123456789abcdef-bad!");
        try (Hosts right = new Hosts(1, new Transport(NetConfig.LOOPBACK.withToken(good)));
             Hosts left = new Hosts(1, new Transport(NetConfig.LOOPBACK.withToken(bad)))) {
            List<HostPort> addresses = List.of(left.address(0), right.address(0));
            Collective c0 = NetCollective.join(left.transport, left.endpoint(0), "tok", 0, addresses, LONG);
            Collective c1 = NetCollective.join(right.transport, right.endpoint(0), "tok", 1, addresses, LONG);
            try {
                Throwable[] thrown = Ranks.run(2, r -> (r == 0 ? c0 : c1).barrier());
                assertNotNull(thrown[0]);
                assertTrue(thrown[0].getMessage().contains("rank 1 at " + right.address(0) + " refused the ring stream")
                        && thrown[0].getMessage().contains("UNAUTHENTICATED"), thrown[0].getMessage());
                assertTrue(right.transport.refusedCalls() >= 1);
            } finally {
                c0.close();
                c1.close();
            }
        }
    }

    @Test
    void refusesBadArguments() throws Exception {
        try (Hosts hosts = new Hosts(2)) {
            Transport t = hosts.transport;
            RingEndpoint e = hosts.endpoint(0);
            List<HostPort> two = hosts.ranks(1);
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "", 0, two, LONG));
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "x", 2, two, LONG));
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "x", 0, List.of(), LONG));
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "x", 0, two, Duration.ZERO));
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "x", 0, two, LONG, 0, 4));
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "x", 0, two, LONG, 64 << 20, 4));
            assertThrows(IllegalArgumentException.class, () -> NetCollective.join(t, e, "x", 0, two, LONG, 64, 0));
            try (Collective c = NetCollective.join(t, e, "x", 0, two, LONG)) {
                IllegalStateException twice = assertThrows(IllegalStateException.class,
                        () -> NetCollective.join(t, e, "x", 0, two, LONG));
                assertTrue(twice.getMessage().contains("already joined"), twice.getMessage());
                assertThrows(IndexOutOfBoundsException.class, () -> c.allReduce(new float[4], 2, 3, ReduceOp.SUM));
                assertThrows(IllegalArgumentException.class, () -> c.broadcast(new float[4], 0, 4, 2));
                assertEquals(1, e.ranks());
            }
            assertEquals(0, e.ranks());
        }
    }
}
