package io.shadowsync.cli;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.net.run.JobOptions;
import io.shadowsync.net.run.NetSettings;
import io.shadowsync.net.run.Placement;
import io.shadowsync.net.run.ServerProcess;
import io.shadowsync.net.run.TrainerProcess;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * {@code trainer --host-shard I}: parameter-server shard I run in the trainer's JVM, as the Spark form runs a trainer
 * and a shard in one task. It is started before the trainer joins and takes its place in the job (with the same
 * placement, on a thread of its own: a coordinator waits for every process); after the trainer's run it serves on
 * until the job's leader stops the servers at the end. (A trainer's run returns only once the leader has evaluated and
 * saved, past the job's last barrier, so no trainer needs the shard by then; waiting for the leader's stop ends it
 * cleanly, and trainer 0's --keep-servers keeps it.) A
 * trainer that failed closes it at once: its rows are gone, and the other trainers fail on it (as when a {@code ps}
 * process dies) unless --ps-replicas keeps a copy. The trainer's own workers call the shard directly
 * ({@link TrainerProcess#hosts}); the other trainers reach it over its row lane.
 */
final class HostedShard implements AutoCloseable {
    private final ServerProcess server;
    private final Thread placing;
    private volatile Exception placeFailure;
    /** The shard's metrics endpoint (--metrics-port: PORT + N + I, where a {@code ps} process's would be), or null. */
    private final io.shadowsync.cli.prom.PrometheusEndpoint endpoint;
    private final PrintWriter err;
    private final int rank;

    private HostedShard(ServerProcess server, Placement placement, TrainerProcess trainer, int rank,
                        io.shadowsync.cli.prom.PrometheusEndpoint endpoint, PrintWriter err) {
        this.server = server;
        this.endpoint = endpoint;
        this.err = err;
        this.rank = rank;
        this.placing = new Thread(() -> {
            try {
                server.place(placement);
            } catch (Exception e) {
                placeFailure = e;
                // the trainers' rendezvous waits for this shard: end this trainer now instead of at the timeout
                trainer.abort(new IllegalStateException("shard " + server.shard() + " hosted by trainer " + rank
                        + " could not take its place in the job: " + Main.describe(e), e));
            }
        }, "trainer/host-shard-" + server.shard());
        placing.setDaemon(true);
    }

    /**
     * Starts shard {@code shard} of the job here and registers it with {@code placement}; the trainer's own run comes
     * next. The shard's counters go on {@code endpoint} (null: none), which it closes with itself.
     */
    static HostedShard start(TrainingJob job, int shard, JobOptions options, NetSettings net, Placement placement, TrainerProcess trainer,
                             PrintWriter err, int rank, io.shadowsync.cli.prom.PrometheusEndpoint endpoint) throws IOException {
        ServerProcess s;
        try {
            s = ServerProcess.builder(job, shard).options(options).net(net).start();
        } catch (IllegalArgumentException e) {
            if (endpoint != null) endpoint.close();
            throw new UsageException("--host-shard: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (endpoint != null) endpoint.close();
            throw e;
        }
        if (endpoint != null) PsCommand.exportCounters(endpoint, s.server());
        trainer.hosts(s.server()); // this trainer's rows to its own shard do not leave the JVM
        HostedShard h = new HostedShard(s, placement, trainer, rank, endpoint, err);
        synchronized (err) {
            err.println("shadowsync trainer " + rank + ": hosting parameter-server shard " + shard + " of " + job.config().psShards()
                    + " in this JVM, listening on " + s.address());
            err.flush();
        }
        h.placing.start();
        return h;
    }

    /**
     * After the trainer's run: a trainer that finished serves its shard on until the leader stops every server at the
     * job's end (trainer 0 with --keep-servers: until this process is stopped); one that did not returns at once.
     */
    void serveToTheEnd(TrainerProcess.Outcome outcome) throws Exception {
        placing.join();
        if (placeFailure != null) throw placeFailure;
        if (outcome.status() == TrainerProcess.Status.DONE || outcome.status() == TrainerProcess.Status.JOB_FINISHED_WITHOUT_IT) {
            server.awaitTermination();
        }
    }

    /** Stops serving (idempotent) and says what the shard served, as a {@code ps} process does. */
    @Override
    public void close() {
        server.close();
        if (endpoint != null) endpoint.close();
        if (closed) return;
        closed = true;
        synchronized (err) {
            err.println("shadowsync trainer " + rank + ": parameter-server shard " + server.shard() + " stopped after " + PsCommand.counts(server.server()));
            err.flush();
        }
    }

    private boolean closed;
}
