package io.shadowsync.cli;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.proto.ReplicaStats;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.NetSettings;
import io.shadowsync.net.run.Placement;
import io.shadowsync.net.run.ServerProcess;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync ps --shard i [JOB.yaml] [train flags] (--coordinator HOST:PORT | --listen HOST:PORT)}: one
 * parameter-server shard of a multi-process job: row r of every embedding table with r mod S = i, with the sparse
 * optimizer, and dense block i of S (the EASGD center, or the model of asynchronous SGD with the dense optimizer).
 * It reads the model's layout from the same flags (and the training data's header) as the trainers, starts from
 * the same seeded values, and serves until trainer 0 tells it the job is over (or it is stopped). The shard itself is
 * {@link ServerProcess}; this command turns flags into its settings and prints what it did.
 */
@Command(name = "ps", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Run one parameter-server shard of a multi-process job (see 'shadowsync launch').",
                "Takes every flag train takes; every process of the job must be given the same ones."})
public final class PsCommand extends JobCommand implements Callable<Integer> {
    @Option(names = "--shard", paramLabel = "I", description = "This server's shard, 0 .. ps-shards-1 (default: from the environment, "
            + "SHADOWSYNC_RANK, RANK or JOB_COMPLETION_INDEX; see docs/multi-process.md).")
    Integer shardFlag;

    /** This server's shard: --shard, or from the environment. */
    int shard;

    @Mixin
    NetOptions net = new NetOptions();

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync ps");
        PrintWriter err = spec.commandLine().getErr();
        shard = FromEnvironment.apply(this, net, Role.PS, "--shard", shardFlag, false).index(); // what the command line leaves out
        if (shard < 0 || shard >= psShards) throw new UsageException("--shard " + shard + " is not in 0.." + (psShards - 1) + " (--ps-shards " + psShards + ")");
        Plan plan = plan(err, false);
        TrainingJob job = trainingJob(plan);
        NetSettings settings = net.settings(err);
        if (net.coordinator == null && settings.port() == 0) {
            throw new UsageException("without --coordinator, give --listen HOST:PORT: the port the trainers' --servers list names for shard " + shard);
        }
        List<HostPort> staticServers = null;
        if (psReplicas > 1 && net.coordinator == null) {
            staticServers = NetOptions.parseList(net.servers, "--servers");
            if (staticServers.size() != psShards) {
                throw new UsageException("--ps-replicas " + psReplicas + " without --coordinator: give --servers with all " + psShards
                        + " parameter servers' addresses, in shard order (this one's included), so that each can copy pushes to its backups");
            }
        }
        HostPort coord = null;
        if (net.coordinator != null) {
            try {
                coord = HostPort.parse(net.coordinator);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--coordinator: " + e.getMessage());
            }
        }
        io.shadowsync.cli.prom.PrometheusEndpoint endpoint = metricsEndpoint(trainers + shard, "ps", "shard", Integer.toString(shard)); // PORT + N + S
        ServerProcess ps;
        try {
            ps = ServerProcess.builder(job, shard).options(jobOptions(net)).net(settings).start(); // its replicas' role changes: PsServer's log lines, as "shadowsync ps: ..."
        } catch (RuntimeException | java.io.IOException e) {
            if (endpoint != null) endpoint.close();
            throw e;
        }
        if (endpoint != null) exportCounters(endpoint, ps.server());
        try {
            err.println("shadowsync ps: shard " + shard + " of " + psShards + " listening on " + ps.address() + " ("
                    + String.format(java.util.Locale.ROOT, "%,d", ps.embeddingValues()) + " embedding values in all shards"
                    + (psReplicas > 1 ? "; " + psReplicas + " replicas: primary of shard " + shard + ", backup of shard(s) " + backups() : "") + ")"
                    + (checkpointDir == null ? "" : "; checkpoints in " + checkpointDir.toAbsolutePath().normalize()
                    + (resume ? ", restored when trainer 0 has chosen one" : "")));
            err.flush();
            if (coord != null) {
                ps.place(Placement.coordinator(coord));
            } else if (staticServers != null) {
                ps.connectReplicas(staticServers);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(ps::close, "ps/stop"));
            ps.awaitTermination();
            err.println("shadowsync ps: shard " + shard + " stopped after " + counts(ps.server()));
            return 0;
        } finally {
            ps.close();
            if (endpoint != null) endpoint.close();
        }
    }

    /** The shards this node backs up: shard−1, ..., shard−R+1 (mod S). */
    private String backups() {
        StringBuilder b = new StringBuilder();
        for (int k = 1; k < psReplicas; k++) b.append(k == 1 ? "" : ", ").append(Math.floorMod(shard - k, psShards));
        return b.toString();
    }

    /** A node's counters on a metrics endpoint ({@code shadowsync_ps_*}): a {@code ps} process's, or a shard a trainer hosts. */
    static void exportCounters(io.shadowsync.cli.prom.PrometheusEndpoint endpoint, PsServer s) {
        endpoint.counter("shadowsync_ps_calls", "calls this server has served", s::calls);
        endpoint.counter("shadowsync_ps_rows_pulled", "embedding rows read by the trainers", s::rowsPulled);
        endpoint.counter("shadowsync_ps_rows_pushed", "embedding row gradients applied", s::rowsPushed);
        endpoint.counter("shadowsync_ps_dense_pulls", "pulls of the dense server's block", s::densePulls);
        endpoint.counter("shadowsync_ps_dense_pushes", "pushes to the dense server's block", s::densePushes);
        for (io.shadowsync.net.ps.Refusal r : io.shadowsync.net.ps.Refusal.values()) {
            endpoint.counter("shadowsync_ps_refused", "calls refused, by reason", () -> s.refused(r), "reason", r.name());
        }
    }

    /** "N calls (R rows pulled, P pushed; messages refused: none)" and, when replicated, its replicas: a node's closing counts. */
    static String counts(PsServer server) {
        StringBuilder refused = new StringBuilder();
        server.refusals().forEach((reason, count) -> {
            if (count > 0) refused.append(refused.isEmpty() ? "" : ", ").append(count).append(' ').append(reason);
        });
        return server.calls() + " calls (" + server.rowsPulled() + " rows pulled, " + server.rowsPushed() + " pushed; messages refused: "
                + (refused.isEmpty() ? "none" : refused) + ")" + (server.replicas() > 1 ? replicaSummary(server.replicaStats()) : "");
    }

    /** "; replicas: shard 1 primary (340 pushes applied, 2 repeats ignored, 338 forwarded), shard 0 ..." */
    private static String replicaSummary(List<ReplicaStats> replicas) {
        StringBuilder b = new StringBuilder("; replicas:");
        for (ReplicaStats r : replicas) {
            b.append(" shard ").append(r.getShard()).append(r.getIsPrimary() ? " primary" : " backup").append(" (")
                    .append(r.getPushesApplied()).append(" pushes applied, ").append(r.getDuplicatesIgnored()).append(" repeats ignored, ")
                    .append(r.getIsPrimary() ? r.getForwardsSent() + " forwarded" : r.getForwardsReceived() + " received").append(")");
        }
        return b.toString();
    }
}
