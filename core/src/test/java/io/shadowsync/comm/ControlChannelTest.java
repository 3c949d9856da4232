package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The typed control channel ({@link Collective#allReduceLongs}, {@link Collective#allGatherBytes}) and the pairwise
 * {@link Collective#exchange}: in the ring ({@link RingCollective}, typed byte messages) and in the interface's
 * default methods (over allGather), which implementors such as the elastic ring inherit.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlChannelTest {
    private static final Duration LONG = Duration.ofMinutes(1);

    /** Only the abstract operations of a ring handle: so the interface's default methods run. */
    static final class DefaultsOnly extends ForwardingCollective {
        DefaultsOnly(Collective c) {
            super(c);
        }
    }

    /** Each case over the ring itself and over the default methods, for 1..5 ranks, tiny and default chunks. */
    private static void forGroups(Check check) throws Exception {
        for (int n = 1; n <= 5; n++) {
            for (int chunk : new int[] {1, 7, InProcessCollectives.DEFAULT_CHUNK_FLOATS}) {
                for (Function<Collective, Collective> wrap : java.util.List.<Function<Collective, Collective>>of(c -> c, DefaultsOnly::new)) {
                    try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, chunk)) {
                        Collective[] c = new Collective[n];
                        for (int r = 0; r < n; r++) c[r] = wrap.apply(g.rank(r));
                        check.run(c, "n=" + n + " chunk=" + chunk + (c[0] instanceof DefaultsOnly ? " (defaults)" : ""));
                    }
                }
            }
        }
    }

    interface Check {
        void run(Collective[] c, String what) throws Exception;
    }

    /** Rank r's longs: above 2^53, so a float (or a double) sum would round them; one wraps past Long.MAX_VALUE. */
    static long[] longs(int r) {
        return new long[] {(1L << 40) + 3 * r + 1, -(1L << 60) + r, Long.MAX_VALUE - r, r % 2, 0x0123_4567_89ab_cdefL * (r + 1)};
    }

    static long[] sumOfLongs(int n) {
        long[] want = new long[5];
        for (int r = 0; r < n; r++) for (int i = 0; i < 5; i++) want[i] += longs(r)[i];
        return want;
    }

    /** Rank r's message: lengths differ (one is empty), non-ASCII text, and one longer than many chunks. */
    static byte[] message(int r) {
        if (r == 1) return new byte[0];
        if (r == 2) {
            byte[] b = new byte[1000];
            new SplittableRandom(r).nextBytes(b);
            return b;
        }
        return ("trainer " + r + " cannot write /tmp/ckpt-é✓: No space left on device").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void longSumsAreExactBeyondTheFloatMantissa() throws Exception {
        forGroups((c, what) -> {
            long[][] got = new long[c.length][];
            Ranks.runAll(c.length, r -> {
                long[] x = new long[7];
                System.arraycopy(longs(r), 0, x, 1, 5);
                x[0] = 42;
                x[6] = -42;
                c[r].allReduceLongs(x, 1, 5);
                got[r] = x;
            });
            for (int r = 0; r < c.length; r++) {
                long[] want = new long[7];
                want[0] = 42;
                want[6] = -42;
                System.arraycopy(sumOfLongs(c.length), 0, want, 1, 5);
                assertArrayEquals(want, got[r], what + " rank " + r);
            }
        });
    }

    @Test
    void byteMessagesArriveExactlyAsSentIndexedByRank() throws Exception {
        forGroups((c, what) -> {
            byte[][][] got = new byte[c.length][][];
            Ranks.runAll(c.length, r -> got[r] = c[r].allGatherBytes(message(r)));
            for (int r = 0; r < c.length; r++) {
                assertEquals(c.length, got[r].length);
                for (int src = 0; src < c.length; src++) assertArrayEquals(message(src), got[r][src], what + " rank " + r + " from " + src);
            }
        });
    }

    @Test
    void theRingCountsTheBytesOfByteMessages() throws Exception {
        int n = 4;
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 7)) {
            Ranks.runAll(n, r -> g.rank(r).allGatherBytes(new byte[100 + r]));
            long all = 0;
            for (int r = 0; r < n; r++) all += 100 + r;
            for (int r = 0; r < n; r++) {
                // a rank forwards every message but its right neighbour's (it is the last to get it)
                assertEquals(all - (100 + (r + 1) % n), g.rank(r).bytesSent(), "rank " + r);
            }
        }
    }

    /** Pairings of n ranks as peer arrays: neighbours, far apart, some ranks alone, and everyone alone. */
    static int[][] pairings(int n) {
        int[] adjacent = new int[n], reversed = new int[n], alone = new int[n];
        for (int r = 0; r < n; r++) {
            adjacent[r] = r % 2 == 0 ? (r + 1 < n ? r + 1 : r) : r - 1;
            reversed[r] = n - 1 - r; // the middle rank of an odd n names itself
            alone[r] = r;
        }
        return new int[][] {adjacent, reversed, alone};
    }

    @Test
    void exchangeGivesEachRankItsPeersVector() throws Exception {
        forGroups((c, what) -> {
            int len = 100;
            for (int[] peers : pairings(c.length)) {
                float[][] got = new float[c.length][];
                Ranks.runAll(c.length, r -> {
                    float[] buf = new float[2 * len + 4]; // send at [1, 1+len), recv at [len+3, 2len+3), in one array
                    float[] in = input(r, len);
                    System.arraycopy(in, 0, buf, 1, len);
                    buf[0] = -1;
                    buf[len + 1] = -2;
                    buf[len + 2] = -3;
                    buf[2 * len + 3] = -4;
                    c[r].exchange(peers[r], buf, 1, buf, len + 3, len);
                    got[r] = buf;
                });
                for (int r = 0; r < c.length; r++) {
                    float[] want = input(peers[r], len);
                    for (int i = 0; i < len; i++) assertEquals(want[i], got[r][len + 3 + i], what + " rank " + r + " [" + i + "]");
                    float[] mine = input(r, len);
                    for (int i = 0; i < len; i++) assertEquals(mine[i], got[r][1 + i], what + " rank " + r + " send changed");
                    assertEquals(-1f, got[r][0]);
                    assertEquals(-2f, got[r][len + 1]);
                    assertEquals(-3f, got[r][len + 2]);
                    assertEquals(-4f, got[r][2 * len + 3]);
                }
            }
        });
    }

    @Test
    void anAsymmetricPairingFailsEveryRankInsteadOfHanging() throws Exception {
        int n = 3;
        try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE, LONG, 7)) {
            int[] peers = {1, 2, 0}; // 0 names 1, but 1 names 2
            Throwable[] thrown = Ranks.run(n, r -> g.rank(r).exchange(peers[r], new float[5], 0, new float[5], 0, 5));
            for (Throwable t : thrown) {
                assertInstanceOf(IllegalArgumentException.class, t);
                assertTrue(t.getMessage().contains("rank 0 named rank 1 for an exchange, but rank 1 named rank 2"), t.getMessage());
            }
        }
    }

    static float[] input(int rank, int len) {
        SplittableRandom rng = new SplittableRandom(77L * rank + len);
        float[] x = new float[len];
        for (int i = 0; i < len; i++) x[i] = (float) (2 * rng.nextDouble() - 1);
        return x;
    }
}
