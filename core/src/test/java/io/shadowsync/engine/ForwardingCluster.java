package io.shadowsync.engine;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.nn.EmbeddingStore;

/** A cluster that delegates every call to another: test doubles extend it and override the part they replace. */
abstract class ForwardingCluster implements Cluster {
    final Cluster inner;

    ForwardingCluster(Cluster inner) {
        this.inner = inner;
    }

    @Override
    public int trainers() {
        return inner.trainers();
    }

    @Override
    public EmbeddingStore embeddings(int trainer) {
        return inner.embeddings(trainer);
    }

    @Override
    public DenseParameterServer denseServer(int trainer, boolean forSync) {
        return inner.denseServer(trainer, forSync);
    }

    @Override
    public Collective trainerGroup(int trainer) {
        return inner.trainerGroup(trainer);
    }

    @Override
    public Collective workerGroup(int trainer, int worker) {
        return inner.workerGroup(trainer, worker);
    }

    @Override
    public void abort() {
        inner.abort();
    }

    @Override
    public void abort(Throwable cause) {
        inner.abort(cause);
    }

    @Override
    public void close() {
        inner.close();
    }
}
