package io.shadowsync.engine;

import io.shadowsync.comm.CodedRows;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.comm.EmulatedLink;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.ShardedEmbeddingServer;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.optim.RowOptimizer;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

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
    /** The tables' holder: the shared local store, or the sharded server (the other is null). */
    private final LocalEmbeddingStore localTables;
    private final ShardedEmbeddingServer server;
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
            localTables = local;
            server = null;
        } else {
            server = new ShardedEmbeddingServer(shapes, initStd, seed, embOptimizer, config.psShards(), config.link());
            for (int t = 0; t < n; t++) stores[t] = server.client(links[t], config.rowCodec());
            tables = server.client(new EmulatedLink(LinkModel.NONE));
            localTables = null;
        }
        if (!config.rowCodec().lossless()) {
            // rows round as the parameter-server wire would carry them (the tables themselves stay float32)
            Map<EmbeddingStore, EmbeddingStore> coded = new IdentityHashMap<>();
            for (int t = 0; t < n; t++) stores[t] = coded.computeIfAbsent(stores[t], s -> new CodedRows(s, config.rowCodec()));
        }
        AlgorithmDescriptor algo = sync.descriptor();
        denseServer = algo.denseServer()
                ? new InProcessDenseServer(initial, Math.min(config.psShards(), initial.length),
                        algo.serverOptimizer() ? optimizer : null, config.link())
                : null;
        trainerRanks = algo.trainerGroup() ? InProcessCollectives.create(n, config.link(), config.codec()) : null;
        workerRanks = algo.workerGroup() ? InProcessCollectives.create(n * workers, config.link(), config.codec()) : null;
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

    /**
     * Every embedding shard as live arrays (one shard for the shared local store): its slice of each table and the
     * row optimizer's state. For checkpoints, read while the job is paused.
     */
    List<JobState.ShardState> embeddingShards() {
        int shards = server == null ? 1 : server.numShards();
        int k = tables.numTables();
        List<JobState.ShardState> out = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) {
            float[][] values = new float[k][];
            float[][] state = new float[k][];
            for (int t = 0; t < k; t++) {
                values[t] = server == null ? localTables.table(t) : server.slice(s, t);
                RowOptimizer opt = server == null ? localTables.optimizer(t) : server.optimizer(s, t);
                state[t] = opt == null ? null : opt.state();
            }
            out.add(new JobState.ShardState(s, values, state));
        }
        return out;
    }

    /** Copies a checkpoint's embedding shards into the live tables and row-optimizer states (before training). */
    void restoreEmbeddings(List<JobState.ShardState> shards) {
        List<JobState.ShardState> live = embeddingShards();
        if (shards.size() != live.size()) {
            throw new IllegalArgumentException("the checkpoint holds " + shards.size() + " embedding shard(s), this job " + live.size());
        }
        for (int s = 0; s < live.size(); s++) {
            JobState.ShardState from = shards.get(s), to = live.get(s);
            if (from.tables().length != to.tables().length) {
                throw new IllegalArgumentException("embedding shard " + s + " of the checkpoint holds " + from.tables().length
                        + " tables, this job's " + to.tables().length);
            }
            for (int t = 0; t < to.tables().length; t++) {
                copyInto("embedding shard " + s + ", table " + t, from.tables()[t], to.tables()[t]);
                if ((from.rowState()[t] == null) != (to.rowState()[t] == null)) {
                    throw new IllegalArgumentException("embedding shard " + s + ", table " + t + ": the checkpoint's row optimizer "
                            + (from.rowState()[t] == null ? "keeps no state, this job's does" : "keeps state, this job's does not"));
                }
                if (to.rowState()[t] != null) copyInto("embedding shard " + s + ", table " + t + " row state", from.rowState()[t], to.rowState()[t]);
            }
        }
    }

    /** The dense server's values and optimizer state (copied), or null when this job has none. */
    JobState.ServerState denseServerState() {
        if (denseServer == null) return null;
        float[] values = new float[denseServer.size()];
        denseServer.copyTo(values);
        int s = denseServer.numShards();
        float[][][] opt = new float[s][][];
        long[] steps = new long[s];
        for (int i = 0; i < s; i++) {
            DenseOptimizer o = denseServer.optimizer(i);
            opt[i] = o == null ? new float[0][] : o.state();
            steps[i] = o == null ? 0 : o.steps();
        }
        return new JobState.ServerState(values, opt, steps);
    }

    /** Copies a checkpoint's dense server into this one (before training). */
    void restoreDenseServer(JobState.ServerState state) {
        if ((state == null) != (denseServer == null)) {
            throw new IllegalArgumentException(state == null ? "the checkpoint has no dense server, this job's synchronization needs one"
                    : "the checkpoint has a dense server, this job's synchronization uses none");
        }
        if (state == null) return;
        if (state.values().length != denseServer.size()) {
            throw new IllegalArgumentException("the checkpoint's dense server holds " + state.values().length + " values, this job's " + denseServer.size());
        }
        if (state.optimizer().length != denseServer.numShards()) {
            throw new IllegalArgumentException("the checkpoint's dense server has " + state.optimizer().length + " shards, this job's " + denseServer.numShards());
        }
        denseServer.load(state.values());
        for (int i = 0; i < denseServer.numShards(); i++) {
            DenseOptimizer o = denseServer.optimizer(i);
            Job.restoreOptimizer("dense server shard " + i, o == null ? new float[0][] : o.state(), state.optimizer()[i], o, state.optimizerSteps()[i]);
        }
    }

    static void copyInto(String what, float[] from, float[] to) {
        if (from.length != to.length) throw new IllegalArgumentException(what + ": the checkpoint holds " + from.length + " values, this job " + to.length);
        System.arraycopy(from, 0, to, 0, to.length);
    }

    @Override
    public void abort() {
        close();
    }

    @Override
    public void abort(Throwable cause) {
        IllegalStateException e = new IllegalStateException("the job failed: " + cause.getMessage(), cause);
        for (Collective c : collectives) c.abort(e);
    }

    @Override
    public void close() {
        for (Collective c : collectives) c.close();
    }
}
