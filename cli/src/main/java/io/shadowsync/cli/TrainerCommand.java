package io.shadowsync.cli;

import io.grpc.Server;
import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.comm.Collective;
import io.shadowsync.ckpt.MultiProcessCheckpointer;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.SyncStats;
import io.shadowsync.engine.Takeover;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.kernels.Blas;
import io.shadowsync.kernels.Vec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetCluster;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.proto.StatusReply;
import io.shadowsync.net.ps.PsAdmin;
import io.shadowsync.net.ps.PsCheckpointClient;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.ElasticRing;
import io.shadowsync.net.rdv.Groups;
import io.shadowsync.net.rdv.JobFinishedException;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.nn.Model;
import io.shadowsync.sync.SyncSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync trainer --rank i [JOB.yaml] [train flags] (--coordinator HOST:PORT | --peers ... --servers ...)}:
 * one trainer of a multi-process job — its workers and sync thread in this JVM, the embedding tables on the
 * parameter-server processes, the collectives over gRPC to the other trainers. Trainer 0 evaluates, saves, prints
 * the job's summary and stops the servers at the end.
 */
@Command(name = "trainer", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Run one trainer of a multi-process job (see 'shadowsync launch' to start a whole job on this host).",
                "Takes every flag train takes; every process of the job must be given the same ones."})
public final class TrainerCommand extends JobCommand implements Callable<Integer> {
    @Option(names = "--rank", paramLabel = "I", description = "This trainer's rank, 0 .. trainers-1 (default: from the environment, "
            + "SHADOWSYNC_RANK, RANK or JOB_COMPLETION_INDEX; see docs/multi-process.md).")
    Integer rankFlag;

    /** This trainer's rank: --rank, or from the environment. */
    int rank;

    @Option(names = "--join", description = "With --elastic: join the running job as trainer --rank (one that died, or was never started): "
            + "it takes the job's current model and trains its own split.")
    boolean join;

    @Option(names = "--keep-servers", description = "Trainer 0: leave the parameter servers running at the end (default: stop them).")
    boolean keepServers;

    @Mixin
    NetOptions net = new NetOptions();

    /** This run's checkpoints, or null without --checkpoint-dir. */
    private Checkpoints checkpoints;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        rank = FromEnvironment.apply(this, net, Role.TRAINER, "--rank", rankFlag, join).index(); // what the command line leaves out
        if (rank < 0 || rank >= trainers) throw new UsageException("--rank " + rank + " is not in 0.." + (trainers - 1) + " (--trainers " + trainers + ")");
        if (rank == 0) checkFiles(); // trainer 0 writes --save and --summary-json: refuse a bad one before training
        Plan plan = plan(err, true);
        checkElastic(plan);
        // trainer 0 writes the manifests and prunes: it holds --checkpoint-dir for the job's life (the servers and the
        // other trainers write their files into checkpoints it creates); a directory in use is refused before rendezvous
        CheckpointDir.Lock lock = rank == 0 ? lockCheckpoints() : null;
        String digest = digest(plan, "elastic=" + net.elastic);
        Transport transport = new Transport(net.config(err));
        RingEndpoint endpoint = new RingEndpoint();
        List<Server> servers = new ArrayList<>();
        try {
            Membership fixed = net.coordinator == null ? staticMembership() : null;
            // with a static list, this trainer listens on the port its entry names
            int port = fixed != null && net.listenAddress().port() == 0 ? fixed.trainers().get(rank).port() : net.listenAddress().port();
            Server server = transport.serve(port, List.of(endpoint));
            servers.add(server);
            HostPort self = net.advertised(server.getPort());
            Membership members = fixed != null ? fixed : join ? running(transport) : rendezvous(transport, self, digest, servers);
            Model probe = plan.modelSpec().build();
            Consumer<String> log = line -> {
                err.println("shadowsync trainer " + rank + ": " + line);
                err.flush();
            };
            NetCluster.Elastic elastic = net.elastic ? new NetCluster.Elastic(HostPort.parse(net.coordinator), self, digest, net.stragglerTimeout(),
                    net.rendezvousTimeout(), join, log) : null;
            if (join) log.accept("waiting to be admitted to the running job at " + net.coordinator);
            try (NetCluster cluster = new NetCluster(transport, endpoint, members, rank, plan.job(), probe.embeddingShapes(),
                    probe.dense().size(), net.rendezvousTimeout(), elastic)) {
                // elastic, streamed data read whole by every trainer (not split: IDX): the trainers' own passes count the
                // examples of an epoch (for examples_asked); split data is counted at the end
                io.shadowsync.data.DataSource train = net.elastic && !(plan.train() instanceof io.shadowsync.data.InMemorySource)
                        && !(plan.train() instanceof io.shadowsync.data.SplittableSource) ? new PassCounter(plan.train()) : plan.train();
                Job job = new Job(plan.modelSpec(), seed, plan.opt(), plan.embOpt(), train, plan.job(), cluster, new int[]{rank});
                Model model = job.model();
                if (cluster.control() instanceof ElasticRing ring) {
                    // the trainer before this one for the same index left its share at its mark: go on from there
                    if (ring.resume() != null) {
                        job.startFrom(ring.resume());
                        if (ring.resume().examples() > 0) {
                            log.accept(String.format(java.util.Locale.ROOT, "goes on with trainer %d's share after the %,d examples trained before it",
                                    rank, ring.resume().examples()));
                        }
                    }
                    ring.reportProgress(job::progressMark);
                }
                Checkpoints ck = checkpointDir == null ? null : new Checkpoints(job, cluster, transport, members, plan, err);
                checkpoints = ck;
                Path resumedFrom = ck != null && resume ? ck.resume() : null;
                if (rank == 0) {
                    err.println(banner(plan, model));
                    err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription()
                            + "; trainers at " + members.trainers() + ", parameter servers at " + members.servers());
                    err.flush();
                }
                ProgressReporter progress = new ProgressReporter(job::progress, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
                progress.start();
                if (ck != null) ck.start();
                JobResult mine;
                SyncStats s = job.trainer(0).syncStats();
                long rounds, bytes;
                double roundMs;
                long departedExamples = 0;
                try {
                    mine = job.run();
                    rounds = s.rounds();
                    roundMs = s.meanRoundMillis();
                    bytes = s.bytesSent();
                    if (cluster.control() instanceof ElasticRing ring) {
                        // trainers that left for good: the members share the rest of their shares (Takeover's rule)
                        Job part = job;
                        while (true) {
                            ElasticRing.Shares shares = ring.finishShares();
                            departedExamples = shares.departedExamples();
                            if (shares.leftovers().isEmpty()) break;
                            log.accept("takes over its part (" + (ring.rank() + 1) + " of " + ring.size() + ") of what trainers "
                                    + leftIndices(shares.leftovers()) + " left untrained");
                            part = part.continueWith(Takeover.supply(train, plan.job().trainer(), trainers, shares.leftovers(),
                                    ring.size(), ring.rank()));
                            JobResult more = part.run();
                            SyncStats ps = part.trainer(0).syncStats();
                            roundMs = rounds + ps.rounds() == 0 ? 0 : (roundMs * rounds + ps.meanRoundMillis() * ps.rounds()) / (rounds + ps.rounds());
                            rounds += ps.rounds();
                            bytes += ps.bytesSent();
                            mine = plus(mine, more);
                        }
                    }
                } catch (TrainingException e) {
                    cluster.abort();
                    // dropped (a straggler) and refused as the job finished: the members took over its share
                    if (e.getCause() instanceof JobFinishedException f) throw f;
                    throw e;
                } finally {
                    progress.stop();
                    if (ck != null) ck.finish(); // the control collective is this thread's again
                }
                Collective control = cluster.control();
                JobResult all = JobStats.gather(control, mine, rounds, roundMs, bytes);
                // the leader: trainer 0, or with elastic trainers the first member still in the job
                boolean leader = control.rank() == 0;
                if (leader && control instanceof ElasticRing ring) ring.finish(); // trainers still waiting to join are sent away
                // every trainer has ended (gathered above): the server holds all their last pushes
                if (job.modelOnServer() && leader) job.pullServerModel();
                if (!leader) {
                    control.barrier(); // the leader has evaluated and saved: the servers may go
                    if (ck != null && ck.checkpointer.jobStopped()) {
                        err.println("shadowsync trainer " + rank + ": stopped after " + mine.examples() + " examples: trainer 0 could not write checkpoints");
                        return Main.EXIT_FAILURE;
                    }
                    err.println("shadowsync trainer " + rank + ": done, " + mine.examples() + " examples");
                    return 0;
                }
                Map<String, Object> summary = summary(plan, all);
                summary.put("processes", trainers + psShards);
                if (psReplicas > 1) summary.put("ps_failovers", cluster.tables().failovers()); // this trainer's switches to a backup
                if (control instanceof ElasticRing ring) {
                    long asked = examplesAsked(plan, train);
                    long trained = all.examples() + departedExamples;
                    summary.put("examples_asked", asked);
                    summary.put("examples_trained", trained);
                    if (trained < asked) {
                        err.println(String.format(java.util.Locale.ROOT, "shadowsync: warning: trained %,d of the %,d examples asked (%,d short): "
                                + "trainers that left took part of their shares with them", trained, asked, asked - trained));
                        err.flush();
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("leader", rank);
                    m.put("members", ring.members());
                    m.put("epoch", ring.epoch());
                    m.put("changes", ring.changes());
                    summary.put("membership", m);
                }
                if (ck != null) summary.put("checkpoint", ck.summary(resumedFrom));
                if (ck != null && ck.checkpointer.gaveUp()) {
                    // the job was cut short, every process: what it trained is kept, as in train, and the run fails
                    savePartial(plan, model, cluster, all.examples(), err);
                    Json.emit(out, summaryJson, summary); // before the barrier: the others exit once past it
                    err.println("shadowsync trainer 0: stopped after " + checkpointMaxFailures + " checkpoints in a row could not be written into "
                            + checkpointDir + " (" + ck.checkpointer.lastError() + "); fix the directory and continue with --resume, "
                            + "or raise --checkpoint-max-failures (0: never stop)");
                    err.flush();
                    control.barrier();
                    if (!keepServers) PsAdmin.shutdown(transport, members.servers());
                    return Main.EXIT_FAILURE;
                }
                // one paged export of every shard's rows, then evaluation and saving read the copy locally
                io.shadowsync.nn.EmbeddingStore tables = plan.eval() != null || save != null ? cluster.tables().snapshot() : null;
                if (plan.eval() != null) summary.put("eval", Evaluator.evaluate(model, tables, plan.eval(), evalBatch).toMap());
                if (save != null) {
                    ModelFile.write(save, plan.modelSpec().toProperties(), Provenance.of(spec, jobFile, plan.train(), summary),
                            model.dense().data(), tables);
                    summary.put("saved", save.toString());
                }
                control.barrier();
                if (!keepServers) PsAdmin.shutdown(transport, members.servers());
                Json.emit(out, summaryJson, summary);
                return 0;
            }
        } catch (JobFinishedException e) {
            err.println("shadowsync trainer " + rank + ": " + e.getMessage());
            return 0;
        } finally {
            if (checkpoints != null) checkpoints.close();
            for (Server s : servers) s.shutdownNow();
            if (lock != null) lock.close();
        }
    }

    /** After checkpoints stopped the job: what trainer 0 trained, with the servers' rows, in MODEL.partial beside --save. */
    private void savePartial(Plan plan, Model model, NetCluster cluster, long examples, PrintWriter err) {
        Path partial = partialOf(save);
        if (partial == null || examples == 0) return;
        try {
            Map<String, Object> note = new LinkedHashMap<>();
            note.put("partial", true);
            note.put("examples", examples);
            ModelFile.write(partial, plan.modelSpec().toProperties(), Provenance.of(spec, jobFile, null, note), model.dense().data(),
                    cluster.tables().snapshot());
            err.println("shadowsync trainer 0: kept the model trained so far (" + examples + " examples) in " + partial);
        } catch (Exception e) {
            err.println("shadowsync trainer 0: could not write " + partial + ": " + Main.describe(e));
        }
    }

    /**
     * The job's example budget, or its epochs of the whole training data: in memory, its size; streamed, as this
     * trainer's passes counted it (or, when none was read to its end here, counted now).
     */
    private long examplesAsked(Plan plan, io.shadowsync.data.DataSource train) throws java.io.IOException {
        if (examples > 0) return examples;
        long perEpoch;
        if (plan.train() instanceof io.shadowsync.data.InMemorySource mem) {
            perEpoch = mem.size();
        } else if (train instanceof PassCounter c && c.perPass() >= 0) {
            perEpoch = c.perPass();
        } else {
            perEpoch = 0;
            io.shadowsync.data.Batch b = new io.shadowsync.data.Batch(1, plan.train().schema());
            io.shadowsync.data.DataSource whole = plan.train() instanceof io.shadowsync.data.CachedSource c ? c.source() : plan.train();
            try (io.shadowsync.data.ExampleReader r = whole.open()) { // a pass that does not fill a cache of the whole
                while (r.readInto(b)) { // one example each
                    perEpoch++;
                    b.clear();
                }
            }
        }
        return perEpoch * epochs;
    }

    /** This process's result over the phases of an elastic job: its own share, then its takes of departed ones. */
    static JobResult plus(JobResult a, JobResult b) {
        TrainResult x = a.trainers()[0], y = b.trainers()[0];
        long ex = x.examples() + y.examples();
        double seconds = x.seconds() + y.seconds();
        long[] per = x.workerExamples().clone();
        for (int w = 0; w < per.length && w < y.workerExamples().length; w++) per[w] += y.workerExamples()[w];
        double loss = ex == 0 ? Double.NaN : (weighted(x.trainLoss(), x.examples()) + weighted(y.trainLoss(), y.examples())) / ex;
        double readerWait = seconds == 0 ? 0 : (x.readerWaitFraction() * x.seconds() + y.readerWaitFraction() * y.seconds()) / seconds;
        double syncWait = seconds == 0 ? 0 : (x.syncWaitFraction() * x.seconds() + y.syncWaitFraction() * y.seconds()) / seconds;
        // skipped lines: the first phase's; a take re-reads part of a share that its trainer had read already
        TrainResult r = new TrainResult(ex, seconds, per, x.skippedLines(), x.nonFiniteBatches() + y.nonFiniteBatches(), loss,
                readerWait, syncWait, y.window().examples() > 0 ? y.window() : x.window());
        return new JobResult(ex, seconds, new TrainResult[] {r}, a.syncRounds(), a.meanRoundMillis(), a.syncBytes(), syncWait);
    }

    private static double weighted(double loss, long examples) {
        return examples == 0 ? 0 : loss * examples;
    }

    private static List<Integer> leftIndices(List<Takeover.Part> parts) {
        List<Integer> out = new ArrayList<>();
        for (Takeover.Part p : parts) if (!out.contains(p.trainer())) out.add(p.trainer());
        return out;
    }

    /** --elastic and --join: what they need, refused with the reason otherwise. */
    private void checkElastic(Plan plan) {
        if (join && !net.elastic) throw new UsageException("--join needs --elastic: only a job with elastic trainers takes trainers while it runs");
        if (!net.elastic) return;
        refuseElasticCheckpoints(checkpointDir);
        if (net.coordinator == null) {
            throw new UsageException("--elastic needs --coordinator HOST:PORT: the coordinator re-forms the group when trainers come and go, "
                    + "which static --peers lists cannot");
        }
        if (plan.sync().mode() == SyncSpec.Mode.SYNC_SGD) {
            throw new UsageException("--elastic does not work with sync-sgd: a synchronous step needs every worker; use a shadow algorithm (s-ma, s-bmuf, s-easgd) or async-ps");
        }
        if (join && !joinable(plan)) {
            throw new UsageException("--join needs a collective sync algorithm (s-ma, s-bmuf, or their foreground forms): newcomers are admitted "
                    + "at their rounds; with " + plan.algorithm() + " the other trainers finish without a dead one");
        }
        if (join && net.startCoordinator) {
            throw new UsageException("--join: the job's coordinator is already running; give its address with --coordinator, without --start-coordinator");
        }
    }

    /**
     * Elastic trainers and multi-process checkpoints do not go together yet: the checkpoints' pause protocol polls the
     * trainers' control group, which with --elastic is the trainer group that the sync thread uses at the same time.
     */
    static void refuseElasticCheckpoints(java.nio.file.Path checkpointDir) {
        if (checkpointDir != null) {
            throw new UsageException("--elastic and --checkpoint-dir do not go together yet: a job survives a trainer's death with --elastic, or a "
                    + "whole-job crash with checkpoints; pick one");
        }
    }

    /** Whether trainers can join a running job of this algorithm: its rounds admit them. */
    static boolean joinable(Plan plan) {
        return plan.sync().descriptor().joinable();
    }

    /** A joiner learns the running job's processes from its coordinator. */
    private Membership running(Transport transport) {
        HostPort coord;
        try {
            coord = HostPort.parse(net.coordinator);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--coordinator: " + e.getMessage());
        }
        StatusReply s = ElasticRing.status(transport, coord, transport.config().callDeadline());
        if (s.getFinished()) throw new JobFinishedException("the job at " + coord + " has finished: trainer " + rank + " has nothing to join");
        if (s.getTrainersCount() == 0) throw new UsageException("the job at " + coord + " has not started yet (its rendezvous has not completed): start this trainer without --join");
        if (s.getTrainersCount() != trainers) {
            throw new UsageException("the job at " + coord + " has " + s.getTrainersCount() + " trainers, this one was given --trainers " + trainers);
        }
        List<HostPort> t = new ArrayList<>(), p = new ArrayList<>();
        for (String a : s.getTrainersList()) t.add(HostPort.parse(a));
        for (String a : s.getServersList()) p.add(HostPort.parse(a));
        return Membership.fromStatic(t, p);
    }

    /** How long a checkpoint waits for the job's threads, in every process, to reach the end of their step or round. */
    private static final Duration PAUSE_TIMEOUT = Duration.ofMinutes(2);
    /** How long one parameter server may take to write or load its part of a checkpoint. */
    private static final Duration SERVER_CHECKPOINT_DEADLINE = Duration.ofMinutes(10);
    /** The exit code of a trainer that stopped after a final checkpoint: as if ended by SIGTERM (128 + 15). */
    static final int EXIT_STOPPED = 143;

    /**
     * This process's part in the job's checkpoints ({@link MultiProcessCheckpointer}): resume before training, the
     * polling thread during it, and the signal handling: SIGTERM or SIGINT here asks every trainer for a final
     * checkpoint; a stop asked by another trainer ends this process once the checkpoint is written.
     */
    private final class Checkpoints {
        final MultiProcessCheckpointer checkpointer;
        private final PsCheckpointClient client;
        private final Transport transport;
        private final Membership members;
        private final PrintWriter err;
        private final Thread hook = new Thread(this::onSignal, "checkpoint-on-exit");
        private volatile boolean signalled;

        Checkpoints(Job job, NetCluster cluster, Transport transport, Membership members, Plan plan, PrintWriter err) {
            Map<String, String> settings = new LinkedHashMap<>(checkpointSettings(plan));
            settings.put("layout", "multi-process"); // an embedded train --resume refuses these, and the other way round
            this.client = rank == 0 ? new PsCheckpointClient(transport, members.servers(), SERVER_CHECKPOINT_DEADLINE) : null;
            this.transport = transport;
            this.members = members;
            this.err = err;
            this.checkpointer = new MultiProcessCheckpointer(job, cluster.control(), new CheckpointDir(checkpointDir, keep), client, settings,
                    checkpointEverySec, checkpointEveryExamples, PAUSE_TIMEOUT, checkpointMaxFailures, this::log);
        }

        private void log(String line) {
            synchronized (err) {
                err.println("shadowsync trainer " + rank + ": " + line);
                err.flush();
            }
        }

        Path resume() throws Exception {
            Path p;
            try {
                p = checkpointer.resume(w -> log("warning: " + w));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            if (p != null && rank == 0) log("resuming from " + p);
            return p;
        }

        void start() {
            checkpointer.start();
            Runtime.getRuntime().addShutdownHook(hook);
            Thread watch = new Thread(this::watchForStop, "checkpoint-stop-watch");
            watch.setDaemon(true);
            watch.start();
        }

        void finish() throws InterruptedException {
            checkpointer.finish();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // a signal came as the job ended: the hook runs, the JVM exits after it
            }
        }

        /** A stop asked by another trainer: once the final checkpoint is written, this process ends too. */
        private void watchForStop() {
            try {
                checkpointer.awaitStop(Duration.ofDays(365));
            } catch (InterruptedException e) {
                return;
            }
            if (!checkpointer.stopped() || signalled) return;
            try {
                Runtime.getRuntime().removeShutdownHook(hook); // this process was not signalled: the hook has nothing to do
            } catch (IllegalStateException shuttingDown) {
                return; // a signal came meanwhile: the hook reports and the JVM exits after it
            }
            log("stopped: another trainer was asked to stop; the final checkpoint is written; continue with --resume");
            stopServers();
            System.exit(EXIT_STOPPED);
        }

        /** The shutdown hook (SIGTERM, SIGINT): every trainer comes to rest, a checkpoint is written, the JVM exits. */
        private void onSignal() {
            signalled = true;
            checkpointer.requestStop();
            try {
                Path p = checkpointer.awaitStop(PAUSE_TIMEOUT.plus(SERVER_CHECKPOINT_DEADLINE));
                if (checkpointer.stopped()) {
                    if (rank == 0) log("stopped by a signal; wrote checkpoint " + p + " (" + String.format(java.util.Locale.ROOT, "%,d",
                            checkpointer.lastExamples()) + " examples trained); continue with --resume");
                    stopServers();
                }
            } catch (InterruptedException e) {
                log("stopped by a signal before the final checkpoint was written");
            }
        }

        /** Trainer 0 after a stop: the servers go too (unless --keep-servers), so that the whole job can be started again. */
        private void stopServers() {
            if (rank != 0 || keepServers) return;
            try {
                PsAdmin.shutdown(transport, members.servers());
            } catch (RuntimeException e) {
                log("could not stop the parameter servers: " + e.getMessage());
            }
        }

        Map<String, Object> summary(Path resumedFrom) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("written", checkpointer.written());
            m.put("last", checkpointer.last() == null ? null : checkpointer.last().toString());
            m.put("resumed_from", resumedFrom == null ? null : resumedFrom.toString());
            m.put("failed", checkpointer.failed());
            if (checkpointer.lastError() != null) m.put("last_error", checkpointer.lastError());
            if (checkpointer.gaveUp()) m.put("stopped_job", true);
            return m;
        }

        void close() {
            if (client != null) client.close();
        }
    }

    /** Learns every process's address from the coordinator (started here on trainer 0 if asked). */
    private Membership rendezvous(Transport transport, HostPort self, String digest, List<Server> servers) throws Exception {
        if (!net.peers.isEmpty() || !net.servers.isEmpty()) throw new UsageException("give either --coordinator or --peers/--servers, not both");
        HostPort coord;
        try {
            coord = HostPort.parse(net.coordinator);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--coordinator: " + e.getMessage());
        }
        if (net.startCoordinator) {
            if (rank != 0) throw new UsageException("--start-coordinator: only trainer 0 runs the coordinator");
            Transport there = new Transport(transport.config().withBindHost(coord.host()));
            Coordinator c = new Coordinator(trainers, psShards, net.rendezvousTimeout());
            Groups groups = new Groups(c, net.regroupWindow(), line -> System.err.println("shadowsync coordinator: " + line));
            servers.add(there.serve(coord.port(), List.of(c, groups)));
        }
        return Rendezvous.join(transport, coord, Role.TRAINER, rank, self, digest, net.rendezvousTimeout());
    }

    /** The torchrun-style static lists: every trainer's and every server's address, in order. */
    private Membership staticMembership() {
        if (net.peers.isEmpty()) throw new UsageException("a trainer needs --coordinator HOST:PORT or --peers HOST:PORT,... and --servers HOST:PORT,...");
        List<HostPort> peers = NetOptions.parseList(net.peers, "--peers");
        List<HostPort> ps = NetOptions.parseList(net.servers, "--servers");
        if (peers.size() != trainers) throw new UsageException("--peers lists " + peers.size() + " addresses but --trainers is " + trainers);
        if (ps.size() != psShards) throw new UsageException("--servers lists " + ps.size() + " addresses but --ps-shards is " + psShards);
        return Membership.fromStatic(peers, ps);
    }
}
