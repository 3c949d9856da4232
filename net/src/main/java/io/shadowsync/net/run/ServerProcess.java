package io.shadowsync.net.run;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.ps.PsShardSpec;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.nn.Model;
import io.shadowsync.sync.SyncSpec;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One parameter-server shard of a multi-process job, as a plain object: what {@code shadowsync ps} runs, and what a
 * Spark task or a Java program runs to be shard {@code shard} of a job. It holds row r of every embedding table with
 * r mod S = shard, with the sparse optimizer, and dense block shard of S (the EASGD center, or async-ps's model with
 * the dense optimizer), built from the same seed as the trainers' models ({@link PsServer}).
 *
 * <pre>{@code
 * ServerProcess ps = ServerProcess.builder(job, shard).net(NetSettings.loopback()).start();  // bound: ps.address()
 * ps.place(placement);          // registers with the job; a replicated shard learns its backups
 * ps.awaitTermination();        // until the leader stops it at the job's end (or close())
 * ps.close();
 * }</pre>
 *
 * Thread safety: {@link #place} and {@link #awaitTermination} from one thread; {@link #close} from any.
 */
public final class ServerProcess implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ServerProcess.class.getName());

    private final TrainingJob job;
    private final int shard;
    private final JobOptions options;
    private final NetSettings net;
    private final Transport transport;
    private final PsServer server;
    private final HostPort address;
    private final long embeddingValues;
    private volatile Placement placement;

    private ServerProcess(Builder b) throws IOException {
        this.job = b.job;
        this.shard = b.shard;
        this.options = b.options;
        this.net = b.net;
        Model model = job.model().build();
        model.initDense(job.seed());
        long[][] shapes = model.embeddingShapes();
        float[] initStd = new float[shapes.length];
        long values = 0;
        for (int k = 0; k < shapes.length; k++) {
            initStd[k] = model.embeddingInitStd(k);
            values += shapes[k][0] * shapes[k][1];
        }
        this.embeddingValues = values;
        int shards = job.config().psShards();
        this.transport = new Transport(net.config());
        SyncSpec sync = job.config().sync();
        this.server = PsServer.start(transport, net.port(), new PsShardSpec(shapes, initStd, job.seed(), job.embeddingOptimizer(),
                model.dense().data(), sync.mode() == SyncSpec.Mode.ASYNC_PS ? job.optimizer() : null, shard, shards), options.psReplicas());
        try {
            // trainer 0 asks for checkpoints and restores
            if (options.checkpoints() != null) server.checkpoints().allow(options.checkpoints().store());
            this.address = net.advertised(server.port());
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        LOG.log(Level.DEBUG, () -> "shard " + shard + " of " + shards + " listening at " + address);
    }

    public static Builder builder(TrainingJob job, int shard) {
        return new Builder(job, shard);
    }

    /** Where the trainers reach this shard. */
    public HostPort address() {
        return address;
    }

    public int shard() {
        return shard;
    }

    /** The embedding values of the whole job's tables (all shards). */
    public long embeddingValues() {
        return embeddingValues;
    }

    /** The node: its counters ({@link PsServer#calls}, rows pulled and pushed, refusals, replica statistics). */
    public PsServer server() {
        return server;
    }

    /**
     * Takes this shard's place in the job: registers with the placement (a coordinator waits for every process) and,
     * when shards are replicated, gives the node every server's address so that its primaries copy pushes to their
     * backups. Returns the job's membership. The placement is closed with this process.
     */
    public Membership place(Placement p) throws InterruptedException {
        this.placement = Objects.requireNonNull(p, "a placement");
        Membership members = p.membership(new Placement.Arrival(Role.PS, shard, address, JobTerms.digest(job, options), transport,
                net.rendezvousTimeout()));
        if (options.psReplicas() > 1) server.connectReplicas(members.servers());
        return members;
    }

    /**
     * Gives a replicated shard every server's address in shard order without a placement (a fixed list known to the
     * servers only: trainers then need none of it).
     */
    public void connectReplicas(java.util.List<HostPort> servers) {
        if (servers.size() != job.config().psShards()) {
            throw new IllegalArgumentException("--ps-replicas " + options.psReplicas() + ": give all " + job.config().psShards()
                    + " parameter servers' addresses, in shard order (this one's included), got " + servers.size());
        }
        server.connectReplicas(servers);
    }

    /** Blocks until the server has stopped: the job's leader stopped it at the end, or {@link #close}. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** As {@link #awaitTermination()}, at most {@code d}; true when it has stopped. */
    public boolean awaitTermination(Duration d) throws InterruptedException {
        return server.awaitTermination(d);
    }

    /** Stops serving (calls in flight get a few seconds) and closes the placement. Idempotent. */
    @Override
    public void close() {
        server.close();
        Placement p = placement;
        if (p != null) p.close();
    }

    /** A server process's settings. */
    public static final class Builder {
        private final TrainingJob job;
        private final int shard;
        private JobOptions options = JobOptions.defaults();
        private NetSettings net = NetSettings.loopback();

        private Builder(TrainingJob job, int shard) {
            this.job = Objects.requireNonNull(job, "the training job");
            this.shard = shard;
        }

        /** What every process of the job is given alike (default: {@link JobOptions#defaults()}). */
        public Builder options(JobOptions o) {
            this.options = Objects.requireNonNull(o, "job options");
            return this;
        }

        /** Where this process listens (port 0: a free one) and how it is reached (default: {@link NetSettings#loopback()}). */
        public Builder net(NetSettings n) {
            this.net = Objects.requireNonNull(n, "net settings");
            return this;
        }

        /**
         * Builds the shard's parameters and starts serving them.
         *
         * @throws IOException              when the port cannot be bound
         * @throws IllegalArgumentException for a shard outside the job's, or more replicas than shards
         */
        public ServerProcess start() throws IOException {
            int shards = job.config().psShards();
            if (shard < 0 || shard >= shards) throw new IllegalArgumentException("--shard " + shard + " is not in 0.." + (shards - 1) + " (--ps-shards " + shards + ")");
            if (options.psReplicas() > shards) {
                throw new IllegalArgumentException("--ps-replicas " + options.psReplicas() + " is more than --ps-shards " + shards);
            }
            return new ServerProcess(this);
        }
    }
}
