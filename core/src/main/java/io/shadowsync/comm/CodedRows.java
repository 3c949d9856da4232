package io.shadowsync.comm;

import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.ForwardingEmbeddingStore;
import io.shadowsync.nn.RowBytes;

/**
 * An in-process {@link EmbeddingStore} seen through a lossy {@link RowCodec} ({@code --compress-rows} in one
 * process): a pulled row is what a trainer would decode from a server's encoding of it, and a pushed gradient row
 * reaches the store as the store would decode it from the trainer's; the store keeps its rows and its optimizer state
 * in float32 and applies the decoded gradient with them. So an in-process job moves exactly the values the
 * parameter-server wire moves in a multi-process one. It counts the rows' encoded bytes ({@link #rowBytes}).
 *
 * <p>{@link #localTable} is null: every read goes through {@link #pull}, where the rows are rounded. Sharing
 * contract: as the wrapped store's (thread-safe; each thread has its own scratch for the rounded gradients).
 */
public final class CodedRows extends ForwardingEmbeddingStore {
    private final RowCodec codec;
    private final RowBytes bytes = new RowBytes();
    private final ThreadLocal<float[][]> scratch = ThreadLocal.withInitial(() -> new float[][] {new float[1024]});

    public CodedRows(EmbeddingStore store, RowCodec codec) {
        super(store);
        if (codec == null) throw new IllegalArgumentException("a row codec is required");
        this.codec = codec;
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        store.pull(table, ids, idOff, n, out, outOff);
        int dim = store.dim(table);
        codec.round(out, outOff, n, dim);
        bytes.pulled(n, dim, codec.rowBytes(dim));
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        int dim = store.dim(table), len = n * dim;
        float[][] box = scratch.get();
        if (box[0].length < len) box[0] = new float[Math.max(len, 2 * box[0].length)];
        float[] g = box[0];
        System.arraycopy(grads, gradOff, g, 0, len); // the caller's gradients stay as they were
        codec.round(g, 0, n, dim);
        store.push(table, ids, idOff, n, g, 0);
        bytes.pushed(n, dim, codec.rowBytes(dim));
    }

    /** Every read goes through {@link #pull}, where rows are rounded. */
    @Override
    public float[] localTable(int t) {
        return null;
    }

    @Override
    public RowBytes rowBytes() {
        return bytes;
    }
}
