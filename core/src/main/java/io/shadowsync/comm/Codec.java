package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * How the float values of a collective, a dense server message or a sync round become bytes on the wire, chosen per
 * job ({@code --compress}): a stateless encode/decode pair, plus, where a codec needs one, a per-sender state object
 * ({@link Encoder}: a stochastic rounding stream, an error-feedback residual) that the sender owns.
 *
 * <p>Two kinds. A <b>fixed-width</b> codec ({@link #fixedWidth()}: float32, fp16, bf16) gives every value
 * {@link #bytesPerValue()} bytes, so a message's length in values and in bytes determine each other; the ring links
 * carry their float messages in it ({@link #linkCodec()}), hop by hop. A <b>message</b> codec (int8 with a per-chunk
 * scale, top-k with error feedback) encodes a whole vector as one self-describing message whose size depends only on
 * the number of values ({@link #encodedBytes}); a collective moves its messages as bytes
 * ({@link Collective#allReduceEncoded}) and its links stay float32.
 *
 * <p>Only what is sent as parameters, gradients or changes goes through a codec; control values (counts, flags,
 * sequence numbers, reasons: the typed channel of {@link Collective#allReduceLongs} and
 * {@link Collective#allGatherBytes}) never do. Traffic counters ({@link Collective#bytesSent()}) count encoded bytes.
 * {@link #FLOAT32} is the identity: IEEE 754 float32, little-endian, the bytes the wire always carried. A codec is
 * stateless and thread-safe; an {@link Encoder} is used by one thread.
 */
public interface Codec {
    /** The name a job gives (e.g. {@code "float32"}). */
    String name();

    /** Whether decode(encode(x)) gives back x's exact bits. */
    boolean lossless();

    /** Bytes each value takes on the wire (a fixed-width codec; a message codec has no such width and throws). */
    int bytesPerValue();

    /** Whether every value takes {@link #bytesPerValue()} bytes, so that a ring link can carry its floats hop by hop. */
    default boolean fixedWidth() {
        return true;
    }

    /** Bytes of the message that encodes {@code values} values (exact: it depends on nothing else). */
    default long encodedBytes(long values) {
        return values * bytesPerValue();
    }

    /** The fixed-width codec a ring link carries this job's float messages in: this one, or float32 for a message codec. */
    default Codec linkCodec() {
        return fixedWidth() ? this : FLOAT32;
    }

    /** Writes src[off .. off+len) into dst at its position (advanced past them); dst must have room. */
    void encode(float[] src, int off, int len, ByteBuffer dst);

    /** Reads len values from src at its position (advanced past them) into dst[off .. off+len). */
    void decode(ByteBuffer src, float[] dst, int off, int len);

    /** src[off .. off+len) encoded into a new array. */
    default byte[] encode(float[] src, int off, int len) {
        byte[] out = new byte[Math.toIntExact(encodedBytes(len))];
        encode(src, off, len, ByteBuffer.wrap(out));
        return out;
    }

    /**
     * Adds the len values of a message (at src's position, advanced past it) to dst[off .. off+len): what a receiver
     * of many messages does, in the same order on every rank so that every rank gets the same bits.
     */
    default void decodeAdd(ByteBuffer src, float[] dst, int off, int len) {
        float[] v = new float[len];
        decode(src, v, 0, len);
        for (int i = 0; i < len; i++) dst[off + i] += v[i];
    }

    /** In place: a[off .. off+len) becomes what a receiver of it decodes (the identity for a lossless codec). */
    default void round(float[] a, int off, int len) {
        if (lossless()) return;
        ByteBuffer b = ByteBuffer.wrap(encode(a, off, len));
        decode(b, a, off, len);
    }

    /**
     * A new encoder for one sender's stream of messages (a sync thread's rounds, a worker's pushes), with the state the
     * codec keeps between messages: none for a deterministic codec, a rounding stream for int8:stochastic (seeded, so
     * runs repeat), the residual of what was not yet sent for top-k. Owned by the sender; not thread-safe.
     */
    default Encoder encoder(long seed) {
        Codec c = this;
        return new Encoder() {
            @Override
            public Codec codec() {
                return c;
            }

            @Override
            public byte[] encode(float[] x, int off, int len) {
                return c.encode(x, off, len);
            }
        };
    }

    /**
     * As {@link #encoder(long)}, but without error feedback when {@code feedback} is false: for a sender whose next
     * message is recomputed from positions that did not move by what was left out (EASGD's elastic force), where a
     * residual would count the unsent part twice. Codecs without a residual ignore the flag.
     */
    default Encoder encoder(long seed, boolean feedback) {
        return encoder(seed);
    }

    /** One sender's stream of messages of one codec (see {@link #encoder}). */
    interface Encoder {
        /** The codec whose messages this writes (decode them with it). */
        Codec codec();

        /**
         * One message of x[off .. off+len), {@code codec().encodedBytes(len)} bytes. A codec with error feedback first
         * adds the residual (what earlier messages did not carry) and keeps, as the new residual, what this message does
         * not carry: over many messages, the sum of what was sent follows the sum of what was given.
         */
        byte[] encode(float[] x, int off, int len);

        /** The residual not yet sent (live; error feedback), or null when the codec keeps none. */
        default float[] residual() {
            return null;
        }
    }

    /** Float32, little-endian: the identity (lossless). */
    Codec FLOAT32 = new Codec() {
        @Override
        public String name() {
            return "float32";
        }

        @Override
        public boolean lossless() {
            return true;
        }

        @Override
        public int bytesPerValue() {
            return 4;
        }

        @Override
        public void encode(float[] src, int off, int len, ByteBuffer dst) {
            dst.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(src, off, len);
            dst.position(dst.position() + 4 * len);
        }

        @Override
        public void decode(ByteBuffer src, float[] dst, int off, int len) {
            src.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, off, len);
            src.position(src.position() + 4 * len);
        }

        @Override
        public String toString() {
            return name();
        }
    };

    /**
     * Bfloat16, little-endian: a float's upper 16 bits, rounded to nearest even (lossy: 8 bits of mantissa; NaN stays
     * NaN, a value too large for bf16 becomes an infinity). Halves the bytes; never on by default.
     */
    Codec BF16 = new HalfCodec(true);

    /**
     * IEEE 754 binary16, little-endian, rounded to nearest even (lossy: 11 bits of mantissa, relative error at most
     * 2^-11 for magnitudes in [2^-14, 65504]; smaller ones lose precision gradually, larger ones become infinities).
     * Halves the bytes.
     */
    Codec FP16 = new HalfCodec(false);

    /** The upper half of x's bits, rounded to nearest even; a NaN stays a (quiet) NaN. */
    static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** The forms {@link #named} accepts, for messages. */
    String FORMS = "none (float32, the default), fp16, bf16, int8, int8:stochastic or topk:F with F in (0, 1] (e.g. topk:0.01)";

    /**
     * The codec a job names ({@code --compress}): none or float32 (the identity), fp16, bf16, int8 (a scale per chunk
     * of {@value Int8Codec#CHUNK} values), int8:stochastic (the same, rounded stochastically), or topk:F (the F·n
     * largest-magnitude values of n, with error feedback). Any case.
     *
     * @throws IllegalArgumentException naming the accepted forms
     */
    static Codec named(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "none", "float32" -> {
                return FLOAT32;
            }
            case "fp16" -> {
                return FP16;
            }
            case "bf16" -> {
                return BF16;
            }
            case "int8" -> {
                return Int8Codec.NEAREST;
            }
            case "int8:stochastic" -> {
                return Int8Codec.STOCHASTIC;
            }
            default -> {
                if (n.startsWith("topk:")) {
                    double f;
                    try {
                        f = Double.parseDouble(n.substring(5));
                    } catch (NumberFormatException e) {
                        f = Double.NaN;
                    }
                    if (f > 0 && f <= 1) return new TopKCodec(f);
                    throw new IllegalArgumentException("codec '" + name + "': topk takes a fraction F in (0, 1], e.g. topk:0.01");
                }
                throw new IllegalArgumentException("unknown codec '" + name + "': use " + FORMS);
            }
        }
    }
}
