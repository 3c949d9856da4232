package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes one checkpoint file ({@link BinaryOut}), with the CRC32C and size of everything written, for the manifest.
 * {@link #finish} forces the bytes to disk. One thread per file.
 */
final class StateOut extends BinaryOut implements AutoCloseable {
    private final Path file;
    private final FileChannel ch;

    /** Creates the file; it must not exist (a checkpoint directory is written once). */
    StateOut(Path file) throws IOException {
        this(file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    private StateOut(Path file, FileChannel ch) {
        super(ch);
        this.file = file;
        this.ch = ch;
    }

    /** u64 n, f32[n]. */
    void floats(float[] a) throws IOException {
        u64(a.length);
        f32s(a, 0, a.length);
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
        return new Manifest.Entry(file.getFileName().toString(), size(), crc());
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
