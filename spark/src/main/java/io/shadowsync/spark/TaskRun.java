package io.shadowsync.spark;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.ckpt.CheckpointStore;
import io.shadowsync.ckpt.LocalCheckpointStore;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.OwnShare;
import io.shadowsync.engine.Job;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.TokenFile;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.run.CheckpointOptions;
import io.shadowsync.net.run.JobOptions;
import io.shadowsync.net.run.NetSettings;
import io.shadowsync.net.run.ServerProcess;
import io.shadowsync.net.run.TrainerProcess;
import java.io.IOException;
import java.io.Serializable;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.sql.Row;

/**
 * What one barrier task does: partition p &lt; numTrainers is trainer p (its rows are its share); the task that runs
 * shard s starts that parameter server first. Both bind on the executor's host (as Spark's scheduler knows it) on free
 * ports, then one {@link BarrierPlacement#gather} gives every address, then the net module's {@link TrainerProcess} and
 * {@link ServerProcess} run the job exactly as the {@code trainer} and {@code ps} commands do. A watcher ends the task's
 * processes when Spark kills the task (another task of the stage failed), so that a retried stage does not find them.
 */
final class TaskRun {
    private static final System.Logger LOG = System.getLogger(TaskRun.class.getName());
    /** How often a task checks whether Spark has killed it. */
    private static final Duration POLL = Duration.ofMillis(200);

    private TaskRun() {}

    /** Trainer 0's result: the model file's bytes and the job's summary. */
    record Result(byte[] model, Map<String, Object> summary) implements Serializable {}

    /** A test's way to fail a task on purpose mid-training (null: none); see {@link TestHook}. */
    static volatile TestHook hook;

    /** Called in each trainer task once its job is built; a test throws from {@link #check} to fail a task. */
    interface TestHook {
        /** Called every POLL with the trainer's rank, the stage attempt and the examples it has trained. */
        void check(int rank, int stageAttempt, long examples);
    }

    static Result run(BarrierTaskContext ctx, Iterator<Row> rows, RowLayout layout, TrainingSettings settings, BarrierTraining.Plan plan,
                      JobToken token, byte[] hadoopConf) throws Exception {
        int p = ctx.partitionId(), trainers = settings.trainers(), shards = settings.psShards();
        boolean isTrainer = p < trainers;
        int shard = plan.serversInTrainers() ? (p < shards ? p : -1) : (p >= trainers ? p - trainers : -1);
        String host = host(ctx.getTaskInfos()[p].address());
        Path tokenFile = token.writeFile();
        ServerProcess server = null;
        DataSource share = null;
        try {
            NetSettings net = NetSettings.loopback().withConfig(NetConfig.LOOPBACK.withBindHost(host).withToken(tokenFile));
            // in memory (as columns) when it fits the task's part of the executor's heap, else spilled to a local file
            share = isTrainer ? SpilledShare.load(rows, layout, "spark partition " + p, shareBytes(plan, ctx), spillDirectory()) : null;
            if (share instanceof SpilledShare s) LOG.log(Level.INFO, "shadowsync trainer " + p + ": its share is larger than "
                    + shareBytes(plan, ctx) + " bytes; streaming it from " + s.file());
            // the partition is this trainer's whole share (the job does not take 1/N of it again)
            TrainingJob job = settings.job(share != null ? new OwnShare(share) : new TrainingSettings.SchemaOnly(layout.schema()));
            JobOptions options = JobOptions.defaults().withInMemory(!(share instanceof SpilledShare)).withCheckpoints(checkpoints(plan, ctx.stageAttemptNumber(), hadoopConf));
            if (shard >= 0) server = ServerProcess.builder(job, shard).options(options).net(net).start();
            Watch watch = new Watch(ctx, Thread.currentThread(), server);
            // the checkpoints record every trainer's share (known after the gather), which a resumed stage checks
            java.util.concurrent.atomic.AtomicReference<BarrierPlacement> gathered = new java.util.concurrent.atomic.AtomicReference<>();
            TrainerProcess trainer = isTrainer
                    ? TrainerProcess.builder(job, p).options(options).net(net).listener(new Listener(p, ctx.stageAttemptNumber(), watch))
                            .dataFingerprint(() -> gathered.get().dataFingerprint()).build()
                    : null;
            watch.trainer = trainer;
            HostPort self = trainer == null ? null : trainer.bind();
            BarrierPlacement placement = BarrierPlacement.gather(ctx, trainers, shards, self, shard, server == null ? null : server.address(),
                    share == null ? null : share.fingerprint());
            gathered.set(placement);
            watch.start();
            try {
                if (server != null) server.place(placement);
                if (trainer == null) {
                    while (!server.awaitTermination(POLL)) watch.check();
                    server = null; // stopped by the leader
                    return null;
                }
                TrainerProcess.Outcome o;
                try {
                    o = trainer.run(placement);
                } catch (Exception e) {
                    watch.rethrowWith(e); // ended by the watcher: its reason, with what the trainer threw
                    throw e;
                }
                watch.check();
                if (o.status() != TrainerProcess.Status.DONE) throw new IllegalStateException("trainer " + p + ": " + o.message());
                if (server != null) {
                    // the leader stops every shard once it has its copy of the tables; until then this one serves
                    while (!server.awaitTermination(POLL)) watch.check();
                    server = null;
                }
                return o.leader() ? new Result(ModelBytes.of(o.model()), new LinkedHashMap<>(o.summary())) : null;
            } finally {
                watch.stop();
            }
        } finally {
            if (server != null) server.close();
            if (share instanceof SpilledShare s) s.close();
            TokenFile.delete(tokenFile);
        }
    }

    /**
     * The bytes a trainer's share may take in memory: shareMemoryFraction of the executor's heap, divided among the
     * tasks it runs at once ({@code spark.executor.cores} / the task's cpus; in local mode the JVM's processors).
     */
    static long shareBytes(BarrierTraining.Plan plan, BarrierTaskContext ctx) {
        int cores = org.apache.spark.SparkEnv.get().conf().getInt("spark.executor.cores", Runtime.getRuntime().availableProcessors());
        int slots = Math.max(1, cores / Math.max(1, ctx.cpus()));
        return (long) (plan.shareMemoryFraction() * Runtime.getRuntime().maxMemory() / slots);
    }

    /** Where a spilled share goes: the executor's directory for files, which Spark removes with the executor. */
    private static Path spillDirectory() {
        return Path.of(org.apache.spark.SparkFiles.getRootDirectory());
    }

    /** The stage's checkpoints: resumed from on a retried attempt; null without a checkpoint directory. */
    static CheckpointOptions checkpoints(BarrierTraining.Plan plan, int stageAttempt, byte[] hadoopConf) {
        if (plan.checkpointDir().isEmpty()) return null;
        return CheckpointOptions.in(store(plan.checkpointDir(), hadoopConf)).keep(plan.keep()).everySeconds(plan.checkpointEverySec())
                .everyExamples(plan.checkpointEveryExamples()).resume(stageAttempt > 0);
    }

    /**
     * Where checkpoints in dir go: a plain path or a {@code file:} URI through {@code java.nio}
     * ({@link LocalCheckpointStore}: fsync, an OS lock, files cut short by a signal deleted); any other scheme through
     * Hadoop's file system for it ({@link HadoopCheckpointStore}).
     *
     * @throws IllegalArgumentException when no Hadoop file system serves dir's scheme
     */
    static CheckpointStore store(String dir, byte[] hadoopConf) {
        java.net.URI u = new org.apache.hadoop.fs.Path(dir).toUri();
        if (u.getScheme() == null || u.getScheme().equals("file")) return new LocalCheckpointStore(Path.of(u.getPath()));
        return new HadoopCheckpointStore(dir, HadoopCheckpointStore.configuration(hadoopConf));
    }

    /** The host of a barrier task's address ("host:port", "[v6]:port" or a bare host). */
    static String host(String address) {
        if (address.startsWith("[")) return address.substring(1, address.indexOf(']'));
        int c = address.lastIndexOf(':');
        return c > 0 && address.indexOf(':') == c ? address.substring(0, c) : address;
    }

    /** Relays the trainer's lines to the log, and hands its job to the watcher. */
    private record Listener(int rank, int attempt, Watch watch) implements TrainerProcess.Listener {
        @Override
        public void message(Level level, String text) {
            LOG.log(level, "shadowsync trainer " + rank + " (stage attempt " + attempt + "): " + text);
        }

        @Override
        public void training(Job job, Membership members) {
            watch.training(job, rank, attempt);
        }
    }

    /**
     * Watches a task while it runs: when Spark kills it (another task of the barrier stage failed) or the test hook
     * fails it, it aborts the task's trainer ({@link TrainerProcess#abort}: its run throws the reason, the other
     * trainers' collectives fail at once) and closes its server, so that the task's processes end instead of training
     * on beside a retried stage. (Spark does not interrupt a killed task's thread; a task that runs only a server
     * ends when its server is closed.)
     */
    private static final class Watch {
        private final BarrierTaskContext ctx;
        private final Thread task;
        private final ServerProcess server;
        private final Thread thread;
        private volatile Job job;
        /** The task's trainer, or null (a server-only task). */
        volatile TrainerProcess trainer;
        private volatile int rank;
        private volatile int attempt;
        private volatile RuntimeException failure;

        Watch(BarrierTaskContext ctx, Thread task, ServerProcess server) {
            this.ctx = ctx;
            this.task = task;
            this.server = server;
            this.thread = new Thread(this::loop, "shadowsync-task-watch-" + ctx.partitionId());
            thread.setDaemon(true);
        }

        void training(Job j, int r, int a) {
            rank = r;
            attempt = a;
            job = j;
        }

        void start() {
            thread.start();
        }

        void stop() {
            thread.interrupt();
        }

        /** Throws why the task was ended, if it was. */
        void check() {
            RuntimeException f = failure;
            if (f != null) throw f;
        }

        /** Throws why the task was ended, with what the trainer threw then, if the watcher ended it. */
        void rethrowWith(Exception e) {
            RuntimeException f = failure;
            if (f == null) return;
            Thread.interrupted(); // the watcher's interrupt has done its work
            f.addSuppressed(e);
            throw f;
        }

        private void loop() {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(POLL.toMillis());
                    if (ctx.isInterrupted()) {
                        end(new IllegalStateException("task " + ctx.partitionId() + " was killed by Spark: "
                                + ctx.getKillReason().getOrElse(() -> "another task of the barrier stage failed")));
                        return;
                    }
                    TestHook h = hook;
                    Job j = job;
                    if (h != null && j != null) {
                        try {
                            h.check(rank, attempt, j.progress().examples());
                        } catch (RuntimeException e) {
                            end(e);
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                // the task ended
            }
        }

        private void end(RuntimeException why) {
            failure = why;
            TrainerProcess t = trainer;
            if (t != null) t.abort(why);
            else task.interrupt();
            if (server != null) server.close();
        }
    }
}
