package io.shadowsync.net;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.engine.Cluster;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.net.coll.NetCollective;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.ps.RemoteDenseServer;
import io.shadowsync.net.ps.RemoteEmbeddingStore;
import io.shadowsync.net.rdv.ElasticRing;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One trainer process's view of a multi-process job: the embedding tables and the dense server on the parameter
 * server processes (gRPC), and the collective groups over gRPC streams between the trainer processes — the trainer
 * group (model averaging, BMUF), the worker group (synchronous SGD: rank t·W + w lives in trainer t's process) and
 * a control group of the trainers that the CLI uses to gather results and end the job together.
 */
public final class NetCluster implements Cluster {
    private final int n;
    private final int workers;
    private final int rank;
    private final RemoteEmbeddingStore tables;
    private final RemoteDenseServer dense;
    private final Collective trainerGroup;
    private final Collective[] workerGroup;
    private final Collective control;
    private final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * Elastic trainers: the trainer group (which is also the control group) is an {@link ElasticRing} that survives
     * the death of members and admits trainers started later, through the coordinator's {@code Groups} service.
     *
     * @param coordinator  where the job's coordinator serves
     * @param self         this process's address
     * @param digest       the job's config digest
     * @param straggler    how long a rank waits for a peer before the group re-forms without it
     * @param enterTimeout how long a joiner waits to be admitted
     * @param join         whether this trainer joins a running job (it receives the state first)
     */
    public record Elastic(HostPort coordinator, HostPort self, String digest, Duration straggler, Duration enterTimeout,
                          boolean join) {}

    /** Without elastic trainers: every trainer is needed to the end. */
    public NetCluster(Transport transport, RingEndpoint endpoint, Membership members, int rank, JobConfig config,
                      long[][] shapes, int denseSize, Duration timeout) throws InterruptedException {
        this(transport, endpoint, members, rank, config, shapes, denseSize, timeout, null, List.of());
    }

    /**
     * @param shapes    embedding table shapes (the model's)
     * @param denseSize the model's dense parameter count
     * @param elastic   elastic trainers, or null
     * @param sameJvm   parameter-server nodes that run in this JVM (a trainer hosting a shard): the rows to them are
     *                  served directly, not over their row lanes ({@link RemoteEmbeddingStore#nodesInJvm})
     */
    public NetCluster(Transport transport, RingEndpoint endpoint, Membership members, int rank, JobConfig config,
                      long[][] shapes, int denseSize, Duration timeout, Elastic elastic, List<PsServer> sameJvm) throws InterruptedException {
        this.n = config.trainers();
        this.workers = config.trainer().workers();
        this.rank = rank;
        if (members.trainers().size() != n) {
            throw new IllegalArgumentException("the job has " + n + " trainers but " + members.trainers().size() + " trainer addresses");
        }
        if (members.servers().size() != config.psShards()) {
            throw new IllegalArgumentException("the job has " + config.psShards() + " parameter-server shards but "
                    + members.servers().size() + " server addresses");
        }
        SyncSpec sync = config.sync();
        try {
            boolean running = elastic != null && elastic.join(); // a joiner: servers may have died since the job started
            tables = RemoteEmbeddingStore.connect(transport, members.servers(), running,
                    transport.config().rowLanes() ? RemoteEmbeddingStore.Calls.LANE : RemoteEmbeddingStore.Calls.STREAM, config.rowCodec(), sameJvm);
            checkTables(tables, shapes);
            owned.add(tables);
            AlgorithmDescriptor algo = sync.descriptor();
            dense = algo.denseServer() ? RemoteDenseServer.connect(transport, members.servers(), running) : null;
            if (dense != null && dense.size() != denseSize) {
                throw new IllegalStateException("the parameter servers hold " + dense.size() + " dense parameters, this trainer's model " + denseSize
                        + ": every process of a job must be given the same model flags");
            }
            if (dense != null) owned.add(dense);
            boolean group = algo.trainerGroup();
            if (elastic != null) {
                if (!config.codec().lossless()) {
                    throw new IllegalArgumentException("--compress " + config.codec().name() + " is not available with elastic "
                            + "trainers yet: they send float32");
                }
                if (algo.workerGroup()) {
                    throw new IllegalArgumentException("elastic trainers need shadow or foreground synchronization, async-ps or easgd: synchronous SGD "
                            + "cannot take a step without every worker");
                }
                ElasticRing ring = elastic.join()
                        ? ElasticRing.enter(transport, endpoint, elastic.coordinator(), rank, elastic.self(), elastic.digest(), elastic.straggler(),
                                elastic.enterTimeout(), POLL_MILLIS)
                        : ElasticRing.start(transport, endpoint, elastic.coordinator(), rank, elastic.self(), elastic.digest(), members.trainers(),
                                elastic.straggler(), elastic.enterTimeout(), POLL_MILLIS);
                owned.add(ring);
                control = ring;
                trainerGroup = group ? ring : null;
            } else {
                control = NetCollective.join(transport, endpoint, "control", rank, members.trainers(), timeout);
                owned.add(control);
                trainerGroup = group ? NetCollective.join(transport, endpoint, "trainers", rank, members.trainers(), timeout,
                        NetCollective.DEFAULT_CHUNK_FLOATS, NetCollective.DEFAULT_WINDOW, config.codec()) : null;
            }
            if (trainerGroup != null && trainerGroup != control) owned.add(trainerGroup);
            if (algo.workerGroup()) {
                List<HostPort> byRank = new ArrayList<>(n * workers);
                for (int t = 0; t < n; t++) for (int w = 0; w < workers; w++) byRank.add(members.trainers().get(t));
                workerGroup = new Collective[workers];
                for (int w = 0; w < workers; w++) {
                    workerGroup[w] = NetCollective.join(transport, endpoint, "workers", rank * workers + w, byRank, timeout,
                            NetCollective.DEFAULT_CHUNK_FLOATS, NetCollective.DEFAULT_WINDOW, config.codec());
                    owned.add(workerGroup[w]);
                }
            } else {
                workerGroup = null;
            }
        } catch (RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
    }

    /** How often an elastic trainer asks the coordinator whether trainers wait to join. */
    private static final long POLL_MILLIS = 500;

    /** The servers' tables must be the model's: a process started with other flags is named, not trained against. */
    private static void checkTables(RemoteEmbeddingStore store, long[][] shapes) {
        boolean same = store.numTables() == shapes.length;
        for (int t = 0; same && t < shapes.length; t++) same = store.rows(t) == shapes[t][0] && store.dim(t) == shapes[t][1];
        if (!same) {
            throw new IllegalStateException("the parameter servers at " + store.addresses() + " hold other embedding tables than this "
                    + "trainer's model: every process of a job must be given the same model flags");
        }
    }

    @Override
    public int trainers() {
        return n;
    }

    @Override
    public EmbeddingStore embeddings(int trainer) {
        check(trainer);
        return tables;
    }

    /** The remote embedding tables (also for saving the final model). */
    public RemoteEmbeddingStore tables() {
        return tables;
    }

    @Override
    public DenseParameterServer denseServer(int trainer, boolean forSync) {
        check(trainer);
        if (dense == null) throw new IllegalStateException("this job's synchronization uses no dense server");
        return dense;
    }

    @Override
    public Collective trainerGroup(int trainer) {
        check(trainer);
        if (trainerGroup == null) throw new IllegalStateException("this job's synchronization uses no trainer group");
        return trainerGroup;
    }

    @Override
    public Collective workerGroup(int trainer, int worker) {
        check(trainer);
        if (workerGroup == null) throw new IllegalStateException("this job's synchronization uses no worker group");
        return workerGroup[worker];
    }

    /**
     * The trainers' control group: gathering results, the final barrier. With elastic trainers it is the elastic
     * trainer group itself, so its members are the trainers still in the job.
     */
    public Collective control() {
        return control;
    }

    @Override
    public io.shadowsync.comm.ElasticGroup elasticGroup() {
        return control instanceof io.shadowsync.comm.ElasticGroup g ? g : null;
    }

    private void check(int trainer) {
        if (trainer != rank) throw new IllegalArgumentException("this process runs trainer " + rank + ", not " + trainer);
    }

    @Override
    public void abort() {
        if (trainerGroup != null) trainerGroup.close();
        if (control instanceof ElasticRing) control.close();
        if (workerGroup != null) for (Collective c : workerGroup) c.close();
    }

    /** Breaks the groups with the cause, so the other trainers learn at once why this one stopped (never waiting on them). */
    @Override
    public void abort(Throwable cause) {
        IllegalStateException e = new IllegalStateException("trainer " + rank + "'s job failed: " + cause.getMessage(), cause);
        if (trainerGroup != null) trainerGroup.abort(e);
        if (control instanceof ElasticRing) control.abort(e);
        if (workerGroup != null) for (Collective c : workerGroup) c.abort(e);
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                // closing is best effort: the process is ending or the job failed already
            }
        }
        owned.clear();
    }
}
