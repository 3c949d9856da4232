package io.shadowsync.engine;

import io.shadowsync.kernels.Vec;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.ForwardingEmbeddingStore;
import java.util.Arrays;

/**
 * One worker's view of the trainer's {@link EmbeddingStore} during a step: pulls (and the read-only
 * {@link #localTable} fast path) go straight to the store; pushes are copied here and checked for NaN and
 * infinity, and reach the store only when the worker {@link #commit}s them, after it has checked the step's loss
 * and dense gradient too. A step with any non-finite value is {@link #discard}ed and leaves every table (and
 * every row-optimizer state) untouched: the guard sits before the store, not after the damage.
 *
 * <p>A commit replays the model's push calls one for one, in order, with the same ids and gradients, so the store
 * sees exactly what it would have seen without this buffer (a remote store still batches them into the step's one
 * round trip, as they arrive before the worker ends the step). The only difference a model could notice is that a
 * row it pushed is not updated when it pulls it again within the same step; models pull in forward and push in
 * backward, so none does.
 *
 * <p>Owned by one worker thread. The buffers grow to the largest step seen (in the first steps) and are reused, so
 * the hot loop allocates nothing once warm.
 */
final class DeferredPushes extends ForwardingEmbeddingStore {
    /** Per held push call c: table, number of ids, and where its ids and gradients start in the buffers. */
    private int[] callTable = new int[32];
    private int[] callCount = new int[32];
    private int[] callIds = new int[32];
    private int[] callGrads = new int[32];
    private int calls;
    private int[] ids = new int[1024];
    private int numIds;
    private float[] grads = new float[1 << 14];
    private int numGrads;
    private boolean finite = true;
    private final boolean remote;
    private long remoteNanos;

    DeferredPushes(EmbeddingStore store) {
        super(store);
        this.remote = store.numTables() > 0 && store.localTable(0) == null;
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        long t0 = remote ? System.nanoTime() : 0;
        store.pull(table, ids, idOff, n, out, outOff);
        if (remote) remoteNanos += System.nanoTime() - t0;
    }

    @Override
    public void prefetch(int table, int[] ids, int idOff, int n) {
        long t0 = remote ? System.nanoTime() : 0;
        store.prefetch(table, ids, idOff, n);
        if (remote) remoteNanos += System.nanoTime() - t0;
    }

    @Override
    public void prefetchNext(int table, int[] ids, int idOff, int n) {
        long t0 = remote ? System.nanoTime() : 0;
        store.prefetchNext(table, ids, idOff, n);
        if (remote) remoteNanos += System.nanoTime() - t0;
    }

    /**
     * Whether the store is a parameter server reached by calls (not this process's own tables, which a pull reads in
     * place): then the time in its pulls is the worker waiting on the server.
     */
    boolean remote() {
        return remote;
    }

    /** Nanoseconds spent in the remote store's pulls and lookups since the last call (0 for local tables). */
    long takeRemoteNanos() {
        long t = remoteNanos;
        remoteNanos = 0;
        return t;
    }

    /** Holds the push: copies its ids and gradient rows and notes whether every gradient value is finite. */
    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        if (n < 0) throw new IllegalArgumentException("cannot push " + n + " rows");
        int len = Math.multiplyExact(n, store.dim(table));
        if (calls == callTable.length) {
            int c = 2 * calls;
            callTable = Arrays.copyOf(callTable, c);
            callCount = Arrays.copyOf(callCount, c);
            callIds = Arrays.copyOf(callIds, c);
            callGrads = Arrays.copyOf(callGrads, c);
        }
        if (numIds + n > this.ids.length) this.ids = Arrays.copyOf(this.ids, Math.max(2 * this.ids.length, numIds + n));
        if (numGrads + len > this.grads.length) this.grads = Arrays.copyOf(this.grads, Math.max(2 * this.grads.length, numGrads + len));
        System.arraycopy(ids, idOff, this.ids, numIds, n);
        System.arraycopy(grads, gradOff, this.grads, numGrads, len);
        finite &= Vec.allFinite(len, this.grads, numGrads);
        callTable[calls] = table;
        callCount[calls] = n;
        callIds[calls] = numIds;
        callGrads[calls] = numGrads;
        calls++;
        numIds += n;
        numGrads += len;
    }

    /** Whether every gradient value pushed since the last commit or discard is finite (true when none was pushed). */
    boolean allFinite() {
        return finite;
    }

    /** Sends the held pushes to the store, in the order the model made them, and empties the buffer. */
    void commit() {
        try {
            for (int c = 0; c < calls; c++) store.push(callTable[c], ids, callIds[c], callCount[c], grads, callGrads[c]);
        } finally {
            discard();
        }
    }

    /** Drops the held pushes: the store never sees them. */
    void discard() {
        calls = 0;
        numIds = 0;
        numGrads = 0;
        finite = true;
    }

    /** Number of push calls held (for tests). */
    int heldCalls() {
        return calls;
    }
}
