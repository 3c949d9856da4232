package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective.ReduceOp;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InProcessCollectivesTest {
    private static final Duration LONG = Duration.ofMinutes(1);

    /** Rank r's input for a case: seeded by (rank, len), values in [−1, 1). */
    private static float[] input(int rank, int len, int pad) {
        SplittableRandom rng = new SplittableRandom(1000L * rank + len);
        float[] x = new float[len + 2 * pad];
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * rng.nextDouble() - 1);
        return x;
    }

    /** The raw bits of the reduced part of a result (the margins are each rank's own). */
    private static int[] bits(float[] a) {
        int[] b = new int[a.length - 6];
        for (int i = 0; i < b.length; i++) b[i] = Float.floatToRawIntBits(a[3 + i]);
        return b;
    }

    /** Every rank allreduces its input (with a margin of untouched floats on both sides) and keeps the result. */
    private static float[][] allReduce(InProcessCollectives g, int len, ReduceOp op) throws Exception {
        int n = g.size(), pad = 3;
        float[][] out = new float[n][];
        Ranks.runAll(n, r -> {
            float[] x = input(r, len, pad);
            g.rank(r).allReduce(x, pad, len, op);
            out[r] = x;
        });
        return out;
    }

    @Test
    void ringAllReduceEqualsANaiveSumOnEveryRankBitForBit() throws Exception {
        for (int n = 1; n <= 7; n++) {
            try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE)) {
                for (int len : new int[] {0, 1, 2, n - 1, n + 1, 1000, 100003}) {
                    for (ReduceOp op : ReduceOp.values()) {
                        float[][] got = allReduce(g, len, op);
                        int pad = 3;
                        float[][] in = new float[n][];
                        for (int r = 0; r < n; r++) in[r] = input(r, len, pad);
                        for (int i = 0; i < len + 2 * pad; i++) {
                            boolean inside = i >= pad && i < pad + len;
                            double sum = 0, abs = 0;
                            for (int r = 0; r < n; r++) {
                                float v = in[r][i];
                                sum += v;
                                abs += Math.abs(v);
                            }
                            double want = inside ? (op == ReduceOp.MEAN ? sum / n : sum) : in[0][i];
                            double tol = inside ? 1e-6 * abs + 1e-7 : 0;
                            assertEquals(want, got[0][i], tol, "n=" + n + " len=" + len + " " + op + " at " + i);
                            if (i > 20 && i < len - 20) i += 97; // spot-check the middle of long vectors
                        }
                        for (int r = 1; r < n; r++) {
                            assertArrayEquals(bits(got[0]), bits(got[r]), "rank " + r + " differs from rank 0, n=" + n
                                    + " len=" + len + " " + op);
                        }
                    }
                }
            }
        }
    }

    @Test
    void resultsAreTheSameBitsRunAfterRunAndForAnyChunkSize() throws Exception {
        int n = 5, len = 1003;
        float[][] first, second, chunked;
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE)) {
            first = allReduce(g, len, ReduceOp.MEAN);
        }
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE)) {
            second = allReduce(g, len, ReduceOp.MEAN);
        }
        // chunks of 3 floats: 67 messages per segment, far more than the 8 in flight, so the window and slot reuse work
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 3)) {
            chunked = allReduce(g, len, ReduceOp.MEAN);
            for (int r = 0; r < n; r++) assertEquals(4L * 2 * (n - 1) * 1003 / n, g.rank(r).bytesSent(), 4L * 2 * n);
        }
        for (int r = 0; r < n; r++) {
            assertArrayEquals(bits(first[0]), bits(second[r]));
            assertArrayEquals(bits(first[0]), bits(chunked[r]));
        }
    }

    @Test
    void oneRankIsTheIdentityAndSendsNothing() throws Exception {
        Collective[] c = InProcessCollectives.create(1, LinkModel.NONE);
        float[] x = {1.5f, -2f, 3f};
        c[0].allReduce(x, 0, 3, ReduceOp.MEAN);
        c[0].broadcast(x, 0, 3, 0);
        c[0].barrier();
        float[] all = new float[3];
        c[0].allGather(x, 0, 3, all, 0);
        assertArrayEquals(new float[] {1.5f, -2f, 3f}, x);
        assertArrayEquals(x, all);
        assertEquals(0, c[0].bytesSent());
    }

    @Test
    void broadcastFromEveryRootWithTinyChunks() throws Exception {
        int n = 4, len = 50;
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 7)) {
            for (int root = 0; root < n; root++) {
                final int rt = root;
                float[][] got = new float[n][];
                Ranks.runAll(n, r -> {
                    float[] x = input(r, len, 1);
                    g.rank(r).broadcast(x, 1, len, rt);
                    got[r] = x;
                });
                float[] want = input(root, len, 1);
                for (int r = 0; r < n; r++) {
                    float[] mine = input(r, len, 1);
                    assertEquals(mine[0], got[r][0]); // margins untouched
                    assertEquals(mine[len + 1], got[r][len + 1]);
                    for (int i = 1; i <= len; i++) assertEquals(want[i], got[r][i], "root " + rt + " rank " + r);
                }
            }
        }
    }

    @Test
    void allGatherPlacesEveryRanksBlock() throws Exception {
        for (int n : new int[] {2, 3, 6}) {
            int len = 11;
            try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 4)) {
                float[][] got = new float[n][];
                Ranks.runAll(n, r -> {
                    float[] recv = new float[2 + n * len];
                    g.rank(r).allGather(input(r, len, 0), 0, len, recv, 2);
                    got[r] = recv;
                });
                for (int r = 0; r < n; r++) {
                    assertEquals(0f, got[r][0]);
                    for (int src = 0; src < n; src++) {
                        float[] want = input(src, len, 0);
                        for (int i = 0; i < len; i++) assertEquals(want[i], got[r][2 + src * len + i]);
                    }
                }
            }
        }
    }

    @Test
    void manyMixedOperationsStayInStep() throws Exception {
        int n = 6, rounds = 150;
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 5)) {
            Ranks.runAll(n, r -> {
                SplittableRandom shared = new SplittableRandom(99); // the same lengths and roots on every rank
                Collective c = g.rank(r);
                for (int k = 0; k < rounds; k++) {
                    int len = shared.nextInt(80), root = shared.nextInt(n);
                    float[] x = new float[len];
                    java.util.Arrays.fill(x, r + k);
                    c.allReduce(x, 0, len, ReduceOp.SUM);
                    for (float v : x) if (v != n * k + n * (n - 1) / 2) throw new AssertionError("round " + k + ": " + v);
                    java.util.Arrays.fill(x, r);
                    c.broadcast(x, 0, len, root);
                    for (float v : x) if (v != root) throw new AssertionError("broadcast round " + k + ": " + v);
                    float[] all = new float[n * len];
                    c.allGather(new float[] {r, r, r, r, r, r, r, r}, 0, Math.min(len, 8), all, 0);
                    for (int i = 0; i < n * Math.min(len, 8); i++) {
                        if (all[i] != i / Math.min(len, 8)) throw new AssertionError("allGather round " + k);
                    }
                    c.barrier();
                }
            });
        }
    }

    @Test
    void noRankPassesABarrierBeforeAllHaveArrived() throws Exception {
        int n = 5, rounds = 30;
        AtomicInteger arrived = new AtomicInteger();
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE)) {
            Ranks.runAll(n, r -> {
                for (int k = 0; k < rounds; k++) {
                    if ((r + k) % 3 == 0) Thread.yield(); // vary who comes last
                    arrived.incrementAndGet();
                    g.rank(r).barrier();
                    int seen = arrived.get();
                    if (seen < (k + 1) * n) throw new AssertionError("rank " + r + " passed barrier " + k + " after only " + seen + " arrivals");
                }
            });
        }
        assertEquals(n * rounds, arrived.get());
    }

    @Test
    void mismatchedLengthsFailEveryRankWithAClearMessage() throws Exception {
        int n = 3;
        InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE);
        Throwable[] thrown = Ranks.run(n, r -> g.rank(r).allReduce(new float[10], 0, r == 1 ? 9 : 10, ReduceOp.SUM));
        for (int r = 0; r < n; r++) assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
        String all = thrown[0].getMessage() + thrown[1].getMessage() + thrown[2].getMessage();
        assertTrue(all.contains("allReduce(SUM) of 10 floats") && all.contains("allReduce(SUM) of 9 floats"), all);
        // the group is broken for good: the next call fails at once rather than hanging
        assertThrows(IllegalStateException.class, () -> g.rank(0).barrier());
    }

    @Test
    void mismatchedOperationsAreCaught() throws Exception {
        InProcessCollectives g = new InProcessCollectives(2, LinkModel.NONE);
        Throwable[] thrown = Ranks.run(2, r -> {
            if (r == 0) g.rank(r).barrier();
            else g.rank(r).broadcast(new float[4], 0, 4, 1);
        });
        // rank 1, the root, only sends and may finish; rank 0 receives its message in a barrier and says so
        assertInstanceOf(IllegalStateException.class, thrown[0]);
        assertTrue(thrown[0].getMessage().contains("rank 0 called barrier, but rank 1 sent a message of broadcast "
                + "from root 1 of 4 floats"), thrown[0].getMessage());
    }

    @Test
    void closeWakesRanksBlockedOnAnAbsentPeer() throws Exception {
        InProcessCollectives g = new InProcessCollectives(3, LinkModel.NONE);
        Throwable[] thrown = new Throwable[2];
        Thread[] t = Ranks.start(2, thrown, r -> g.rank(r).allReduce(new float[100], 0, 100, ReduceOp.SUM));
        for (Thread th : t) {
            while (th.isAlive() && th.getState() != Thread.State.TIMED_WAITING && th.getState() != Thread.State.WAITING) {
                Thread.yield();
            }
        }
        g.close();
        Ranks.join(t, 10_000);
        assertInstanceOf(IllegalStateException.class, thrown[0]);
        assertInstanceOf(IllegalStateException.class, thrown[1]);
        assertThrows(IllegalStateException.class, () -> g.rank(2).barrier()); // closed handles refuse work
    }

    @Test
    void anInterruptedRankFailsTheGroupSoItsPeersWakeToo() throws Exception {
        InProcessCollectives g = new InProcessCollectives(3, LinkModel.NONE);
        Throwable[] thrown = new Throwable[2];
        Thread[] t = Ranks.start(2, thrown, r -> g.rank(r).allReduce(new float[100], 0, 100, ReduceOp.SUM));
        while (t[0].isAlive() && t[0].getState() != Thread.State.WAITING && t[0].getState() != Thread.State.TIMED_WAITING) {
            Thread.yield();
        }
        t[0].interrupt();
        Ranks.join(t, 10_000);
        assertInstanceOf(InterruptedException.class, thrown[0]);
        IllegalStateException peer = assertInstanceOf(IllegalStateException.class, thrown[1]);
        assertTrue(peer.getMessage().contains("rank 0 was interrupted"), peer.getMessage());
    }

    @Test
    void closingAfterTheLastOperationDoesNotBreakSlowerPeers() throws Exception {
        for (int trial = 0; trial < 20; trial++) {
            InProcessCollectives g = new InProcessCollectives(3, LinkModel.NONE, LONG, 2);
            float[][] got = new float[3][];
            Ranks.runAll(3, r -> {
                float[] x = {r, r, r, r, r};
                g.rank(r).allReduce(x, 0, 5, ReduceOp.SUM);
                g.rank(r).close(); // the others may still be finishing
                got[r] = x;
            });
            for (float[] x : got) assertArrayEquals(new float[] {3, 3, 3, 3, 3}, x);
        }
    }

    @Test
    void aSilentPeerTimesOutNamingIt() throws Exception {
        InProcessCollectives g = new InProcessCollectives(3, LinkModel.NONE, Duration.ofMillis(200), 16);
        // rank 0 alone: its send to rank 1 fits in the inbox, then it waits for rank 2's message
        Throwable e = Ranks.run(1, r -> g.rank(0).allReduce(new float[30], 0, 30, ReduceOp.SUM))[0];
        CollectiveTimeoutException te = assertInstanceOf(CollectiveTimeoutException.class, e);
        assertEquals(0, te.rank());
        assertEquals(2, te.waitedFor());
        assertTrue(te.getMessage().contains("for rank 2"), te.getMessage());
        // the group is failed, so a late rank fails at once, with the timeout as its cause
        IllegalStateException late = assertThrows(IllegalStateException.class, () -> g.rank(1).barrier());
        assertSame(te, late.getCause());

        // a root whose receiver never comes times out waiting for room in that receiver's inbox
        InProcessCollectives h = new InProcessCollectives(2, LinkModel.NONE, Duration.ofMillis(200), 1);
        Throwable b = Ranks.run(1, r -> h.rank(0).broadcast(new float[40], 0, 40, 0))[0];
        assertEquals(1, assertInstanceOf(CollectiveTimeoutException.class, b).waitedFor());
    }

    @Test
    void emulatedLatencyIsPaidPerRingStep() throws Exception {
        int n = 3;
        LinkModel link = LinkModel.parse("inf", "5ms");
        try (InProcessCollectives g = new InProcessCollectives(n, link)) {
            long t0 = System.nanoTime();
            float[][] got = allReduce(g, 30, ReduceOp.SUM);
            double ms = (System.nanoTime() - t0) / 1e6;
            assertTrue(ms >= 2 * (n - 1) * 5, "2(N−1) = 4 steps of 5 ms took " + ms + " ms");
            assertTrue(ms < 5_000, "took " + ms + " ms");
            assertArrayEquals(bits(got[0]), bits(got[2]));
            assertEquals(4L * 2 * (n - 1) * 10, g.link(0).bytes());
        }
    }

    @Test
    void refusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new InProcessCollectives(0, LinkModel.NONE));
        assertThrows(IllegalArgumentException.class, () -> new InProcessCollectives(2, LinkModel.NONE, Duration.ZERO, 8));
        assertThrows(IllegalArgumentException.class, () -> new InProcessCollectives(2, LinkModel.NONE, LONG, 0));
        try (InProcessCollectives g = new InProcessCollectives(2, LinkModel.NONE)) {
            assertThrows(IndexOutOfBoundsException.class, () -> g.rank(0).allReduce(new float[4], 2, 3, ReduceOp.SUM));
            assertThrows(IllegalArgumentException.class, () -> g.rank(0).broadcast(new float[4], 0, 4, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> g.rank(0).allGather(new float[4], 0, 4, new float[7], 0));
            assertThrows(IllegalArgumentException.class, () -> g.rank(2));
            assertEquals(0, g.rank(0).bytesSent());
        }
    }

    /** Not a timed assertion: prints the cost of a 100k-float allreduce among 8 threads over an ideal link. */
    @Test
    void timingOfA100kAllReduceAmong8() throws Exception {
        int n = 8, len = 100_000, reps = 200;
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE)) {
            float[][] x = new float[n][len];
            long[] nanos = new long[1];
            Ranks.runAll(n, r -> {
                for (int k = 0; k < reps; k++) {
                    java.util.Arrays.fill(x[r], 1f);
                    g.rank(r).barrier();
                    long t0 = System.nanoTime();
                    g.rank(r).allReduce(x[r], 0, len, ReduceOp.SUM);
                    if (r == 0 && k >= reps / 2) nanos[0] += System.nanoTime() - t0;
                }
            });
            for (int r = 0; r < n; r++) {
                assertEquals(n, x[r][0]);
                assertEquals(n, x[r][len - 1]);
            }
            System.out.printf("ring allreduce of %d floats among %d threads, ideal link: %.3f ms (rank 0, mean of %d)%n",
                    len, n, nanos[0] / 1e6 / (reps / 2), reps / 2);
        }
    }

    /**
     * An emulated allreduce can never beat its bounds: 2(N−1)/N of the vector through each NIC plus the last
     * message's latency, and a chain of 2(N−1) messages each paying the latency.
     */
    @Test
    void emulatedAllReduceRespectsTheBandwidthBound() throws Exception {
        int n = 4, len = 250_000, reps = 3;
        LinkModel link = LinkModel.parse("1gbit", "0.5ms");
        double bound = Math.max(2.0 * (n - 1) / n * 4 * len / link.bytesPerSecond() + link.latencySeconds(),
                2 * (n - 1) * link.latencySeconds());
        try (InProcessCollectives g = new InProcessCollectives(n, link)) {
            float[][] x = new float[n][len];
            long[] nanos = new long[1];
            Ranks.runAll(n, r -> {
                for (int k = 0; k < reps; k++) {
                    g.rank(r).barrier();
                    long t0 = System.nanoTime();
                    g.rank(r).allReduce(x[r], 0, len, ReduceOp.MEAN);
                    if (r == 0) nanos[0] += System.nanoTime() - t0;
                }
            });
            double ms = nanos[0] / 1e6 / reps;
            System.out.printf("ring allreduce of %d floats among %d threads over %s: %.2f ms (bound %.2f ms)%n",
                    len, n, link, ms, bound * 1e3);
            assertTrue(ms >= bound * 1e3 * 0.99, ms + " ms beats the bound of " + bound * 1e3 + " ms");
        }
    }
}
