package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The two 16-bit codecs, {@link Codec#BF16} (a float's upper half, rounded to nearest even) and {@link Codec#FP16}
 * (IEEE 754 binary16, rounded to nearest even): 2 bytes a value, little-endian.
 */
final class HalfCodec implements Codec {
    private final boolean bfloat;

    HalfCodec(boolean bfloat) {
        this.bfloat = bfloat;
    }

    @Override
    public String name() {
        return bfloat ? "bf16" : "fp16";
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
        for (int i = 0; i < len; i++) d.putShort(2 * i, bfloat ? Codec.toBf16(src[off + i]) : Float16.fromFloat(src[off + i]));
        dst.position(dst.position() + 2 * len);
    }

    @Override
    public void decode(ByteBuffer src, float[] dst, int off, int len) {
        ByteBuffer s = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < len; i++) {
            short h = s.getShort(2 * i);
            dst[off + i] = bfloat ? Float.intBitsToFloat((h & 0xFFFF) << 16) : Float16.toFloat(h);
        }
        src.position(src.position() + 2 * len);
    }

    @Override
    public String toString() {
        return name();
    }
}
