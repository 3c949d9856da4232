package io.shadowsync.ckpt;

import java.io.IOException;

/**
 * Writes one checkpoint file ({@link BinaryOut}) into a {@link CheckpointStore}, with the CRC32C and size of
 * everything written, for the manifest. {@link #finish} makes the bytes durable. One thread per file.
 */
final class StateOut extends BinaryOut implements AutoCloseable {
    private final String name;
    private final CheckpointStore.Output ch;

    /** Creates the file name in store; it must not exist (a checkpoint directory is written once). */
    StateOut(CheckpointStore store, String name) throws IOException {
        this(name, store.create(name));
    }

    private StateOut(String name, CheckpointStore.Output ch) {
        super(ch);
        this.name = name;
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

    /** Flushes, makes the file durable and closes it; returns its manifest entry. */
    Manifest.Entry finish() throws IOException {
        flush();
        ch.finish();
        return new Manifest.Entry(name.substring(name.lastIndexOf('/') + 1), size(), crc());
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
