package io.shadowsync.engine;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.comm.EmulatedLink;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.ShardedEmbeddingServer;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The whole cluster in this JVM: the sharded embedding server (or, with one shard and no network to emulate, one
 * shared Hogwild table store), the dense server and the collectives, all over emulated links when the job's
 * {@link LinkModel} is not ideal.
 *
 * <p>Two emulated links per trainer: one for parameter-server traffic on the workers' critical path (embedding
 * rows; dense parameters of asynchronous SGD), one for background synchronization (collectives, the EASGD center),
 * as when sync runs on its own NIC or traffic class. Each link serializes its own messages.
 */
public final class InProcessCluster implements Cluster {
    private final int n;
    private final int workers;
    private final EmbeddingStore[] stores;
    private final EmbeddingStore tables;
    private final InProcessDenseServer denseServer;
    private final EmulatedLink[] links;
    private final EmulatedLink[] syncLinks;
    private final Collective[] trainerRanks;
    private final Collective[] workerRanks;
    private final List<Collective> collectives = new ArrayList<>();

    /**
     * @param shapes   embedding table shapes {rows, dim}
     * @param initStd  per table, the std of the initial rows
     * @param initial  the initial dense parameters (copied by the dense server)
     */
    public InProcessCluster(long[][] shapes, float[] initStd, long seed, float[] initial, OptimizerSpec optimizer,
                            EmbeddingOptimizerSpec embOptimizer, JobConfig config) {
        n = config.trainers();
        workers = config.trainer().workers();
        SyncSpec sync = config.sync();
        links = new EmulatedLink[n];
        syncLinks = new EmulatedLink[n];
        for (int t = 0; t < n; t++) {
            links[t] = new EmulatedLink(config.link());
            syncLinks[t] = new EmulatedLink(config.link());
        }
        stores = new EmbeddingStore[n];
        if (config.link().isIdeal() && config.psShards() == 1) {
            // one process, no network to emulate: the trainers share one Hogwild table store directly
            LocalEmbeddingStore local = new LocalEmbeddingStore(shapes, initStd, seed, embOptimizer);
            Arrays.fill(stores, local);
            tables = local;
        } else {
            ShardedEmbeddingServer server = new ShardedEmbeddingServer(shapes, initStd, seed, embOptimizer, config.psShards(), config.link());
            for (int t = 0; t < n; t++) stores[t] = server.client(links[t]);
            tables = server.client(new EmulatedLink(LinkModel.NONE));
        }
        boolean needsServer = sync.mode() == SyncSpec.Mode.ASYNC_PS || sync.base().equals("easgd");
        denseServer = needsServer
                ? new InProcessDenseServer(initial, Math.min(config.psShards(), initial.length),
                        sync.mode() == SyncSpec.Mode.ASYNC_PS ? optimizer : null, config.link())
                : null;
        boolean trainerGroup = (sync.mode() == SyncSpec.Mode.SHADOW || sync.mode() == SyncSpec.Mode.FOREGROUND) && !sync.base().equals("easgd");
        trainerRanks = trainerGroup ? InProcessCollectives.create(n, config.link()) : null;
        workerRanks = sync.mode() == SyncSpec.Mode.SYNC_SGD ? InProcessCollectives.create(n * workers, config.link()) : null;
        if (trainerRanks != null) collectives.addAll(List.of(trainerRanks));
        if (workerRanks != null) collectives.addAll(List.of(workerRanks));
    }

    @Override
    public int trainers() {
        return n;
    }

    @Override
    public EmbeddingStore embeddings(int trainer) {
        return stores[trainer];
    }

    /** All embedding tables, read through an ideal link (evaluation, saving). */
    public EmbeddingStore tables() {
        return tables;
    }

    @Override
    public DenseParameterServer denseServer(int trainer, boolean forSync) {
        if (denseServer == null) throw new IllegalStateException("this job's synchronization uses no dense server");
        return denseServer.client(forSync ? syncLinks[trainer] : links[trainer]);
    }

    /** The dense server itself (asynchronous SGD's final parameters), or null. */
    public DenseParameterServer denseServer() {
        return denseServer;
    }

    @Override
    public Collective trainerGroup(int trainer) {
        if (trainerRanks == null) throw new IllegalStateException("this job's synchronization uses no trainer group");
        return trainerRanks[trainer];
    }

    @Override
    public Collective workerGroup(int trainer, int worker) {
        if (workerRanks == null) throw new IllegalStateException("this job's synchronization uses no worker group");
        return workerRanks[trainer * workers + worker];
    }

    @Override
    public void abort() {
        close();
    }

    @Override
    public void close() {
        for (Collective c : collectives) c.close();
    }
}
