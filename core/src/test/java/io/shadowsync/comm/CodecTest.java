package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The wire codecs: float32 is the bytes the wire always carried; bf16 rounds to nearest even; traffic counts encoded bytes. */
class CodecTest {
    static float[] values(int n) {
        SplittableRandom rng = new SplittableRandom(5);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((2 * rng.nextDouble() - 1) * Math.pow(10, rng.nextInt(-20, 20)));
        x[0] = 0f;
        x[1] = -0f;
        x[2] = Float.MIN_VALUE;
        x[3] = Float.MAX_VALUE;
        x[4] = Float.NEGATIVE_INFINITY;
        x[5] = Float.intBitsToFloat(0x7fc0_1234); // a NaN with a payload
        return x;
    }

    @Test
    void float32IsTheLittleEndianBytesOfTheOldWireAndRoundTripsEveryBit() {
        float[] x = values(1000);
        byte[] old = new byte[4 * 998];
        ByteBuffer.wrap(old).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(x, 1, 998); // what the ring sent
        byte[] now = Codec.FLOAT32.encode(x, 1, 998);
        assertArrayEquals(old, now);
        assertEquals(4 * 998, Codec.FLOAT32.encodedBytes(998));
        float[] back = new float[1000];
        ByteBuffer in = ByteBuffer.wrap(now);
        Codec.FLOAT32.decode(in, back, 2, 998);
        assertEquals(now.length, in.position(), "decode advances past what it read");
        for (int i = 0; i < 998; i++) assertEquals(Float.floatToRawIntBits(x[1 + i]), Float.floatToRawIntBits(back[2 + i]));
        assertTrue(Codec.FLOAT32.lossless());
    }

    @Test
    void bf16KeepsTheUpperHalfRoundedToNearestEven() {
        float[] x = values(1000);
        byte[] b = Codec.BF16.encode(x, 0, x.length);
        assertEquals(2 * x.length, b.length);
        float[] back = new float[x.length];
        Codec.BF16.decode(ByteBuffer.wrap(b), back, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(back[i]));
            } else if (Float.isInfinite(x[i]) || x[i] == 0) {
                assertEquals(x[i], back[i]);
            } else if (Math.abs(x[i]) >= 1e-37f && Math.abs(x[i]) < 3e38f) {
                assertEquals(x[i], back[i], Math.abs(x[i]) / 256, "value " + i);
            }
            // a bf16 value comes back exactly
            assertEquals(Float.floatToRawIntBits(back[i]), Float.floatToRawIntBits(roundTrip(back[i])), "value " + i);
        }
        // ties go to even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7, and 1's last mantissa bit is even
        assertEquals(1f, roundTrip(1f + 0x1p-8f));
        assertEquals(1f + 0x1p-6f, roundTrip(1f + 0x1p-7f + 0x1p-8f)); // halfway, rounds up to the even neighbour
        assertEquals(Float.POSITIVE_INFINITY, roundTrip(Float.MAX_VALUE));
        assertFalse(Codec.BF16.lossless());
    }

    private static float roundTrip(float v) {
        float[] out = new float[1];
        Codec.BF16.decode(ByteBuffer.wrap(Codec.BF16.encode(new float[] {v}, 0, 1)), out, 0, 1);
        return out[0];
    }

    @Test
    void aJobNamesItsCodec() {
        assertEquals(Codec.FLOAT32, Codec.named("float32"));
        assertEquals(Codec.BF16, Codec.named("BF16"));
        assertEquals(Codec.FLOAT32, Codec.named("none"));
        assertEquals(Codec.FP16, Codec.named("fp16"));
        assertEquals("int8", Codec.named("int8").name());
        assertEquals("int8:stochastic", Codec.named("INT8:Stochastic").name());
        assertEquals("topk:0.01", Codec.named("topk:0.01").name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Codec.named("fp8"));
        assertEquals("unknown codec 'fp8': use none (float32, the default), fp16, bf16, int8, int8:stochastic or topk:F with F"
                + " in (0, 1] (e.g. topk:0.01)", e.getMessage());
        for (String bad : new String[] {"topk:0", "topk:1.5", "topk:x", "topk:NaN"}) {
            e = assertThrows(IllegalArgumentException.class, () -> Codec.named(bad), bad);
            assertTrue(e.getMessage().contains("topk takes a fraction F in (0, 1]"), e.getMessage());
        }
    }

    /**
     * The ring counts the bytes its codec puts on the wire: an allGather of g floats per rank sends (N − 1)·g values
     * from each rank, 4 bytes each in float32 and 2 in bf16; and a lossy codec rounds what arrives, while the typed
     * byte messages of the control channel pass untouched (their bytes counted as they are).
     */
    @Test
    void bytesSentAreEncodedBytesAndControlValuesAreNeverEncoded() throws Exception {
        int n = 3, g = 101;
        for (Codec codec : new Codec[] {Codec.FLOAT32, Codec.BF16}) {
            try (InProcessCollectives group = new InProcessCollectives(n, LinkModel.NONE, Duration.ofMinutes(1), 7, codec)) {
                float[][] got = new float[n][];
                long[][] sums = new long[n][];
                Ranks.runAll(n, r -> {
                    float[] recv = new float[n * g];
                    group.rank(r).allGather(values(g), 0, g, recv, 0);
                    got[r] = recv;
                });
                for (int r = 0; r < n; r++) {
                    assertEquals((long) codec.bytesPerValue() * (n - 1) * g, group.rank(r).bytesSent(), codec + " rank " + r);
                    for (int src = 0; src < n; src++) {
                        for (int i = 0; i < g; i++) {
                            float sent = values(g)[i], arrived = got[r][src * g + i];
                            float want = src == r || codec.lossless() ? sent : roundTrip(sent);
                            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(arrived), codec + " rank " + r + " from " + src + " [" + i + "]");
                        }
                    }
                }
                long before = group.rank(0).bytesSent();
                Ranks.runAll(n, r -> {
                    long[] x = {(1L << 40) + r, 1};
                    group.rank(r).allReduceLongs(x, 0, 2);
                    sums[r] = x;
                });
                for (int r = 0; r < n; r++) assertArrayEquals(new long[] {3 * (1L << 40) + 3, 3}, sums[r], codec + " rank " + r);
                assertEquals(before + (n - 1) * 16, group.rank(0).bytesSent(), codec + ": the longs' bytes, unencoded");
            }
        }
    }
}
