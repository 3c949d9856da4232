package io.shadowsync.comm;

/**
 * A collective that hands each of its own operations to another: test doubles extend it and override the operation
 * they spoil (fail, meddle with). It forwards the interface's abstract operations only; the defaults (the long and
 * byte channels, exchange, codec, abort) run on top of them, as they do for any collective.
 */
public abstract class ForwardingCollective implements Collective {
    protected final Collective inner;

    protected ForwardingCollective(Collective inner) {
        this.inner = inner;
    }

    @Override
    public int rank() {
        return inner.rank();
    }

    @Override
    public int size() {
        return inner.size();
    }

    @Override
    public void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException {
        inner.allReduce(data, off, len, op);
    }

    @Override
    public void broadcast(float[] data, int off, int len, int root) throws InterruptedException {
        inner.broadcast(data, off, len, root);
    }

    @Override
    public void allGather(float[] send, int sOff, int len, float[] recv, int rOff) throws InterruptedException {
        inner.allGather(send, sOff, len, recv, rOff);
    }

    @Override
    public void barrier() throws InterruptedException {
        inner.barrier();
    }

    @Override
    public long bytesSent() {
        return inner.bytesSent();
    }

    @Override
    public void close() {
        inner.close();
    }
}
