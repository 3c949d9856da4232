package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Reads one checkpoint file written by {@link StateOut}, through a 1 MiB buffer (files may exceed what one mapping
 * holds). The file's checksum was verified before; lengths are still checked against what is left of the file, so a
 * file that does not match what the reader expects fails with {@link ModelFileException} naming it, never with an
 * allocation of a garbage size.
 */
final class StateIn implements AutoCloseable {
    private final Path file;
    private final FileChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private long left;

    StateIn(Path file) throws IOException {
        this.file = file;
        this.ch = FileChannel.open(file);
        this.left = ch.size();
        buf.limit(0);
    }

    private void need(int n) throws IOException {
        if (buf.remaining() >= n) return;
        if (left < n - buf.remaining()) throw bad("ends early");
        buf.compact();
        while (buf.position() < n) {
            int r = ch.read(buf);
            if (r < 0) throw bad("ends early");
            left -= r;
        }
        buf.flip();
    }

    private ModelFileException bad(String why) {
        return new ModelFileException(file, why);
    }

    void expectMagic(String m) throws IOException {
        byte[] want = m.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        need(want.length);
        byte[] got = new byte[want.length];
        buf.get(got);
        if (!java.util.Arrays.equals(want, got)) throw bad("is not a " + m + " checkpoint file (bad magic)");
    }

    int u8() throws IOException {
        need(1);
        return buf.get() & 0xFF;
    }

    int u32() throws IOException {
        need(4);
        return buf.getInt();
    }

    long u64() throws IOException {
        need(8);
        return buf.getLong();
    }

    double f64() throws IOException {
        need(8);
        return buf.getDouble();
    }

    /** A count of elements of the given size that the rest of the file can hold. */
    private int count(long n, int elementBytes, String what) {
        long rest = left + buf.remaining();
        if (n < 0 || n > Integer.MAX_VALUE - 16 || n * elementBytes > rest) {
            throw bad("has an impossible " + what + " length " + n + " (" + rest + " bytes left)");
        }
        return (int) n;
    }

    float[] floats() throws IOException {
        float[] a = new float[count(u64(), 4, "float array")];
        int i = 0;
        while (i < a.length) {
            need(4);
            int k = Math.min(a.length - i, buf.remaining() / 4);
            buf.asFloatBuffer().get(a, i, k);
            buf.position(buf.position() + 4 * k);
            i += k;
        }
        return a;
    }

    float[][] floatArrays() throws IOException {
        float[][] a = new float[count(u32(), 8, "array list")][];
        for (int i = 0; i < a.length; i++) a[i] = floats();
        return a;
    }

    long[] longs() throws IOException {
        long[] a = new long[count(u32(), 8, "long array")];
        for (int i = 0; i < a.length; i++) a[i] = u64();
        return a;
    }

    int[] ints() throws IOException {
        int[] a = new int[count(u32(), 4, "int array")];
        for (int i = 0; i < a.length; i++) a[i] = u32();
        return a;
    }

    /** Refuses bytes left over after what the reader expected. */
    void expectEnd() {
        if (left + buf.remaining() != 0) throw bad("has " + (left + buf.remaining()) + " unexpected bytes at its end");
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
