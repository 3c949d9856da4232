package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The compressing codecs (fp16, int8, top-k): their round-trip error bounds, their exact message sizes, top-k's choice
 * and error feedback, and the collectives' promise under them: every rank gets the same bits.
 */
class CompressionTest {
    /** n values of mixed signs and magnitudes (1e-3 .. 1e1), as changes of parameters are. */
    static float[] changes(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((2 * rng.nextDouble() - 1) * Math.pow(10, rng.nextInt(-3, 2)));
        return x;
    }

    static float[] roundTrip(Codec c, Codec.Encoder e, float[] x) {
        byte[] m = e.encode(x, 0, x.length);
        assertEquals(c.encodedBytes(x.length), m.length, c + ": the message's size is encodedBytes(n)");
        float[] back = new float[x.length];
        ByteBuffer b = ByteBuffer.wrap(m);
        c.decode(b, back, 0, x.length);
        assertEquals(m.length, b.position(), c + ": decode reads the whole message");
        return back;
    }

    /** fp16 keeps 11 bits: relative error at most 2^-11 in its normal range; 2 bytes a value. */
    @Test
    void fp16RoundsWithinItsRelativeError() {
        float[] x = changes(5000, 1);
        float[] back = roundTrip(Codec.FP16, Codec.FP16.encoder(0), x);
        assertEquals(2L * 5000, Codec.FP16.encodedBytes(5000));
        for (int i = 0; i < x.length; i++) {
            if (Math.abs(x[i]) >= 0x1p-14f) assertEquals(x[i], back[i], Math.abs(x[i]) * 0x1p-11f, "value " + i);
            else assertEquals(x[i], back[i], 0x1p-25f, "value " + i + " (subnormal in fp16: absolute error)");
        }
        assertEquals(Float.POSITIVE_INFINITY, roundTrip(Codec.FP16, Codec.FP16.encoder(0), new float[] {70_000f})[0]);
        // bf16 keeps 8 bits: relative error at most 2^-8 (what the existing tests check bit by bit)
        float[] b = roundTrip(Codec.BF16, Codec.BF16.encoder(0), x);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], b[i], Math.abs(x[i]) * 0x1p-8f, "bf16 value " + i);
    }

    /**
     * int8 errs by at most scale/2 per value, where each chunk of 256 has its own scale max|x|/127; a message of n
     * values is n + 4·⌈n/256⌉ bytes. A chunk of large values does not cost the precision of a chunk of small ones.
     */
    @Test
    void int8ErrsByAtMostHalfItsChunksScale() {
        Codec c = Codec.named("int8");
        int n = 1000; // 3 whole chunks and one of 232
        float[] x = changes(n, 2);
        for (int i = 0; i < 256; i++) x[i] *= 1e-4f; // a chunk of small values
        float[] back = roundTrip(c, c.encoder(0), x);
        assertEquals(1000 + 4 * 4, c.encodedBytes(n));
        assertEquals(0, c.encodedBytes(0));
        for (int chunk = 0; chunk < n; chunk += 256) {
            float max = 0;
            for (int i = chunk; i < Math.min(n, chunk + 256); i++) max = Math.max(max, Math.abs(x[i]));
            float scale = max / 127;
            for (int i = chunk; i < Math.min(n, chunk + 256); i++) {
                assertTrue(Math.abs(x[i] - back[i]) <= scale / 2 * (1 + 1e-5), "value " + i + ": " + x[i] + " came back " + back[i]
                        + ", scale " + scale);
            }
        }
        assertArrayEquals(new float[300], roundTrip(c, c.encoder(0), new float[300]), "zeros stay zeros (scale 0)");
    }

    /**
     * Stochastic int8 is unbiased: over many draws the mean of the decoded values is the value itself (rounding to
     * nearest would be off by up to scale/2 here: the values sit at 0.1, 0.3, 0.5 and 0.7 of a step), and every draw
     * errs by less than one scale. The draws repeat for the same seed.
     */
    @Test
    void stochasticInt8IsUnbiasedInTheMean() {
        Codec c = Codec.named("int8:stochastic");
        assertThrows(UnsupportedOperationException.class, () -> c.encode(new float[4], 0, 4), "no stateless stochastic encoding");
        int n = 64, draws = 4000;
        float[] x = new float[n];
        x[0] = 127; // scale 1: the steps are the integers
        for (int i = 1; i < n; i++) x[i] = (i % 40) - 20 + new float[] {0.1f, 0.3f, 0.5f, 0.7f}[i % 4];
        double[] mean = new double[n];
        Codec.Encoder e = c.encoder(42);
        for (int d = 0; d < draws; d++) {
            float[] back = roundTrip(c, e, x);
            for (int i = 0; i < n; i++) {
                assertTrue(Math.abs(back[i] - x[i]) < 1, "draw " + d + " value " + i);
                mean[i] += back[i] / draws;
            }
        }
        // each draw's error has a standard deviation of at most 1/2, so the mean's at most 1/(2·√4000) ≈ 0.008
        for (int i = 0; i < n; i++) assertEquals(x[i], mean[i], 0.04, "value " + i + ": stochastic rounding must be unbiased");
        assertArrayEquals(roundTrip(c, c.encoder(7), x), roundTrip(c, c.encoder(7), x), "the same seed draws the same rounding");
    }

    /** top-k keeps exactly k = round(F·n) values, the largest in magnitude (ties to the lower index), 4 + 8k bytes. */
    @Test
    void topKKeepsExactlyTheKLargest() {
        Codec c = Codec.named("topk:0.01");
        int n = 2000, k = 20;
        float[] x = changes(n, 3);
        x[5] = 1e3f;
        x[6] = -1e3f; // the two largest, of opposite signs
        float[] back = roundTrip(c, c.encoder(0), x);
        assertEquals(4 + 8 * k, c.encodedBytes(n));
        int kept = 0;
        for (float v : back) if (v != 0) kept++;
        assertEquals(k, kept);
        float[] mags = new float[n];
        for (int i = 0; i < n; i++) mags[i] = Math.abs(x[i]);
        Arrays.sort(mags);
        float kth = mags[n - k];
        for (int i = 0; i < n; i++) {
            if (Math.abs(x[i]) > kth) assertEquals(x[i], back[i], "value " + i + " is among the k largest: sent exactly");
            if (Math.abs(x[i]) < kth) assertEquals(0f, back[i], "value " + i + " is not");
        }
        // ties: of five equal magnitudes, the two lowest indices; at least one value always
        float[] ties = {0, 1, -1, 1, 0, -1, 1};
        assertArrayEquals(new float[] {0, 1, -1, 0, 0, 0, 0}, roundTrip(Codec.named("topk:0.3"), Codec.named("topk:0.3").encoder(0), ties));
        assertEquals(4 + 8, Codec.named("topk:0.001").encodedBytes(10), "k is at least 1");
    }

    /**
     * Error feedback: with a fixed sequence of changes (a steady drift on every value plus noise), the sum of what
     * top-k sent over the rounds follows the sum of the true changes — they differ by the residual, exactly, and
     * the residual stays bounded while the sums grow — so the relative gap shrinks like 1/rounds. Without the residual
     * (the stateless encode, which drops what it does not send) the values that are never the largest are never sent:
     * the gap stays of the order of the sum itself.
     */
    @Test
    void errorFeedbackMakesWhatWasSentConvergeToTheTrueChanges() {
        Codec c = Codec.named("topk:0.05");
        int n = 200, rounds = 400;
        float[] drift = new float[n]; // every value drifts, by 0.5 to 1.5 a round, either way
        SplittableRandom d = new SplittableRandom(4);
        for (int i = 0; i < n; i++) drift[i] = (float) ((d.nextBoolean() ? 1 : -1) * (0.5 + d.nextDouble()));
        double[] truth = new double[n], sent = new double[n], dropped = new double[n];
        Codec.Encoder e = c.encoder(0);
        SplittableRandom noise = new SplittableRandom(9);
        double gapAt100 = 0;
        for (int t = 1; t <= rounds; t++) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = drift[i] + (float) (0.01 * noise.nextGaussian());
            for (int i = 0; i < n; i++) truth[i] += x[i];
            add(sent, c, e.encode(x, 0, n), n);
            add(dropped, c, c.encode(x, 0, n), n);
            if (t == 100) gapAt100 = relativeGap(sent, truth);
        }
        float[] r = e.residual();
        for (int i = 0; i < n; i++) assertEquals(truth[i], sent[i] + r[i], 1e-3 * rounds, "sent + residual = the true sum, value " + i);
        double gap = relativeGap(sent, truth);
        assertTrue(gap < 0.05, "with error feedback, relative gap " + gap + " after " + rounds + " rounds");
        assertTrue(gap < gapAt100 / 2, "the gap shrinks with the rounds: " + gapAt100 + " after 100, " + gap + " after " + rounds);
        double without = relativeGap(dropped, truth);
        assertTrue(without > 0.5, "a top-k without its residual must not converge (the test must be able to fail): gap " + without);
    }

    private static void add(double[] sum, Codec c, byte[] message, int n) {
        float[] v = new float[n];
        c.decode(ByteBuffer.wrap(message), v, 0, n);
        for (int i = 0; i < n; i++) sum[i] += v[i];
    }

    /** ‖sent − truth‖ / ‖truth‖. */
    private static double relativeGap(double[] sent, double[] truth) {
        double d = 0, t = 0;
        for (int i = 0; i < sent.length; i++) {
            d += (sent[i] - truth[i]) * (sent[i] - truth[i]);
            t += truth[i] * truth[i];
        }
        return Math.sqrt(d / t);
    }

    /**
     * Every rank gets the same bits from an allReduceEncoded, under every codec: message codecs (int8, top-k) gather the
     * messages and every rank adds them in rank order, and that is the sum of what each rank's encoder sent; fixed-width
     * lossy ones (fp16, bf16) run the ring, whose segment owners round their sums as the others receive them (before,
     * the owner kept its float32 sum and its replica differed from the others' in the last bits). Bytes sent: each
     * message to N − 1 ranks; the raw count is what the float32 ring would have sent.
     */
    @Test
    void everyRankGetsTheSameBitsUnderEveryCodec() throws Exception {
        int n = 4, len = 1001;
        for (String name : new String[] {"fp16", "bf16", "int8", "int8:stochastic", "topk:0.01", "topk:0.3"}) {
            Codec codec = Codec.named(name);
            try (InProcessCollectives group = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 97, codec)) {
                float[][] got = new float[n][];
                byte[][] sent = new byte[n][];
                Ranks.runAll(n, r -> {
                    float[] x = changes(len, 10 + r);
                    Codec.Encoder e = codec.encoder(r);
                    Codec.Encoder spy = new Codec.Encoder() { // records what the rank's encoder sent
                        @Override
                        public Codec codec() {
                            return e.codec();
                        }

                        @Override
                        public byte[] encode(float[] v, int off, int l) {
                            return sent[r] = e.encode(v, off, l);
                        }
                    };
                    group.rank(r).allReduceEncoded(spy, x, 0, len, Collective.ReduceOp.MEAN);
                    got[r] = x;
                });
                for (int r = 1; r < n; r++) assertArrayEquals(got[0], got[r], name + ": rank " + r + " has rank 0's bits");
                if (!codec.fixedWidth()) {
                    float[] want = new float[len];
                    for (int r = 0; r < n; r++) codec.decodeAdd(ByteBuffer.wrap(sent[r]), want, 0, len);
                    for (int i = 0; i < len; i++) want[i] /= n;
                    assertArrayEquals(want, got[0], name + ": the mean of what the ranks sent");
                    for (int r = 0; r < n; r++) {
                        assertEquals((n - 1) * codec.encodedBytes(len), group.rank(r).bytesSent(), name + " rank " + r);
                        assertEquals(4L * 2 * (n - 1) * len / n, group.rank(r).rawBytesSent(), 8.0, name + " rank " + r + ": the float32 ring's bytes");
                    }
                } else {
                    float[] exact = new float[len], mag = new float[len]; // each hop rounds a partial sum of up to mag
                    for (int r = 0; r < n; r++) {
                        float[] x = changes(len, 10 + r);
                        for (int i = 0; i < len; i++) {
                            exact[i] += x[i] / n;
                            mag[i] += Math.abs(x[i]);
                        }
                    }
                    for (int i = 0; i < len; i++) assertEquals(exact[i], got[0][i], mag[i] * 0x1p-6f, name + " value " + i);
                }
            }
        }
    }

    /** A broadcast under a lossy codec: the root ends on what the others receive, so all hold the same bits. */
    @Test
    void aLossyBroadcastLeavesTheRootOnTheReceivedBits() throws Exception {
        int n = 3, len = 500;
        try (InProcessCollectives group = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 64, Codec.FP16)) {
            float[][] got = new float[n][];
            Ranks.runAll(n, r -> {
                float[] x = r == 1 ? changes(len, 5) : new float[len];
                group.rank(r).broadcast(x, 0, len, 1);
                got[r] = x;
            });
            for (int r = 0; r < n; r++) assertArrayEquals(got[1], got[r], "rank " + r);
        }
    }

    /** The pairwise exchange under a message codec: each rank gets what its peer's encoder sent. */
    @Test
    void anEncodedExchangeDeliversThePeersMessage() throws Exception {
        int n = 4, len = 300;
        Codec codec = Codec.named("topk:0.1");
        try (InProcessCollectives group = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 64, codec)) {
            float[][] got = new float[n][];
            Ranks.runAll(n, r -> {
                float[] recv = new float[len];
                group.rank(r).exchangeEncoded(codec.encoder(0), r ^ 1, changes(len, r), 0, recv, 0, len);
                got[r] = recv;
            });
            for (int r = 0; r < n; r++) {
                float[] want = new float[len];
                codec.decode(ByteBuffer.wrap(codec.encode(changes(len, r ^ 1), 0, len)), want, 0, len);
                assertArrayEquals(want, got[r], "rank " + r + " gets rank " + (r ^ 1) + "'s top-k");
            }
        }
    }

    /**
     * The raw bytes of an encoded exchange are what the float32 exchange sends for the same pairing (one vector, on the
     * pair's direct channel), rank by rank, and the bytes are the pairing and the rank's one message, sent to its peer.
     * Caught: raw counted as the message bytes (a ratio of 1 for gossip under int8 or top-k), messages all-gathered.
     */
    @Test
    void anEncodedExchangeCountsTheFloat32ExchangeAsRaw() throws Exception {
        int n = 6, len = 300;
        int[] peer = {3, 5, 4, 0, 2, 1}; // pairs at ring distances 3, 4 and 2: ranks relay 0, 1 or more vectors
        Codec codec = Codec.named("int8");
        long[] floatBytes = new long[n], raw = new long[n], sent = new long[n];
        try (InProcessCollectives exact = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 64, Codec.FLOAT32);
             InProcessCollectives lossy = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 64, codec)) {
            Ranks.runAll(n, r -> {
                Collective c = exact.rank(r);
                long before = c.bytesSent();
                c.exchange(peer[r], changes(len, r), 0, new float[len], 0, len);
                floatBytes[r] = c.bytesSent() - before;
                Collective l = lossy.rank(r);
                long b0 = l.bytesSent(), r0 = l.rawBytesSent();
                l.exchangeEncoded(codec.encoder(r), peer[r], changes(len, r), 0, new float[len], 0, len);
                sent[r] = l.bytesSent() - b0;
                raw[r] = l.rawBytesSent() - r0;
            });
        }
        for (int r = 0; r < n; r++) {
            // both first share the pairing: N − 1 forwards of every rank's 5 bytes (its peer, and its link has direct
            // channels), the same in both
            assertEquals(floatBytes[r], raw[r], "rank " + r + ": raw bytes are the float32 exchange's");
            assertEquals(5L * (n - 1) + 4L * len, floatBytes[r], "rank " + r + ": the pairing and one float32 vector");
            assertEquals(5L * (n - 1) + codec.encodedBytes(len), sent[r], "rank " + r + ": the pairing and one message");
        }
    }
}
