package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Little-endian numbers, strings and float arrays written to a channel through a 1 MiB buffer, with the CRC32C and
 * size of every byte written so far: the writer of the model file ({@link ModelFile}) and of checkpoint files
 * ({@link StateOut}). One thread per writer.
 */
class BinaryOut {
    private final WritableByteChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private long size;

    BinaryOut(WritableByteChannel ch) {
        this.ch = ch;
    }

    private void room(int n) throws IOException {
        if (buf.remaining() < n) flush();
    }

    /** Writes out what the buffer holds. */
    final void flush() throws IOException {
        buf.flip();
        crc.update(buf.duplicate());
        size += buf.remaining();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    /** CRC32C of the bytes flushed so far. */
    final int crc() {
        return (int) crc.getValue();
    }

    /** Number of bytes flushed so far. */
    final long size() {
        return size;
    }

    final void bytes(byte[] b) throws IOException {
        room(b.length);
        buf.put(b);
    }

    /** The string's US-ASCII bytes, no length. */
    final void magic(String m) throws IOException {
        bytes(m.getBytes(StandardCharsets.US_ASCII));
    }

    final void u8(int v) throws IOException {
        room(1);
        buf.put((byte) v);
    }

    final void u32(int v) throws IOException {
        room(4);
        buf.putInt(v);
    }

    final void u64(long v) throws IOException {
        room(8);
        buf.putLong(v);
    }

    final void f64(double v) throws IOException {
        room(8);
        buf.putDouble(v);
    }

    /** f32[n] from a[off..off+n), no length. */
    final void f32s(float[] a, int off, int n) throws IOException {
        int i = 0;
        while (i < n) {
            room(4);
            int k = Math.min(n - i, buf.remaining() / 4);
            buf.asFloatBuffer().put(a, off + i, k);
            buf.position(buf.position() + 4 * k);
            i += k;
        }
    }

    /** u32 len, UTF-8 bytes. */
    final void str(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u32(b.length);
        if (b.length > buf.capacity()) throw new IOException("string property too long: " + b.length + " bytes");
        bytes(b);
    }

    /** u32 count, count × (str key, str value). */
    final void map(Map<String, String> m) throws IOException {
        u32(m.size());
        for (Map.Entry<String, String> e : m.entrySet()) {
            str(e.getKey());
            str(e.getValue());
        }
    }
}
