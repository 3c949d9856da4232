package io.shadowsync.engine;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.metrics.CallStats;

/**
 * A trainer's {@link DenseParameterServer} (the EASGD center, asynchronous SGD's parameters) with its pulls and pushes
 * counted and timed into {@link CallStats} (the metrics log's {@code dense_*} fields), round trip included.
 */
final class TimedDenseServer implements DenseParameterServer {
    private final DenseParameterServer server;
    private final CallStats stats;

    TimedDenseServer(DenseParameterServer server, CallStats stats) {
        this.server = server;
        this.stats = stats;
    }

    @Override
    public int size() {
        return server.size();
    }

    @Override
    public void pull(float[] dst) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pull(dst);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void pushDelta(float[] delta) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pushDelta(delta);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void pushGradient(float[] grad) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pushGradient(grad);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void pushDelta(float[] delta, long wireBytes) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pushDelta(delta, wireBytes);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void pushGradient(float[] grad, long wireBytes) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pushGradient(grad, wireBytes);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public int[] blocks() {
        return server.blocks(); // an encoded push encodes each of the server's blocks on its own
    }

    @Override
    public void pushDelta(float[] delta, Codec codec, byte[][] messages) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pushDelta(delta, codec, messages); // not the default's float32 fallback: a remote server sends the messages
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void pushGradient(float[] grad, Codec codec, byte[][] messages) throws InterruptedException {
        long t0 = System.nanoTime();
        server.pushGradient(grad, codec, messages);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public long bytes() {
        return server.bytes();
    }
}
