package io.shadowsync.comm;

/**
 * A dense parameter vector held by a server (sharded or not) that trainers pull from and push to: the EASGD
 * center, or the dense model of asynchronous parameter-server SGD. Thread-safe: any number of trainers call it
 * at once; each push is applied atomically with respect to other pushes of the same shard (pulls may see a mix
 * of shards from before and after a concurrent push, as on real parameter servers).
 */
public interface DenseParameterServer {
    /** Number of floats held. */
    int size();

    /** Copies the current values into dst[0 .. size). */
    void pull(float[] dst) throws InterruptedException;

    /** Adds delta[0 .. size) to the values (EASGD: center += α(s − c)). */
    void pushDelta(float[] delta) throws InterruptedException;

    /** Applies a gradient with the server's optimizer (asynchronous PS SGD). */
    void pushGradient(float[] grad) throws InterruptedException;

    /**
     * {@link #pushDelta}, of a delta a codec's message carried ({@code wireBytes} encoded bytes, already decoded
     * into delta by the sender, who knows what it sent): a server that can charge the encoded size does, others
     * move delta as float32.
     */
    default void pushDelta(float[] delta, long wireBytes) throws InterruptedException {
        pushDelta(delta);
    }

    /** {@link #pushGradient}, of a gradient a codec's message carried; as {@link #pushDelta(float[], long)}. */
    default void pushGradient(float[] grad, long wireBytes) throws InterruptedException {
        pushGradient(grad);
    }

    /**
     * Where this server splits its vector into blocks that travel as messages of their own ({@code 0 = b[0] ≤ … ≤
     * b[B] = size()}): an encoded push encodes each block on its own ({@link BlockEncoders}). One block by default.
     */
    default int[] blocks() {
        return new int[] {0, size()};
    }

    /**
     * {@link #pushDelta}, of a delta whose blocks ({@link #blocks()}) a codec's messages carry: {@code delta} holds what
     * they decode to (the sender decoded them: {@link BlockEncoders#encode}), {@code messages[b]} block b's message. A
     * server across the network sends the messages and decodes them on its side; by default they are only counted
     * ({@link #pushDelta(float[], long)}).
     */
    default void pushDelta(float[] delta, Codec codec, byte[][] messages) throws InterruptedException {
        pushDelta(delta, BlockEncoders.bytes(messages));
    }

    /** {@link #pushGradient}, of a gradient whose blocks a codec's messages carry; as {@link #pushDelta(float[], Codec, byte[][])}. */
    default void pushGradient(float[] grad, Codec codec, byte[][] messages) throws InterruptedException {
        pushGradient(grad, BlockEncoders.bytes(messages));
    }

    /** Bytes moved to and from the server so far. */
    long bytes();
}
