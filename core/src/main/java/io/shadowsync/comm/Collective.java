package io.shadowsync.comm;

/**
 * Collective operations among the N ranks (trainers, or workers for sync SGD) of a job. Every rank calls the
 * same operations in the same order with the same lengths; a call returns when this rank's part is done.
 *
 * <p>One {@code Collective} object is one rank's handle and is used by one thread at a time. Implementations:
 * in-process ({@code InProcessCollectives}, threads of one JVM, optionally over emulated links) and networked
 * (the gRPC ring in the net module). The allreduce is a ring (reduce-scatter, then allgather, in chunks) in both.
 */
public interface Collective extends AutoCloseable {
    /** This rank, in [0, size). */
    int rank();

    /** Number of ranks. */
    int size();

    /** In place: data[off .. off+len) becomes the element-wise sum (or mean) over all ranks. */
    void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException;

    /** In place: every rank's data[off .. off+len) becomes root's. */
    void broadcast(float[] data, int off, int len, int root) throws InterruptedException;

    /** recv[rOff + r·len .. +len) becomes rank r's send[sOff .. sOff+len), on every rank. */
    void allGather(float[] send, int sOff, int len, float[] recv, int rOff) throws InterruptedException;

    /** Returns when every rank has called it. */
    void barrier() throws InterruptedException;

    /** Bytes this rank has sent so far (payload only). */
    long bytesSent();

    @Override
    void close();

    /**
     * Breaks the group because this rank's job failed: every rank blocked in, or later entering, an operation throws
     * an exception that carries {@code cause} (across processes too), then this handle is closed. Unlike the graceful
     * {@link #close()}, it never waits for a neighbour to read what was sent. Idempotent; any thread.
     */
    default void abort(RuntimeException cause) {
        close();
    }

    /** Element-wise reduction of an allreduce. */
    enum ReduceOp { SUM, MEAN }
}
