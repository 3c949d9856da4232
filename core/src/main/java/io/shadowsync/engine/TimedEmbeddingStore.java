package io.shadowsync.engine;

import io.shadowsync.metrics.CallStats;
import io.shadowsync.nn.EmbeddingStore;

/**
 * A trainer's {@link EmbeddingStore} with its calls counted and timed into {@link CallStats} (the metrics log's
 * {@code ps_*} fields): the calls a worker waits on, {@link #pull}, {@link #push}, {@link #endStep} and {@link #flush},
 * timed around the store whatever it is (in-process shards, gRPC shards), so the time is the worker's wait, round trip
 * included. Announcements ({@link #prefetch}, {@link #prefetchNext}) and {@link #localTable} reads are not calls; a
 * model that reads a local table straight from its array makes no pull. A call that throws is not counted (it ends
 * the job). Thread-safe as the store is.
 */
final class TimedEmbeddingStore implements EmbeddingStore {
    private final EmbeddingStore store;
    private final CallStats stats;

    TimedEmbeddingStore(EmbeddingStore store, CallStats stats) {
        this.store = store;
        this.stats = stats;
    }

    @Override
    public int numTables() {
        return store.numTables();
    }

    @Override
    public long rows(int table) {
        return store.rows(table);
    }

    @Override
    public int dim(int table) {
        return store.dim(table);
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
    public void beginStep() {
        store.beginStep();
    }

    @Override
    public void prefetch(int table, int[] ids, int idOff, int n) {
        store.prefetch(table, ids, idOff, n);
    }

    @Override
    public void prefetchNext(int table, int[] ids, int idOff, int n) {
        store.prefetchNext(table, ids, idOff, n);
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

    @Override
    public float[] localTable(int t) {
        return store.localTable(t);
    }

    @Override
    public io.shadowsync.nn.RowBytes rowBytes() {
        return store.rowBytes();
    }
}
