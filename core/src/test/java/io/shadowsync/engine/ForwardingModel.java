package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.nn.Workspace;

/** A model that delegates every call to another: test doubles extend it and override the call they spoil. */
abstract class ForwardingModel implements Model {
    final Model inner;

    ForwardingModel(Model inner) {
        this.inner = inner;
    }

    @Override
    public double forwardBackward(Batch batch, Workspace ws, EmbeddingStore emb) {
        return inner.forwardBackward(batch, ws, emb);
    }

    @Override
    public void announce(Batch batch, Workspace ws, EmbeddingStore emb) {
        inner.announce(batch, ws, emb);
    }

    @Override
    public ModelSpec spec() {
        return inner.spec();
    }

    @Override
    public ParameterSet dense() {
        return inner.dense();
    }

    @Override
    public long[][] embeddingShapes() {
        return inner.embeddingShapes();
    }

    @Override
    public float embeddingInitStd(int table) {
        return inner.embeddingInitStd(table);
    }

    @Override
    public void initDense(long seed) {
        inner.initDense(seed);
    }

    @Override
    public Workspace newWorkspace(int maxBatch) {
        return inner.newWorkspace(maxBatch);
    }

    @Override
    public double forward(Batch batch, Workspace ws, EmbeddingStore emb) {
        return inner.forward(batch, ws, emb);
    }

    @Override
    public int outputsPerExample() {
        return inner.outputsPerExample();
    }
}
