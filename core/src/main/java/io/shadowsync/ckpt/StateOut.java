package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes one checkpoint file: little-endian numbers and float arrays through a 1 MiB buffer, with the CRC32C and
 * size of everything written, for the manifest. {@link #finish} forces the bytes to disk. One thread per file.
 */
final class StateOut implements AutoCloseable {
    private final Path file;
    private final FileChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private long size;

    /** Creates the file; it must not exist (a checkpoint directory is written once). */
    StateOut(Path file) throws IOException {
        this.file = file;
        this.ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    private void room(int n) throws IOException {
        if (buf.remaining() < n) flush();
    }

    private void flush() throws IOException {
        buf.flip();
        crc.update(buf.duplicate());
        size += buf.remaining();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    void magic(String m) throws IOException {
        byte[] b = m.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        room(b.length);
        buf.put(b);
    }

    void u8(int v) throws IOException {
        room(1);
        buf.put((byte) v);
    }

    void u32(int v) throws IOException {
        room(4);
        buf.putInt(v);
    }

    void u64(long v) throws IOException {
        room(8);
        buf.putLong(v);
    }

    void f64(double v) throws IOException {
        room(8);
        buf.putDouble(v);
    }

    /** u64 n, f32[n]. */
    void floats(float[] a) throws IOException {
        u64(a.length);
        int i = 0;
        while (i < a.length) {
            room(4);
            int k = Math.min(a.length - i, buf.remaining() / 4);
            buf.asFloatBuffer().put(a, i, k);
            buf.position(buf.position() + 4 * k);
            i += k;
        }
    }

    /** u32 count, count × floats. */
    void floatArrays(float[][] a) throws IOException {
        u32(a.length);
        for (float[] x : a) floats(x);
    }

    /** u32 n, i64[n]. */
    void longs(long[] a) throws IOException {
        u32(a.length);
        for (long v : a) u64(v);
    }

    /** u32 n, i32[n]. */
    void ints(int[] a) throws IOException {
        u32(a.length);
        for (int v : a) u32(v);
    }

    /** Flushes, forces the file to disk and closes it; returns its manifest entry. */
    Manifest.Entry finish() throws IOException {
        flush();
        ch.force(true);
        ch.close();
        return new Manifest.Entry(file.getFileName().toString(), size, (int) crc.getValue());
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
