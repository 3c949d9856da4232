package io.shadowsync.cli;

import io.grpc.Server;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.comm.Collective;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.SyncStats;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.kernels.Blas;
import io.shadowsync.kernels.Vec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetCluster;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.proto.StatusReply;
import io.shadowsync.net.ps.PsAdmin;
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
    @Option(names = "--rank", paramLabel = "I", required = true, description = "This trainer's rank, 0 .. trainers-1.")
    int rank;

    @Option(names = "--join", description = "With --elastic: join the running job as trainer --rank (one that died, or was never started): "
            + "it takes the job's current model and trains its own split.")
    boolean join;

    @Option(names = "--keep-servers", description = "Trainer 0: leave the parameter servers running at the end (default: stop them).")
    boolean keepServers;

    @Mixin
    NetOptions net = new NetOptions();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (rank < 0 || rank >= trainers) throw new UsageException("--rank " + rank + " is not in 0.." + (trainers - 1) + " (--trainers " + trainers + ")");
        Plan plan = plan(err, true);
        checkElastic(plan);
        String digest = digest(plan, "elastic=" + net.elastic);
        Transport transport = new Transport(net.config());
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
                Job job = new Job(plan.modelSpec(), seed, plan.opt(), plan.embOpt(), plan.train(), plan.job(), cluster, new int[]{rank});
                Model model = job.model();
                if (rank == 0) {
                    err.println(banner(plan, model));
                    err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription()
                            + "; trainers at " + members.trainers() + ", parameter servers at " + members.servers());
                    err.flush();
                }
                ProgressReporter progress = new ProgressReporter(job::progress, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
                progress.start();
                JobResult mine;
                try {
                    mine = job.run();
                } catch (TrainingException e) {
                    progress.stop();
                    cluster.abort();
                    throw e;
                } finally {
                    progress.stop();
                }
                SyncStats s = job.trainer(0).syncStats();
                Collective control = cluster.control();
                JobResult all = JobStats.gather(control, mine, s.rounds(), s.meanRoundMillis(), s.bytesSent());
                // the leader: trainer 0, or with elastic trainers the first member still in the job
                boolean leader = control.rank() == 0;
                if (leader && control instanceof ElasticRing ring) ring.finish(); // trainers still waiting to join are sent away
                if (plan.sync().mode() == SyncSpec.Mode.ASYNC_PS && leader) job.pullServerModel();
                if (!leader) {
                    control.barrier(); // the leader has evaluated and saved: the servers may go
                    err.println("shadowsync trainer " + rank + ": done, " + mine.examples() + " examples");
                    return 0;
                }
                Map<String, Object> summary = summary(plan, all);
                summary.put("processes", trainers + psShards);
                if (psReplicas > 1) summary.put("ps_failovers", cluster.tables().failovers()); // this trainer's switches to a backup
                if (control instanceof ElasticRing ring) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("leader", rank);
                    m.put("members", ring.members());
                    m.put("epoch", ring.epoch());
                    m.put("changes", ring.changes());
                    summary.put("membership", m);
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
            for (Server s : servers) s.shutdownNow();
        }
    }

    /** --elastic and --join: what they need, refused with the reason otherwise. */
    private void checkElastic(Plan plan) {
        if (join && !net.elastic) throw new UsageException("--join needs --elastic: only a job with elastic trainers takes trainers while it runs");
        if (!net.elastic) return;
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

    /** Whether trainers can join a running job of this algorithm: its rounds admit them. */
    static boolean joinable(Plan plan) {
        return (plan.sync().mode() == SyncSpec.Mode.SHADOW || plan.sync().mode() == SyncSpec.Mode.FOREGROUND)
                && (plan.sync().base().equals("ma") || plan.sync().base().equals("bmuf"));
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
