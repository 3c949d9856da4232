package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * How the float values of a collective or a dense server message become bytes on the wire, chosen per job: the
 * seam where a compressing codec goes. A codec here has a fixed width ({@link #bytesPerValue()} bytes for every
 * value), so a message's length in values and in bytes determine each other. Only what is sent as parameters,
 * gradients or deltas goes through a codec; control values (counts, flags, sequence numbers, reasons: the typed
 * channel of {@link Collective#allReduceLongs} and {@link Collective#allGatherBytes}) never do. Traffic counters
 * ({@link Collective#bytesSent()}) count encoded bytes.
 *
 * <p>{@link #FLOAT32} is the identity: IEEE 754 float32, little-endian, the bytes the wire always carried. A codec is
 * stateless and thread-safe.
 */
public interface Codec {
    /** The name a job gives (e.g. {@code "float32"}). */
    String name();

    /** Whether decode(encode(x)) gives back x's exact bits. */
    boolean lossless();

    /** Bytes each value takes on the wire. */
    int bytesPerValue();

    /** Bytes that {@code values} values take on the wire. */
    default long encodedBytes(long values) {
        return values * bytesPerValue();
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
    Codec BF16 = new Codec() {
        @Override
        public String name() {
            return "bf16";
        }

        @Override
        public boolean lossless() {
            return false;
        }

        @Override
        public int bytesPerValue() {
            return 2;
        }

        @Override
        public void encode(float[] src, int off, int len, ByteBuffer dst) {
            ByteBuffer d = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < len; i++) d.putShort(2 * i, toBf16(src[off + i]));
            dst.position(dst.position() + 2 * len);
        }

        @Override
        public void decode(ByteBuffer src, float[] dst, int off, int len) {
            ByteBuffer s = src.slice().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < len; i++) dst[off + i] = Float.intBitsToFloat((s.getShort(2 * i) & 0xFFFF) << 16);
            src.position(src.position() + 2 * len);
        }

        @Override
        public String toString() {
            return name();
        }
    };

    /** The upper half of x's bits, rounded to nearest even; a NaN stays a (quiet) NaN. */
    static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** The codec a job names: "float32" (the default) or "bf16". */
    static Codec named(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        return switch (n) {
            case "float32" -> FLOAT32;
            case "bf16" -> BF16;
            default -> throw new IllegalArgumentException("unknown codec '" + name + "': use float32 (the default) or bf16");
        };
    }
}
