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

    /** Bytes moved to and from the server so far. */
    long bytes();
}
