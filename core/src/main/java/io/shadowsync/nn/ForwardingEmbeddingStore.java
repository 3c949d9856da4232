package io.shadowsync.nn;

/**
 * An {@link EmbeddingStore} that hands every call to another store: the base of stores that add to some calls (count,
 * time or round them) and leave the rest as they are. Thread-safe as the wrapped store is.
 */
public abstract class ForwardingEmbeddingStore implements EmbeddingStore {
    protected final EmbeddingStore store;

    protected ForwardingEmbeddingStore(EmbeddingStore store) {
        if (store == null) throw new IllegalArgumentException("a store to forward to is required");
        this.store = store;
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
        store.pull(table, ids, idOff, n, out, outOff);
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        store.push(table, ids, idOff, n, grads, gradOff);
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
        store.endStep();
    }

    @Override
    public void flush() {
        store.flush();
    }

    @Override
    public float[] localTable(int t) {
        return store.localTable(t);
    }

    @Override
    public RowBytes rowBytes() {
        return store.rowBytes();
    }
}
