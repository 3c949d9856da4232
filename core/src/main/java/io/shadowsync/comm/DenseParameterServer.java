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

    /** Bytes moved to and from the server so far. */
    long bytes();
}
