package io.shadowsync.cli;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.engine.Job;
import io.shadowsync.kernels.Blas;
import io.shadowsync.kernels.Vec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.NetSettings;
import io.shadowsync.net.run.Placement;
import io.shadowsync.net.run.TrainerProcess;
import io.shadowsync.sync.SyncSpec;
import java.io.PrintWriter;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync trainer --rank i [JOB.yaml] [train flags] (--coordinator HOST:PORT | --peers ... --servers ...)}:
 * one trainer of a multi-process job — its workers and sync thread in this JVM, the embedding tables on the
 * parameter-server processes, the collectives over gRPC to the other trainers. Trainer 0 evaluates, saves, prints
 * the job's summary and stops the servers at the end. The life of the process is {@link TrainerProcess}'s; this
 * command turns flags into its settings, prints what it reports and maps its outcome to an exit code.
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

    @Option(names = "--host-shard", paramLabel = "I", description = "Also run parameter-server shard I in this trainer's JVM (as 'ps --shard I' would): "
            + "it serves every trainer until the job's leader stops the servers at the end, this trainer's own rows without a socket; "
            + "'launch --colocate' gives it (see docs/multi-process.md).")
    Integer hostShard;

    @Mixin
    NetOptions net = new NetOptions();

    /** --metrics FILE: this trainer's own file, FILE.trainer-R (see {@link JobCommand#trainerMetrics}); null without it. */
    private io.shadowsync.metrics.JsonlMetricsFile openMetrics() {
        if (metrics == null) return null;
        java.nio.file.Path mine = trainerMetrics(metrics, rank);
        try {
            return new io.shadowsync.metrics.JsonlMetricsFile(mine);
        } catch (java.io.IOException | RuntimeException e) {
            throw new UsageException("--metrics " + mine + ": cannot write it: " + Main.describe(e));
        }
    }

    /** The exit code of a trainer that stopped after a final checkpoint: as if ended by SIGTERM (128 + 15). */
    static final int EXIT_STOPPED = 143;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        rank = FromEnvironment.apply(this, net, Role.TRAINER, "--rank", rankFlag, join).index(); // what the command line leaves out
        if (rank < 0 || rank >= trainers) throw new UsageException("--rank " + rank + " is not in 0.." + (trainers - 1) + " (--trainers " + trainers + ")");
        CliLogging.prefix("shadowsync trainer " + rank);
        if (rank == 0) checkFiles(); // trainer 0 writes --save and --summary-json: refuse a bad one before training
        Plan plan = plan(err, true);
        checkElastic(plan);
        checkHostShard();
        TrainingJob job = trainingJob(plan);
        NetSettings settings = net.settings(err);
        Placement placement = placement();
        ProgressReporter[] progress = new ProgressReporter[1];
        io.shadowsync.cli.prom.PrometheusEndpoint endpoint = metricsEndpoint(rank, "trainer"); // PORT + rank
        io.shadowsync.metrics.JsonlMetricsFile metricsFile;
        try {
            metricsFile = openMetrics();
        } catch (RuntimeException e) {
            if (endpoint != null) endpoint.close();
            throw e;
        }
        java.util.List<io.shadowsync.metrics.MetricsSink> sinks = new java.util.ArrayList<>();
        if (metricsFile != null) sinks.add(metricsFile);
        if (endpoint != null) sinks.add(endpoint);
        io.shadowsync.engine.MetricsLog[] metricsLog = new io.shadowsync.engine.MetricsLog[1];
        TrainerProcess process = TrainerProcess.builder(job, rank).options(jobOptions(net)).net(settings).evalBatch(evalBatch)
                .save(save).savePartial(partialOf(save))
                .notes((summary, partial) -> Provenance.of(spec, jobFile, partial ? null : plan.train(), summary))
                .keepServers(keepServers).stopOnSignal(true).exitOnStop(EXIT_STOPPED)
                .network(netBandwidth + " / " + netLatency)
                .dataFingerprint(checkpointDir == null ? "" : trainFingerprint())
                .listener(new TrainerProcess.Listener() {
                    @Override
                    public void message(Level level, String text) {
                        synchronized (err) {
                            err.println("shadowsync trainer " + rank + ": " + (level == Level.WARNING ? "warning: " : "") + text);
                            err.flush();
                        }
                    }

                    @Override
                    public void training(Job part, Membership members) {
                        if (rank == 0) {
                            synchronized (err) {
                                err.println(banner(plan, part.model()));
                                for (String note : part.notes()) err.println("shadowsync: note: " + note);
                                err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription()
                                        + "; trainers at " + members.trainers() + ", parameter servers at " + members.servers());
                                err.flush();
                            }
                        }
                        progress[0] = new ProgressReporter(part::progress, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
                        progress[0].start();
                        if (!sinks.isEmpty()) {
                            metricsLog[0] = new io.shadowsync.engine.MetricsLog(part, java.time.Duration.ofNanos(Math.round(logEvery * 1e9)),
                                    sinks, null);
                            metricsLog[0].start();
                        }
                    }

                    @Override
                    public void trained() {
                        try {
                            if (metricsLog[0] != null) {
                                metricsLog[0].finish();
                                if (metricsLog[0].error() != null) message(Level.WARNING, "--metrics: stopped writing: " + metricsLog[0].error());
                            }
                            if (progress[0] != null) progress[0].stop();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }

                    @Override
                    public void summary(Map<String, Object> summary, TrainerProcess.Status status) {
                        try {
                            Json.emit(out, summaryJson, summary);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        if (status == TrainerProcess.Status.CHECKPOINTS_GAVE_UP) {
                            Object ck = summary.get("checkpoint");
                            Object why = ck instanceof Map<?, ?> m ? m.get("last_error") : null;
                            synchronized (err) {
                                err.println("shadowsync trainer 0: stopped after " + checkpointMaxFailures + " checkpoints in a row could not be written into "
                                        + checkpointDir + " (" + why + "); fix the directory and continue with --resume, "
                                        + "or raise --checkpoint-max-failures (0: never stop)");
                                err.flush();
                            }
                        }
                    }
                })
                .build();
        TrainerProcess.Outcome outcome;
        HostedShard hosted = null;
        try {
            hosted = hostShard == null ? null : HostedShard.start(job, hostShard, jobOptions(net), settings.withPort(hostedPort()), placement, process, err, rank,
                    metricsEndpoint(trainers + hostShard, "ps", "shard", Integer.toString(hostShard))); // PORT + N + S, as 'ps --shard S'
            outcome = process.run(placement);
            if (hosted != null) hosted.serveToTheEnd(outcome);
        } catch (CheckpointDir.LockedException e) {
            throw new UsageException(e.getMessage());
        } finally {
            if (hosted != null) hosted.close();
            if (endpoint != null) endpoint.close();
            if (metricsFile != null) metricsFile.close();
        }
        return switch (outcome.status()) {
            case DONE, JOB_FINISHED_WITHOUT_IT -> 0;
            case STOPPED -> EXIT_STOPPED;
            case CHECKPOINTS_GAVE_UP -> Main.EXIT_FAILURE;
        };
    }

    /**
     * --host-shard: refused outside the job's shards, and where a shard cannot live and die with a trainer (elastic
     * trainers come and go; a final checkpoint on a signal needs every shard after the trainers have stopped).
     */
    private void checkHostShard() {
        if (hostShard == null) return;
        if (hostShard < 0 || hostShard >= psShards) {
            throw new UsageException("--host-shard " + hostShard + " is not in 0.." + (psShards - 1) + " (--ps-shards " + psShards + ")");
        }
        if (net.elastic) {
            throw new UsageException("--host-shard does not work with --elastic: elastic trainers come and go, and a shard that dies with its trainer takes its rows along");
        }
        if (checkpointDir != null) {
            throw new UsageException("--host-shard and --checkpoint-dir do not go together yet: on a signal each trainer writes a final checkpoint and ends, "
                    + "and its shard must outlive it for the others' part; run the shards as 'ps' processes");
        }
    }

    /** The hosted shard's port: its entry in --servers with static lists, else a free one. */
    private int hostedPort() {
        if (net.coordinator != null) return 0;
        return NetOptions.parseList(net.servers, "--servers").get(hostShard).port();
    }

    /** Its rank's input split, loaded before training where it fits; not with --elastic (a trainer may take over another's share). */
    @Override
    int ownSplit() {
        return net.elastic ? -1 : rank;
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

    /**
     * How this trainer learns every process's address: the static lists, the running job (--join), or the coordinator
     * (started here on trainer 0 with --start-coordinator).
     */
    private Placement placement() {
        if (net.coordinator == null) return Placement.fixed(staticMembership());
        if (!join && (!net.peers.isEmpty() || !net.servers.isEmpty())) throw new UsageException("give either --coordinator or --peers/--servers, not both");
        HostPort coord;
        try {
            coord = HostPort.parse(net.coordinator);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--coordinator: " + e.getMessage());
        }
        if (join) return Placement.runningJob(coord, trainers);
        if (!net.startCoordinator) return Placement.coordinator(coord);
        if (rank != 0) throw new UsageException("--start-coordinator: only trainer 0 runs the coordinator");
        CliLogging.prefix(io.shadowsync.net.rdv.Groups.class.getName(), "shadowsync coordinator");
        return Placement.startingCoordinator(coord, trainers, psShards, net.regroupWindow());
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
