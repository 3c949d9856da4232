package io.shadowsync.nn;

/**
 * Where a model's embedding tables live: pulled from row by row, updated by pushing row gradients, so the
 * same model code runs with tables held by the trainer ({@code LocalEmbeddingStore}) or on sharded parameter
 * servers (the gRPC client in the net module). The store owns the sparse optimizer (SGD, row-wise Adagrad): a push is a gradient,
 * not a new value.
 *
 * <p>Sharing contract: pull and push are called concurrently by Hogwild workers without locks; a pull may
 * see a row half-updated by a concurrent push (the Hogwild race, intended).
 */
public interface EmbeddingStore {
    int numTables();

    long rows(int table);

    int dim(int table);

    /** Copies rows {@code ids[idOff .. idOff+n)} of table into {@code out[outOff + j·dim ...]}. */
    void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff);

    /**
     * Applies one gradient row per id: {@code grads[gradOff + j·dim ...]} is the loss gradient for row
     * {@code ids[idOff + j]}. Duplicated ids are applied one after the other.
     */
    void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff);

    /**
     * Opens one worker step on the calling thread: until {@link #endStep}, a remote store sends the step's pulls of
     * all tables as one request per shard, and its pushes likewise (one round trip each way per step, as a DLRM
     * trainer batches its lookups), instead of one round trip per table. No-op for local stores.
     */
    default void beginStep() {
    }

    /**
     * Announces, inside a step, that the calling thread will pull rows {@code ids[idOff .. idOff+n)} of table: a remote
     * store then fetches every announced row of the step in one request per shard at the first pull, instead of one
     * round trip per table (a model whose pulls of one table do not depend on another's announces them all first).
     * No-op for local stores and outside a step.
     */
    default void prefetch(int table, int[] ids, int idOff, int n) {
    }

    /**
     * Announces, inside a step, that the calling thread will pull rows {@code ids[idOff .. idOff+n)} of table in its
     * next step: a remote store requests them during this step, so that their round trip overlaps this step's
     * compute, and serves the next step's pull of them from the answer. Such rows hold every push the thread made
     * before the current step but not the current step's (staleness of one step). No-op for local stores and outside
     * a step.
     */
    default void prefetchNext(int table, int[] ids, int idOff, int n) {
    }

    /**
     * Closes the step opened by {@link #beginStep} on the calling thread. A remote store sends the step's pushes and
     * may return before the servers acknowledge them (at most one step's pushes per thread stay in flight; the
     * thread's later pulls still see them); {@link #flush} waits for them.
     */
    default void endStep() {
    }

    /**
     * Waits until every push made so far through this store, by any thread, has been applied. Called where the
     * tables must hold every update made: a paused job before it is checkpointed, a worker that has run out of data.
     * No-op for local stores, whose pushes are applied when {@link #push} returns.
     */
    default void flush() {
    }

    /**
     * The live {@code [rows × dim]} array of table t when this store holds it in this process, else null
     * (remote or sharded stores; the default). A fast path for models: they may read rows straight from it
     * instead of copying them out with {@link #pull}, but never write it: updates go through {@link #push}, so
     * that the store's sparse optimizer applies them. Reads race with concurrent pushes (the Hogwild race).
     */
    default float[] localTable(int t) {
        return null;
    }

    /**
     * The bytes of row values this store moved to and from where the tables live ({@link RowBytes}: encoded by
     * {@code --compress-rows} and as float32), or null where nothing travels (a store in this process without a row
     * codec; the default).
     */
    default RowBytes rowBytes() {
        return null;
    }
}
