package io.shadowsync.net.run;

import io.grpc.Server;
import io.shadowsync.api.Provenance;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.ckpt.MultiProcessCheckpointer;
import io.shadowsync.comm.Collective;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.SyncStats;
import io.shadowsync.engine.feed.Takeover;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetCluster;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.ps.PsAdmin;
import io.shadowsync.net.ps.PsCheckpointClient;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.rdv.ElasticRing;
import io.shadowsync.net.rdv.JobFinishedException;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One trainer of a multi-process job, as a plain object: what {@code shadowsync trainer} runs, and what a Spark task
 * or a Java program runs to be trainer {@code rank} of a job. Its workers and sync thread run in this JVM, the
 * embedding tables on the job's parameter-server processes ({@link ServerProcess}), the collectives over gRPC to the
 * other trainers.
 *
 * <pre>{@code
 * TrainerProcess t = TrainerProcess.builder(job, rank).net(NetSettings.loopback()).build();
 * HostPort me = t.bind();                                   // optional: run binds if not yet
 * TrainerProcess.Outcome o = t.run(Placement.fixed(members));
 * if (o.leader()) o.model().save(path);
 * }</pre>
 *
 * <p>{@link #run} does the whole life of the process: bind; learn every process's address from the {@link Placement};
 * join the collectives ({@link NetCluster}); resume from a checkpoint when asked; meet the other trainers at a start
 * barrier (all start training together; elastic trainers, which come and go, do not); train, and with elastic trainers take
 * over the shares of trainers that left; gather every trainer's result; on the leader (trainer 0, or with elastic
 * trainers the first member still in the job) build the job's summary ({@link JobSummary}), evaluate on the job's
 * evaluation data, save, and stop the servers (unless {@link Builder#keepServers}); every trainer waits for the leader
 * before it returns. A failure inside training breaks the collectives with its cause, so the other trainers end too,
 * and is thrown ({@link TrainingException}).
 *
 * <p>Process-global effects are off unless asked for: {@link Builder#stopOnSignal} installs a JVM shutdown hook that
 * writes a final checkpoint on SIGTERM/SIGINT; {@link Builder#exitOnStop} ends the JVM once a stop asked by another
 * trainer has its checkpoint. Without them a stop ({@link #requestStop}, or another trainer's) ends {@link #run} with
 * {@link Status#STOPPED}.
 *
 * <p>What it reports goes to its {@link Listener} (default: {@link System.Logger} of this class, INFO for what the
 * CLI prints as "shadowsync trainer R: ...", WARNING for warnings); details go to the logger at DEBUG.
 *
 * <p>Thread safety: one thread calls {@link #bind} and {@link #run}, once; {@link #requestStop} may be called from any.
 */
public final class TrainerProcess {
    private static final System.Logger LOG = System.getLogger(TrainerProcess.class.getName());
    /** How long a checkpoint waits for the job's threads, in every process, to reach the end of their step or round. */
    private static final Duration PAUSE_TIMEOUT = Duration.ofMinutes(2);
    /** How long one parameter server may take to write or load its part of a checkpoint. */
    private static final Duration SERVER_CHECKPOINT_DEADLINE = Duration.ofMinutes(10);

    /** How {@link #run} ended. */
    public enum Status {
        /** The job trained to its end. */
        DONE,
        /** A stop was asked (a signal, {@link #requestStop}, another trainer's): a final checkpoint is written; resume from it. */
        STOPPED,
        /** Trainer 0 could not write periodic checkpoints, too many in a row, and stopped the job: a failure. */
        CHECKPOINTS_GAVE_UP,
        /** This trainer (a joiner, or one dropped as a straggler) found the job finished without it: its share is trained. */
        JOB_FINISHED_WITHOUT_IT
    }

    /**
     * What {@link #run} ended with.
     *
     * @param status   how it ended
     * @param leader   whether this process was the job's leader (it built the summary, evaluated, saved)
     * @param examples examples this process trained
     * @param summary  the leader: the job's JSON summary (as {@code train} prints it, plus {@code processes}); others: null
     * @param model    the leader: the trained model, its dense replica and a copy of the servers' tables; others: null
     * @param message  a sentence about the end (the last line this process reported)
     */
    public record Outcome(Status status, boolean leader, long examples, Map<String, Object> summary, TrainedModel model, String message) {}

    /** Receives what a trainer process reports; every method has a default. Called from the process's threads. */
    public interface Listener {
        /** A line for the user: INFO for progress of the job's life, WARNING for warnings, ERROR for what failed. */
        default void message(Level level, String text) {
            LOG.log(level, text);
        }

        /**
         * Training is about to start: the job is built (and resumed), the members known; next this trainer waits at the
         * start barrier for the others. On run's thread.
         */
        default void training(Job job, Membership members) {}

        /** Training has ended (or failed), before the results are gathered. On run's thread. */
        default void trained() {}

        /**
         * The leader's summary is final (status {@link Status#DONE} or {@link Status#CHECKPOINTS_GAVE_UP}): after the
         * servers are stopped when the job is done; before the other trainers are released when it gave up, so that it
         * is out before they end. On run's thread.
         */
        default void summary(Map<String, Object> summary, Status status) {}
    }

    /** The entries a model file records, from the summary (of a finished job, or of a partial model: {"partial", "examples"}). */
    @FunctionalInterface
    public interface ModelNotes {
        Map<String, String> provenance(Map<String, Object> summary, boolean partial);
    }

    private final TrainingJob job;
    private final int rank;
    private final JobOptions options;
    private final NetSettings net;
    private final int evalBatch;
    private final Path save;
    private final Path savePartial;
    private final ModelNotes notes;
    private final boolean keepServers;
    private final Listener listener;
    private final boolean stopOnSignal;
    private final int exitOnStop;
    private final String network;
    private final java.util.function.Supplier<String> dataFingerprint;
    private final String digest;

    private final Transport transport;
    private final RingEndpoint endpoint = new RingEndpoint();
    private Server server;
    private HostPort self;
    private volatile Checkpoints checkpoints;
    private volatile boolean stopAsked;
    /** Parameter-server nodes that run in this JVM ({@link #hosts}): this trainer's rows to them do not leave it. */
    private final List<PsServer> hosted = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Why {@link #abort} ended this trainer (the first cause), or null; with the job and cluster it reaches, under this. */
    private Throwable aborted;
    private Job abortable;
    private NetCluster abortableCluster;

    private TrainerProcess(Builder b) {
        this.job = b.job;
        this.rank = b.rank;
        this.options = b.options;
        this.net = b.net;
        this.evalBatch = b.evalBatch;
        this.save = b.save;
        this.savePartial = b.savePartial;
        this.notes = b.notes != null ? b.notes : this::defaultNotes;
        this.keepServers = b.keepServers;
        this.listener = b.listener;
        this.stopOnSignal = b.stopOnSignal;
        this.exitOnStop = b.exitOnStop;
        this.network = b.network;
        this.dataFingerprint = b.dataFingerprint;
        this.digest = JobTerms.digest(job, options);
        this.transport = new Transport(net.config());
    }

    public static Builder builder(TrainingJob job, int rank) {
        return new Builder(job, rank);
    }

    /** This trainer's rank. */
    public int rank() {
        return rank;
    }

    /** The job's digest, which every process of the job must share ({@link JobTerms#digest}). */
    public String digest() {
        return digest;
    }

    /**
     * Starts this process's server (the collectives' endpoint) on the settings' port (0: a free one) and returns the
     * address the others reach it at. {@link #run} calls it when it was not called before; call it first when the
     * addresses must be known before the placement is (a Spark barrier stage gathers them).
     */
    public synchronized HostPort bind() throws IOException {
        return bind(0);
    }

    private synchronized HostPort bind(int placementPort) throws IOException {
        if (server != null) return self;
        int port = net.port() != 0 ? net.port() : placementPort;
        server = transport.serve(port, List.of(endpoint));
        self = net.advertised(server.getPort());
        LOG.log(Level.DEBUG, () -> "trainer " + rank + " listening at " + self);
        return self;
    }

    /**
     * Asks every trainer of the job to come to rest and write a final checkpoint; {@link #run} then ends with
     * {@link Status#STOPPED} in every process (or, with {@link Builder#exitOnStop}, the other processes exit). Needs
     * checkpoints ({@link JobOptions#checkpoints}); before training starts the stop is asked as soon as it does.
     *
     * @throws IllegalStateException when the job has no checkpoints
     */
    public void requestStop() {
        if (options.checkpoints() == null) throw new IllegalStateException("a stop writes a final checkpoint: this job has no checkpoint directory");
        stopAsked = true;
        Checkpoints ck = checkpoints;
        if (ck != null) ck.checkpointer.requestStop();
    }

    /**
     * Tells this trainer that a node of its job's parameter servers runs in its own JVM ({@code trainer --host-shard}),
     * before {@link #run}: its workers then call that node's handlers directly instead of over its row lane, with the
     * same checks, counters, optimizer and order ({@code RemoteEmbeddingStore}'s in-JVM nodes). The node must be the one
     * the job's placement lists; one that is not is ignored.
     */
    public void hosts(PsServer node) {
        hosted.add(java.util.Objects.requireNonNull(node, "the node"));
    }

    /**
     * Ends this trainer from another thread (a Spark task that Spark killed, a supervisor), returning at once: its job
     * fails with cause ({@link Job#fail}: every worker and the sync thread end), and its collectives are broken with
     * it, so that the other trainers fail with this trainer's cause instead of waiting for it. {@link #run} then
     * throws a {@link TrainingException} whose cause is cause, as soon as its threads have ended. Called before
     * training starts (during rendezvous), run throws it once the trainers have met. The first cause wins; the
     * parameter servers are not stopped (they are the job's, not this trainer's).
     */
    public void abort(Throwable cause) {
        Objects.requireNonNull(cause, "a cause");
        Job part;
        NetCluster cluster;
        synchronized (this) {
            if (aborted != null) return;
            aborted = cause;
            part = abortable;
            cluster = abortableCluster;
        }
        message(Level.WARNING, "aborted: " + cause.getMessage());
        if (part != null) part.fail(cause);
        if (cluster != null) {
            cluster.abort(cause);
            cluster.control().abort(new IllegalStateException("trainer " + rank + " was aborted: " + cause.getMessage(), cause));
        }
    }

    /** The job and cluster that {@link #abort} ends; throws the abort's cause when it came first. */
    private synchronized void abortable(Job part, NetCluster cluster) {
        if (aborted != null) {
            cluster.abort(aborted);
            throw new TrainingException(aborted);
        }
        abortable = part;
        abortableCluster = cluster;
    }

    /**
     * Runs this trainer's whole life (see the class comment) and returns how it ended. Closes what it started — its
     * server, the connections, a coordinator the placement started — and the placement, before it returns.
     *
     * @throws TrainingException                          a failure inside training (this trainer's or another's)
     * @throws io.shadowsync.net.rdv.RendezvousException when the other processes do not arrive or refuse this one
     * @throws CheckpointDir.LockedException              (trainer 0) when another job holds the checkpoint directory
     * @throws IllegalArgumentException                   for a resume from a checkpoint written with other settings,
     *                                                    or a placement that does not suit the job
     */
    public Outcome run(Placement placement) throws Exception {
        Objects.requireNonNull(placement, "a placement");
        CheckpointOptions ckOpts = options.checkpoints();
        CheckpointDir.Lock lock = null;
        try {
            // trainer 0 writes the manifests and prunes: it holds the directory for the job's life (the servers and the
            // other trainers write their files into checkpoints it creates); a directory in use is refused before rendezvous
            if (rank == 0 && ckOpts != null) lock = new CheckpointDir(ckOpts.store(), ckOpts.keep()).lock();
            if (options.elastic() && placement.coordinator() == null) {
                throw new IllegalArgumentException("elastic trainers need a coordinator (Placement.coordinator): it re-forms the group when trainers "
                        + "come and go, which fixed lists cannot");
            }
            if (placement.joinsRunningJob() && !options.elastic()) {
                throw new IllegalArgumentException("joining a running job needs elastic trainers: only they take trainers while the job runs");
            }
            HostPort me = bind(placement.port(Role.TRAINER, rank));
            Membership members = placement.membership(new Placement.Arrival(Role.TRAINER, rank, me, digest, transport, net.rendezvousTimeout()));
            LOG.log(Level.DEBUG, () -> "trainer " + rank + ": trainers at " + members.trainers() + ", parameter servers at " + members.servers());
            return train(placement, members, me);
        } catch (JobFinishedException e) {
            // dropped (a straggler) or a joiner refused as the job finished: the members took over its share
            message(Level.INFO, e.getMessage());
            return new Outcome(Status.JOB_FINISHED_WITHOUT_IT, false, 0, null, null, e.getMessage());
        } finally {
            Checkpoints ck = checkpoints;
            if (ck != null) ck.close();
            synchronized (this) {
                if (server != null) server.shutdownNow();
            }
            placement.close();
            if (lock != null) lock.close();
        }
    }

    private Outcome train(Placement placement, Membership members, HostPort me) throws Exception {
        Model probe = job.model().build();
        boolean joining = placement.joinsRunningJob();
        NetCluster.Elastic elastic = options.elastic() ? new NetCluster.Elastic(placement.coordinator(), me, digest, options.straggler(),
                net.rendezvousTimeout(), joining) : null;
        if (joining) message(Level.INFO, "waiting to be admitted to the running job at " + placement.coordinator());
        try (NetCluster cluster = new NetCluster(transport, endpoint, members, rank, job.config(), probe.embeddingShapes(),
                probe.dense().size(), net.rendezvousTimeout(), elastic, List.copyOf(hosted))) {
            if (!hosted.isEmpty()) {
                List<Integer> direct = cluster.tables().nodesInJvm();
                message(direct.isEmpty() ? Level.WARNING : Level.INFO, direct.isEmpty()
                        ? "the parameter-server shard hosted here is not at the address the job lists for it: its rows go over its row lane"
                        : "this trainer's rows to parameter-server shard(s) " + direct + " are served in this JVM, without a socket");
            }
            // elastic, streamed data: the trainers' own passes count the examples of an epoch (for examples_asked)
            // (not split data: a trainer reads only its split, so split data is counted at the end)
            DataSource train = options.elastic() && !(job.data() instanceof InMemorySource)
                    && !io.shadowsync.engine.feed.BatchSupply.splits(job.data(), job.config().trainers()) ? new PassCounter(job.data()) : job.data();
            Job part = new Job(job.model(), job.seed(), job.optimizer(), job.embeddingOptimizer(), train, job.config(), cluster, new int[] {rank});
            Model model = part.model();
            if (cluster.control() instanceof ElasticRing ring) {
                // the trainer before this one for the same index left its share at its mark: go on from there
                if (ring.resume() != null) {
                    part.startFrom(ring.resume());
                    if (ring.resume().examples() > 0) {
                        message(Level.INFO, String.format(Locale.ROOT, "goes on with trainer %d's share after the %,d examples trained before it",
                                rank, ring.resume().examples()));
                    }
                }
                ring.reportProgress(part::progressMark);
            }
            abortable(part, cluster);
            Checkpoints ck = options.checkpoints() == null ? null : new Checkpoints(part, cluster, members);
            checkpoints = ck;
            String resumedFrom = ck != null && options.checkpoints().resume() ? ck.resume() : null;
            listener.training(part, members);
            long serversInTrainers = 0;
            if (!(cluster.control() instanceof ElasticRing)) {
                // the trainers start training together: one that is ready first would otherwise train alone with
                // nobody to average with (measured in Spark local mode: a trainer ready a second late, the other had
                // trained all its share alone by then; eval logloss 0.47 against 0.455 when they start together).
                // Elastic trainers come and go by design; the coordinator admits them while the job runs. The start
                // gathers how many server nodes the trainers host (launch --colocate), for the summary's process count.
                for (long h : cluster.control().allGatherLongs(new long[] {hosted.size()})) serversInTrainers += h;
            }
            if (ck != null) ck.start();
            JobResult mine;
            SyncStats s = part.trainer(0).syncStats();
            long rounds, bytes;
            double roundMs, ratio;
            long departedExamples = 0;
            try {
                mine = part.run();
                rounds = s.rounds();
                roundMs = s.meanRoundMillis();
                bytes = s.bytesSent();
                ratio = s.compressionRatio();
                if (ck != null && ck.checkpointer.stopped()) {
                    ck.finish();
                    return stopped(members, mine.examples());
                }
                if (cluster.control() instanceof ElasticRing ring) {
                    // trainers that left for good: the members share the rest of their shares (Takeover's rule)
                    Job more = part;
                    while (true) {
                        ElasticRing.Shares shares = ring.finishShares();
                        departedExamples = shares.departedExamples();
                        if (shares.leftovers().isEmpty()) break;
                        message(Level.INFO, "takes over its part (" + (ring.rank() + 1) + " of " + ring.size() + ") of what trainers "
                                + leftIndices(shares.leftovers()) + " left untrained");
                        more = more.continueWith(Takeover.supply(train, job.config().trainer(), job.config().trainers(), shares.leftovers(),
                                ring.size(), ring.rank()));
                        JobResult taken = more.run();
                        SyncStats ps = more.trainer(0).syncStats();
                        roundMs = rounds + ps.rounds() == 0 ? 0 : (roundMs * rounds + ps.meanRoundMillis() * ps.rounds()) / (rounds + ps.rounds());
                        rounds += ps.rounds();
                        bytes += ps.bytesSent();
                        mine = JobSummary.plus(mine, taken);
                    }
                }
            } catch (TrainingException e) {
                cluster.abort();
                if (e.getCause() instanceof JobFinishedException f) throw f;
                throw e;
            } finally {
                listener.trained();
                if (ck != null) ck.finish(); // the control collective is this thread's again
            }
            Collective control = cluster.control();
            JobResult all = JobSummary.gather(control, mine, rounds, roundMs, bytes, ratio);
            boolean leader = control.rank() == 0;
            if (leader && control instanceof ElasticRing ring) ring.finish(); // trainers still waiting to join are sent away
            // every trainer has ended (gathered above): the server holds all their last pushes
            if (part.modelOnServer() && leader) part.pullServerModel();
            if (!leader) {
                control.barrier(); // the leader has evaluated and saved: the servers may go
                if (ck != null && ck.checkpointer.jobStopped()) {
                    String m = "stopped after " + mine.examples() + " examples: trainer 0 could not write checkpoints";
                    message(Level.INFO, m);
                    return new Outcome(Status.CHECKPOINTS_GAVE_UP, false, mine.examples(), null, null, m);
                }
                String m = "done, " + mine.examples() + " examples";
                message(Level.INFO, m);
                return new Outcome(Status.DONE, false, mine.examples(), null, null, m);
            }
            Map<String, Object> summary = JobSummary.of(job, all, network);
            // the job's processes: a server node that runs in a trainer's JVM (launch --colocate) is not one of its own
            summary.put("processes", job.config().trainers() + (int) Math.max(0, job.config().psShards() - serversInTrainers));
            if (options.psReplicas() > 1) summary.put("ps_failovers", cluster.tables().failovers()); // this trainer's switches to a backup
            if (control instanceof ElasticRing ring) {
                long asked = examplesAsked(train);
                long trained = all.examples() + departedExamples;
                summary.put("examples_asked", asked);
                summary.put("examples_trained", trained);
                if (trained < asked) {
                    message(Level.WARNING, String.format(Locale.ROOT, "trained %,d of the %,d examples asked (%,d short): "
                            + "trainers that left took part of their shares with them", trained, asked, asked - trained));
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("leader", rank);
                m.put("members", ring.members());
                m.put("epoch", ring.epoch());
                m.put("changes", ring.changes());
                summary.put("membership", m);
            }
            if (ck != null) summary.put("checkpoint", ck.summary(resumedFrom));
            // one paged export of every shard's rows, then evaluation and saving read the copy locally
            EmbeddingStore tables = cluster.tables().snapshot();
            if (ck != null && ck.checkpointer.gaveUp()) {
                // the job was cut short, every process: what it trained is kept, and the run fails
                keepPartial(model, tables, all.examples());
                listener.summary(summary, Status.CHECKPOINTS_GAVE_UP); // before the barrier: the others end once past it
                control.barrier();
                if (!keepServers) PsAdmin.shutdown(transport, members.servers());
                return new Outcome(Status.CHECKPOINTS_GAVE_UP, true, mine.examples(), summary, trained(model, tables, summary),
                        "stopped after " + options.checkpoints().maxFailures() + " checkpoints in a row could not be written");
            }
            if (job.eval() != null) summary.put("eval", Evaluator.evaluate(model, tables, job.eval(), evalBatch).toMap());
            if (save != null) {
                ModelFile.write(save, job.model().toProperties(), notes.provenance(summary, false), model.dense().data(), tables);
                summary.put("saved", save.toString());
            }
            control.barrier();
            if (!keepServers) PsAdmin.shutdown(transport, members.servers());
            listener.summary(summary, Status.DONE);
            return new Outcome(Status.DONE, true, mine.examples(), summary, trained(model, tables, summary), "done, " + all.examples() + " examples");
        }
    }

    private TrainedModel trained(Model model, EmbeddingStore tables, Map<String, Object> summary) {
        Map<String, String> p = new LinkedHashMap<>(notes.provenance(summary, false));
        return new TrainedModel(model, tables, Provenance.fromMap(p));
    }

    /** After a stop: trainer 0 stops the servers (unless kept), so that the whole job can be started again. */
    private Outcome stopped(Membership members, long examples) {
        if (rank == 0) stopServers(members);
        Checkpoints ck = checkpoints;
        String p = ck == null ? null : ck.checkpointer.last();
        String m = "stopped for a final checkpoint" + (p == null ? "" : " (" + p + ")") + " after " + examples + " examples here";
        return new Outcome(Status.STOPPED, rank == 0, examples, null, null, m);
    }

    private void stopServers(Membership members) {
        if (keepServers) return;
        try {
            PsAdmin.shutdown(transport, members.servers());
        } catch (RuntimeException e) {
            message(Level.WARNING, "could not stop the parameter servers: " + e.getMessage());
        }
    }

    /** After checkpoints stopped the job: what was trained, with the servers' rows, in the partial model file. */
    private void keepPartial(Model model, EmbeddingStore tables, long examples) {
        if (savePartial == null || examples == 0) return;
        try {
            Map<String, Object> note = new LinkedHashMap<>();
            note.put("partial", true);
            note.put("examples", examples);
            ModelFile.write(savePartial, job.model().toProperties(), notes.provenance(note, true), model.dense().data(), tables);
            message(Level.INFO, "kept the model trained so far (" + examples + " examples) in " + savePartial);
        } catch (Exception e) {
            message(Level.ERROR, "could not write " + savePartial + ": " + describe(e));
        }
    }

    /**
     * The job's example budget, or its epochs of the whole training data: in memory, its size; streamed, as this
     * trainer's passes counted it (or, when none was read to its end here, counted now).
     */
    private long examplesAsked(DataSource train) throws IOException {
        long budget = job.config().trainer().examples();
        if (budget > 0) return budget;
        long perEpoch;
        if (job.data() instanceof InMemorySource mem) {
            perEpoch = mem.size();
        } else if (train instanceof PassCounter c && c.perPass() >= 0) {
            perEpoch = c.perPass();
        } else {
            perEpoch = 0;
            Batch b = new Batch(1, job.data().schema());
            DataSource whole = job.data() instanceof io.shadowsync.data.CachedSource c ? c.source() : job.data();
            try (ExampleReader r = whole.open()) { // a pass that does not fill a cache of the whole
                while (r.readInto(b)) { // one example each
                    perEpoch++;
                    b.clear();
                }
            }
        }
        return perEpoch * job.config().trainer().epochs();
    }

    private static List<Integer> leftIndices(List<Takeover.Part> parts) {
        List<Integer> out = new ArrayList<>();
        for (Takeover.Part p : parts) if (!out.contains(p.trainer())) out.add(p.trainer());
        return out;
    }

    private void message(Level level, String text) {
        listener.message(level, text);
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** The model file's entries without a caller's: version, time, algorithm, the job's settings, the summary's numbers. */
    private Map<String, String> defaultNotes(Map<String, Object> summary, boolean partial) {
        Map<String, Double> metrics = Provenance.metricsOf(summary);
        Map<String, String> other = new LinkedHashMap<>();
        other.put("jvm", Runtime.version().toString());
        if (partial) other.put("partial", "true");
        return new Provenance(Provenance.currentVersion(), Instant.now(), job.config().sync().algorithm(), job.config().trainers(),
                job.config().trainer().workers(), partial ? null : job.data().describe(), null, job.settings(), metrics, other).toMap();
    }

    /**
     * This process's part in the job's checkpoints ({@link MultiProcessCheckpointer}): resume before training, the
     * polling thread during it, and stops: a stop asked here (a signal with {@link Builder#stopOnSignal}, or
     * {@link #requestStop}) asks every trainer for a final checkpoint; a stop asked by another trainer ends this
     * process once the checkpoint is written (the JVM with {@link Builder#exitOnStop}, else {@link #run}).
     */
    private final class Checkpoints {
        final MultiProcessCheckpointer checkpointer;
        private final PsCheckpointClient client;
        private final Membership members;
        private final Thread hook = new Thread(this::onSignal, "checkpoint-on-exit");
        private volatile boolean signalled;
        private boolean hooked;

        Checkpoints(Job part, NetCluster cluster, Membership members) throws IOException {
            CheckpointOptions o = options.checkpoints();
            String fingerprint = dataFingerprint != null ? dataFingerprint.get() : job.data().fingerprint();
            if (fingerprint == null) throw new IllegalStateException("trainer " + rank + ": the data fingerprint given to its builder was not known when its checkpoints began");
            Map<String, String> settings = new LinkedHashMap<>(JobTerms.checkpointSettings(job, options.inMemory(), fingerprint));
            settings.put("layout", "multi-process"); // an embedded train --resume refuses these, and the other way round
            this.client = rank == 0 ? new PsCheckpointClient(transport, members.servers(), SERVER_CHECKPOINT_DEADLINE) : null;
            this.members = members;
            this.checkpointer = new MultiProcessCheckpointer(part, cluster.control(), new CheckpointDir(o.store(), o.keep()), client, settings,
                    o.everySeconds(), o.everyExamples(), PAUSE_TIMEOUT, o.maxFailures());
        }

        String resume() throws Exception {
            String p = checkpointer.resume();
            if (p != null && rank == 0) message(Level.INFO, "resuming from " + p);
            return p;
        }

        void start() {
            checkpointer.start();
            if (stopOnSignal) {
                Runtime.getRuntime().addShutdownHook(hook);
                hooked = true;
            }
            Thread watch = new Thread(this::watchForStop, "checkpoint-stop-watch");
            watch.setDaemon(true);
            watch.start();
            if (stopAsked) checkpointer.requestStop();
        }

        void finish() throws InterruptedException {
            checkpointer.finish();
            if (!hooked) return;
            hooked = false;
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // a signal came as the job ended: the hook runs, the JVM exits after it
            }
        }

        /** A stop: once the final checkpoint is written, this process ends too. */
        private void watchForStop() {
            try {
                checkpointer.awaitStop(Duration.ofDays(365));
            } catch (InterruptedException e) {
                return;
            }
            if (!checkpointer.stopped() || signalled) return;
            if (exitOnStop != 0 && !stopAsked) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook); // this process was not signalled: the hook has nothing to do
                } catch (IllegalStateException shuttingDown) {
                    return; // a signal came meanwhile: the hook reports and the JVM exits after it
                } catch (IllegalArgumentException notHooked) {
                    // no hook was installed
                }
                message(Level.INFO, "stopped: another trainer was asked to stop; the final checkpoint is written; continue with --resume");
                stopServers(members);
                System.exit(exitOnStop);
            }
            message(Level.INFO, stopAsked ? "stopped; the final checkpoint is written" : "stopped: another trainer was asked to stop; the final checkpoint is written");
            checkpointer.endAfterStop(); // run() returns STOPPED
        }

        /** The shutdown hook (SIGTERM, SIGINT): every trainer comes to rest, a checkpoint is written, the JVM exits. */
        private void onSignal() {
            signalled = true;
            checkpointer.requestStop();
            try {
                String p = checkpointer.awaitStop(PAUSE_TIMEOUT.plus(SERVER_CHECKPOINT_DEADLINE));
                if (checkpointer.stopped()) {
                    if (rank == 0) message(Level.INFO, "stopped by a signal; wrote checkpoint " + p + " (" + String.format(Locale.ROOT, "%,d",
                            checkpointer.lastExamples()) + " examples trained); continue with --resume");
                    if (rank == 0) stopServers(members);
                }
            } catch (InterruptedException e) {
                message(Level.INFO, "stopped by a signal before the final checkpoint was written");
            }
        }

        Map<String, Object> summary(String resumedFrom) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("written", checkpointer.written());
            m.put("last", checkpointer.last());
            m.put("resumed_from", resumedFrom);
            m.put("failed", checkpointer.failed());
            if (checkpointer.lastError() != null) m.put("last_error", checkpointer.lastError());
            if (checkpointer.gaveUp()) m.put("stopped_job", true);
            return m;
        }

        void close() {
            if (client != null) client.close();
        }
    }

    /** A trainer process's settings; {@link #build} checks them. */
    public static final class Builder {
        private final TrainingJob job;
        private final int rank;
        private JobOptions options = JobOptions.defaults();
        private NetSettings net = NetSettings.loopback();
        private int evalBatch = 1024;
        private Path save;
        private Path savePartial;
        private ModelNotes notes;
        private boolean keepServers;
        private Listener listener = new Listener() {};
        private boolean stopOnSignal;
        private int exitOnStop;
        private String network;
        private java.util.function.Supplier<String> dataFingerprint;

        private Builder(TrainingJob job, int rank) {
            this.job = Objects.requireNonNull(job, "the training job");
            this.rank = rank;
        }

        /** What every process of the job is given alike (default: {@link JobOptions#defaults()}). */
        public Builder options(JobOptions o) {
            this.options = Objects.requireNonNull(o, "job options");
            return this;
        }

        /** Where this process listens and how it is reached (default: {@link NetSettings#loopback()}). */
        public Builder net(NetSettings n) {
            this.net = Objects.requireNonNull(n, "net settings");
            return this;
        }

        /** Batch size of the evaluation on the job's evaluation data (default: 1024). */
        public Builder evalBatch(int b) {
            this.evalBatch = b;
            return this;
        }

        /** The leader writes the trained model to this file, atomically (default: none; the outcome has the model). */
        public Builder save(Path file) {
            this.save = file;
            return this;
        }

        /** Where the leader keeps what was trained when checkpoints stop the job (default: nowhere). */
        public Builder savePartial(Path file) {
            this.savePartial = file;
            return this;
        }

        /** The entries of the model files written (default: the job's provenance: version, settings, metrics). */
        public Builder notes(ModelNotes n) {
            this.notes = n;
            return this;
        }

        /** The leader leaves the parameter servers running at the end (default: it stops them). */
        public Builder keepServers(boolean k) {
            this.keepServers = k;
            return this;
        }

        /** Receives what the process reports (default: {@link System.Logger} of {@link TrainerProcess}). */
        public Builder listener(Listener l) {
            this.listener = Objects.requireNonNull(l, "a listener");
            return this;
        }

        /** Process-global: a JVM shutdown hook asks every trainer for a final checkpoint on SIGTERM/SIGINT (default: off). */
        public Builder stopOnSignal(boolean on) {
            this.stopOnSignal = on;
            return this;
        }

        /**
         * Process-global: once a stop asked by another trainer has its final checkpoint, the JVM exits with this status
         * ({@link System#exit}); 0: off, {@link #run} returns {@link Status#STOPPED} instead (default).
         */
        public Builder exitOnStop(int status) {
            this.exitOnStop = status;
            return this;
        }

        /** The summary's description of an emulated network ("1gbit / 0.5ms") (default: from the job's link model). */
        public Builder network(String description) {
            this.network = description;
            return this;
        }

        /** What tells the training data from other data of its layout, recorded in checkpoints (default: the data's fingerprint). */
        public Builder dataFingerprint(String fingerprint) {
            Objects.requireNonNull(fingerprint, "a fingerprint");
            return dataFingerprint(() -> fingerprint);
        }

        /**
         * As {@link #dataFingerprint(String)}, asked once the trainers have met ({@link #run}, after the placement), before
         * the checkpoints begin: for a trainer that learns the other trainers' data only from the placement (a Spark
         * barrier task records every task's share).
         */
        public Builder dataFingerprint(java.util.function.Supplier<String> fingerprint) {
            this.dataFingerprint = Objects.requireNonNull(fingerprint, "a fingerprint");
            return this;
        }

        /** Checks the settings; throws {@link IllegalArgumentException} naming what is wrong. */
        public TrainerProcess build() {
            int n = job.config().trainers();
            if (rank < 0 || rank >= n) throw new IllegalArgumentException("--rank " + rank + " is not in 0.." + (n - 1) + " (--trainers " + n + ")");
            if (evalBatch < 1) throw new IllegalArgumentException("--eval-batch must be at least 1, got " + evalBatch);
            if (options.psReplicas() > job.config().psShards()) {
                throw new IllegalArgumentException("--ps-replicas " + options.psReplicas() + " is more than --ps-shards " + job.config().psShards());
            }
            if (options.elastic() && job.config().sync().descriptor().workerGroup()) {
                throw new IllegalArgumentException("elastic trainers do not work with " + job.config().sync().algorithm()
                        + ": a synchronous step needs every worker");
            }
            if (exitOnStop < 0 || exitOnStop > 255) throw new IllegalArgumentException("an exit status is 0..255, got " + exitOnStop);
            return new TrainerProcess(this);
        }
    }
}
