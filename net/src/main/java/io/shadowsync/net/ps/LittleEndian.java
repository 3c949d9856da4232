package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** The wire's number format: int32 and float32, little-endian, packed in byte arrays and protobuf {@code bytes}. */
final class LittleEndian {
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

    private LittleEndian() {}

    static void putInt(byte[] b, int off, int v) {
        INT.set(b, off, v);
    }

    /** b[off .. off + 4n) ← src[srcOff .. srcOff + n). */
    static void putFloats(float[] src, int srcOff, byte[] b, int off, int n) {
        for (int i = 0; i < n; i++) FLOAT.set(b, off + 4 * i, src[srcOff + i]);
    }

    /** dst[dstOff .. dstOff + n) ← the ints of s, from its first byte. */
    static void getInts(ByteString s, int[] dst, int dstOff, int n) {
        s.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(dst, dstOff, n);
    }

    /** dst[dstOff .. dstOff + n) ← the floats of s from float index first. */
    static void getFloats(ByteString s, int first, float[] dst, int dstOff, int n) {
        s.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(first, dst, dstOff, n);
    }

    /** A new array holding src[off .. off + n) as little-endian floats. */
    static byte[] floats(float[] src, int off, int n) {
        byte[] b = new byte[4 * n];
        putFloats(src, off, b, 0, n);
        return b;
    }
}
