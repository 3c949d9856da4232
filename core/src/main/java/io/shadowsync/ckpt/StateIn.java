package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads one checkpoint file written by {@link StateOut} ({@link BinaryIn}). The file's checksum was verified before;
 * lengths are still checked against what is left of the file, so a file that does not match what the reader expects
 * fails with {@link ModelFileException} naming it, never with an allocation of a garbage size.
 */
final class StateIn extends BinaryIn {
    StateIn(CheckpointStore store, String name) throws IOException {
        this(store.where(name), store.read(name), store.size(name));
    }

    private StateIn(String where, java.nio.channels.ReadableByteChannel ch, long size) throws IOException {
        super(where, ch, size, "ends early");
    }

    void expectMagic(String m) throws IOException {
        byte[] want = m.getBytes(StandardCharsets.US_ASCII);
        if (!Arrays.equals(want, bytes(want.length))) throw bad("is not a " + m + " checkpoint file (bad magic)");
    }

    /** A count of elements of the given size that the rest of the file can hold. */
    private int count(long n, int elementBytes, String what) {
        long rest = remaining();
        if (n < 0 || n > Integer.MAX_VALUE - 16 || n * elementBytes > rest) {
            throw bad("has an impossible " + what + " length " + n + " (" + rest + " bytes left)");
        }
        return (int) n;
    }

    float[] floats() throws IOException {
        return f32s(count(u64(), 4, "float array"));
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
        if (remaining() != 0) throw bad("has " + remaining() + " unexpected bytes at its end");
    }
}
