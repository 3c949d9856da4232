package io.shadowsync.engine;

import io.shadowsync.metrics.CallStats;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.ForwardingEmbeddingStore;

/**
 * A trainer's {@link EmbeddingStore} with its calls counted and timed into {@link CallStats} (the metrics log's
 * {@code ps_*} fields): the calls a worker waits on, {@link #pull}, {@link #push}, {@link #endStep} and {@link #flush},
 * timed around the store whatever it is (in-process shards, gRPC shards), so the time is the worker's wait, round trip
 * included. Announcements ({@link #prefetch}, {@link #prefetchNext}) and {@link #localTable} reads are not calls; a
 * model that reads a local table straight from its array makes no pull. A call that throws is not counted (it ends
 * the job). Thread-safe as the store is.
 */
final class TimedEmbeddingStore extends ForwardingEmbeddingStore {
    private final CallStats stats;

    TimedEmbeddingStore(EmbeddingStore store, CallStats stats) {
        super(store);
        this.stats = stats;
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        long t0 = System.nanoTime();
        store.pull(table, ids, idOff, n, out, outOff);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        long t0 = System.nanoTime();
        store.push(table, ids, idOff, n, grads, gradOff);
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void endStep() {
        long t0 = System.nanoTime();
        store.endStep();
        stats.record(System.nanoTime() - t0);
    }

    @Override
    public void flush() {
        long t0 = System.nanoTime();
        store.flush();
        stats.record(System.nanoTime() - t0);
    }

}
