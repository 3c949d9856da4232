package io.shadowsync.engine;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.nn.EmbeddingStore;

/**
 * Where a job's shared state lives and how each trainer reaches it: the embedding tables (parameter-server
 * shards), the dense server (EASGD center, asynchronous-SGD parameters) and the collective groups. The in-process
 * implementation ({@link InProcessCluster}) is the embedded default; the {@code net} module implements it over gRPC
 * for a trainer that runs in its own process. A {@link Job} asks only for the trainers it runs here.
 *
 * <p>Which parts exist depends on the job's synchronization: a method asked for a part the job does not use
 * throws {@link IllegalStateException}.
 */
public interface Cluster extends AutoCloseable {
    /** N, the number of trainers in the whole job (not only those in this process). */
    int trainers();

    /** The embedding store trainer t's workers pull from and push to. */
    EmbeddingStore embeddings(int trainer);

    /**
     * The dense server as trainer t reaches it: over its parameter-server link ({@code forSync} false: workers of
     * asynchronous SGD) or its synchronization link ({@code forSync} true: the EASGD center).
     */
    DenseParameterServer denseServer(int trainer, boolean forSync);

    /** Trainer t's handle in the N-rank group of trainers (model averaging, BMUF). */
    Collective trainerGroup(int trainer);

    /** Worker w of trainer t's handle in the N·W-rank group of all workers (synchronous SGD): rank t·W + w. */
    Collective workerGroup(int trainer, int worker);

    /**
     * The elastic group of this process's trainer when the job's trainers are elastic (their membership changes while
     * it runs: the metrics log's {@code members} and {@code membership} records), else null (the default).
     */
    default io.shadowsync.comm.ElasticGroup elasticGroup() {
        return null;
    }

    /** Wakes everything blocked in this process's collectives and server calls: a trainer failed. */
    void abort();

    /**
     * The same, saying why: the collectives break with {@code cause}, so that the trainers of other processes blocked
     * in them learn at once which failure ended the job (by default the same as {@link #abort()}).
     */
    default void abort(Throwable cause) {
        abort();
    }

    /** Releases what this process holds (collective handles, channels). */
    @Override
    void close();
}
