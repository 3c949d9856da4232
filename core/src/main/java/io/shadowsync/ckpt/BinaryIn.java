package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads what {@link BinaryOut} wrote: little-endian numbers, strings and float arrays from the first {@code limit}
 * bytes of a file, through a 1 MiB buffer (files may exceed what one mapping holds). Reading past the limit fails
 * with {@link ModelFileException} naming the file, never with an allocation of a garbage size: the reader of the
 * model file ({@link ModelFile}) and of checkpoint files ({@link StateIn}).
 */
class BinaryIn implements AutoCloseable {
    private final String file;
    private final ReadableByteChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final String endsEarly;
    /** Bytes before the limit not read into the buffer yet. */
    private long left;

    /**
     * @param limit     bytes of the file to read, or −1 for all of it
     * @param endsEarly what a read past the limit says (after the file's name)
     */
    BinaryIn(Path file, long limit, String endsEarly) throws IOException {
        this(file.toString(), FileChannel.open(file), limit, endsEarly);
    }

    /**
     * @param file  the file as messages name it
     * @param ch    the file, at its start
     * @param limit bytes of the file to read (its size, for all of it)
     */
    BinaryIn(String file, ReadableByteChannel ch, long limit, String endsEarly) throws IOException {
        this.file = file;
        this.ch = ch;
        this.left = limit < 0 && ch instanceof FileChannel f ? f.size() : limit;
        this.endsEarly = endsEarly;
        buf.limit(0);
    }

    /** The error for this file. */
    final ModelFileException bad(String why) {
        return new ModelFileException(file, why);
    }

    /** Bytes before the limit not read yet. */
    final long remaining() {
        return left + buf.remaining();
    }

    private void need(int n) throws IOException {
        if (buf.remaining() >= n) return;
        if (left < n - buf.remaining()) throw bad(endsEarly);
        buf.compact();
        buf.limit((int) Math.min(buf.capacity(), buf.position() + left));
        while (buf.position() < n) {
            int r = ch.read(buf);
            if (r < 0) throw bad(endsEarly);
            left -= r;
        }
        buf.flip();
    }

    /** n bytes. */
    final byte[] bytes(int n) throws IOException {
        if (n < 0 || n > remaining()) throw bad(endsEarly);
        byte[] a = new byte[n];
        int i = 0;
        while (i < n) {
            need(1);
            int k = Math.min(n - i, buf.remaining());
            buf.get(a, i, k);
            i += k;
        }
        return a;
    }

    final int u8() throws IOException {
        need(1);
        return buf.get() & 0xFF;
    }

    final int u32() throws IOException {
        need(4);
        return buf.getInt();
    }

    final long u64() throws IOException {
        need(8);
        return buf.getLong();
    }

    final double f64() throws IOException {
        need(8);
        return buf.getDouble();
    }

    /** f32[n], no length. */
    final float[] f32s(int n) throws IOException {
        if (n < 0 || 4L * n > remaining()) throw bad(endsEarly);
        float[] a = new float[n];
        int i = 0;
        while (i < n) {
            need(4);
            int k = Math.min(n - i, buf.remaining() / 4);
            buf.asFloatBuffer().get(a, i, k);
            buf.position(buf.position() + 4 * k);
            i += k;
        }
        return a;
    }

    /** u32 len, UTF-8 bytes. */
    final String str() throws IOException {
        return new String(bytes(u32()), StandardCharsets.UTF_8);
    }

    /** u32 count, count × (str key, str value). */
    final Map<String, String> map() throws IOException {
        int n = u32();
        if (n < 0 || n > 1 << 20) throw bad("implausible property count " + n);
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) m.put(str(), str());
        return m;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
