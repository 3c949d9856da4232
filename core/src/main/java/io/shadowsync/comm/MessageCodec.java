package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A codec whose messages encode a whole vector ({@link Codec#fixedWidth()} false: int8 with its chunk scales, top-k):
 * lossy, no width per value, and a decode that is an add onto zeros, so that a receiver summing many messages
 * ({@link #decodeAdd}) and one reading one message get the same values.
 */
abstract class MessageCodec implements Codec {
    @Override
    public final boolean lossless() {
        return false;
    }

    @Override
    public final boolean fixedWidth() {
        return false;
    }

    @Override
    public final int bytesPerValue() {
        throw new UnsupportedOperationException(name() + " encodes a whole message, not a fixed width per value: use encodedBytes");
    }

    @Override
    public abstract long encodedBytes(long values);

    @Override
    public abstract void decodeAdd(ByteBuffer src, float[] dst, int off, int len);

    @Override
    public final void decode(ByteBuffer src, float[] dst, int off, int len) {
        Arrays.fill(dst, off, off + len, 0f);
        decodeAdd(src, dst, off, len);
    }

    @Override
    public String toString() {
        return name();
    }
}
