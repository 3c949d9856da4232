package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * int8 with a scale per chunk: a message of n values is ⌈n / {@value #CHUNK}⌉ chunks, each its float32 scale
 * {@code s = max|x| / 127} (little-endian) and then one signed byte per value, {@code q = round(x / s)} in
 * [−127, 127]; a receiver reads {@code q·s}. So n + 4·⌈n/256⌉ bytes, about a quarter of float32.
 *
 * <p>Rounding to nearest ({@code int8}) errs by at most s/2 per value. Stochastic rounding ({@code int8:stochastic})
 * rounds up with probability equal to the fraction, {@code q = ⌊x/s + u⌋} with u uniform in [0, 1), so a value's
 * expected decoding is x itself (unbiased; each error is under s); its u come from the sender's seeded
 * {@link Codec.Encoder}, so a run repeats. A chunk of zeros has scale 0. No error feedback: the error of one message
 * is not carried into the next.
 */
final class Int8Codec extends MessageCodec {
    /** Values per chunk (one scale each). */
    static final int CHUNK = 256;
    static final Int8Codec NEAREST = new Int8Codec(false);
    static final Int8Codec STOCHASTIC = new Int8Codec(true);

    private final boolean stochastic;

    private Int8Codec(boolean stochastic) {
        this.stochastic = stochastic;
    }

    @Override
    public String name() {
        return stochastic ? "int8:stochastic" : "int8";
    }

    @Override
    public long encodedBytes(long values) {
        return values + 4 * ((values + CHUNK - 1) / CHUNK);
    }

    @Override
    public void encode(float[] src, int off, int len, ByteBuffer dst) {
        if (stochastic) {
            throw new UnsupportedOperationException("int8:stochastic draws its rounding from a sender's seeded stream: use encoder(seed)");
        }
        encode(src, off, len, dst, null);
    }

    @Override
    public Encoder encoder(long seed) {
        if (!stochastic) return super.encoder(seed);
        SplittableRandom rng = new SplittableRandom(seed);
        return new Encoder() {
            @Override
            public Codec codec() {
                return Int8Codec.this;
            }

            @Override
            public byte[] encode(float[] x, int off, int len) {
                byte[] out = new byte[Math.toIntExact(encodedBytes(len))];
                Int8Codec.encode(x, off, len, ByteBuffer.wrap(out), rng);
                return out;
            }
        };
    }

    /** rng null: round to nearest; else stochastically. */
    private static void encode(float[] src, int off, int len, ByteBuffer dst, SplittableRandom rng) {
        ByteBuffer d = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        for (int c = 0; c < len; c += CHUNK) {
            int end = Math.min(len, c + CHUNK);
            float max = 0;
            for (int i = c; i < end; i++) max = Math.max(max, Math.abs(src[off + i]));
            float scale = max / 127f;
            d.putFloat(at, scale);
            at += 4;
            for (int i = c; i < end; i++) {
                int q = 0;
                if (scale > 0) {
                    double v = src[off + i] / (double) scale;
                    q = (int) (rng == null ? Math.rint(v) : Math.floor(v + rng.nextDouble()));
                    q = Math.max(-127, Math.min(127, q));
                }
                d.put(at++, (byte) q);
            }
        }
        dst.position(dst.position() + at);
    }

    @Override
    public void decodeAdd(ByteBuffer src, float[] dst, int off, int len) {
        ByteBuffer s = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        for (int c = 0; c < len; c += CHUNK) {
            int end = Math.min(len, c + CHUNK);
            float scale = s.getFloat(at);
            at += 4;
            for (int i = c; i < end; i++) dst[off + i] += s.get(at++) * scale;
        }
        src.position(src.position() + at);
    }

}
