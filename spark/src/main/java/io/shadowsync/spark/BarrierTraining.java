package io.shadowsync.spark;

import io.shadowsync.api.TrainedModel;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Training as one Spark barrier stage. The rows are repartitioned into one partition per trainer (and, with
 * {@code psPlacement=tasks}, one empty partition more per parameter-server shard); Spark starts every task of the stage
 * at once. Each trainer task reads its partition into memory as its share, binds its servers (port 0, on the
 * executor's host as Spark knows it), and learns every other process's address from exactly one
 * {@link BarrierTaskContext#allGather}; from then on the net module's gRPC collectives and servers carry the training,
 * through the library code the {@code trainer} and {@code ps} commands use. Trainer 0 returns the trained model
 * (its replica and the tables) as the stage's one result.
 *
 * <p>A failed task fails the whole stage, and Spark runs it again (up to {@code spark.stage.maxConsecutiveAttempts});
 * with a checkpoint directory the retried stage resumes from the newest good checkpoint there.
 */
final class BarrierTraining {
    private BarrierTraining() {}

    /**
     * How the stage runs besides the job's settings.
     *
     * @param psPlacement  "trainers": shard i runs in trainer task i's JVM (needs psShards ≤ numTrainers); "tasks": one
     *                     more barrier task per shard
     * @param checkpointDir a Hadoop-compatible directory, or empty for none
     * @param shareMemoryFraction the fraction of an executor's heap, divided among its task slots, that a trainer's
     *                     share may take in memory; a larger share is spilled to a local file ({@link SpilledShare})
     */
    record Plan(String psPlacement, String checkpointDir, double checkpointEverySec, long checkpointEveryExamples, int keep,
                double shareMemoryFraction) implements Serializable {
        Plan {
            if (!(shareMemoryFraction > 0 && shareMemoryFraction <= 1)) {
                throw new IllegalArgumentException("shareMemoryFraction " + shareMemoryFraction + ": give a fraction of the executor's memory in (0, 1]");
            }
            psPlacement = psPlacement.toLowerCase(Locale.ROOT);
            if (!psPlacement.equals("trainers") && !psPlacement.equals("tasks")) {
                throw new IllegalArgumentException("psPlacement '" + psPlacement + "': give 'trainers' (shard i in trainer task i) or 'tasks' (a task per shard)");
            }
            if (!(checkpointEverySec >= 0) || checkpointEveryExamples < 0 || keep < 1) {
                throw new IllegalArgumentException("checkpoints: every " + checkpointEverySec + " s / " + checkpointEveryExamples
                        + " examples, keep " + keep + ": give non-negative intervals and keep at least 1");
            }
        }

        boolean serversInTrainers() {
            return psPlacement.equals("trainers");
        }
    }

    /** Trainer 0's model and the job's summary (as {@code shadowsync train} prints it). */
    record Trained(TrainedModel model, Map<String, Object> summary) {}

    /** Trains on data (columns as layout says) and returns trainer 0's model. Blocks until the stage has finished. */
    static Trained run(Dataset<Row> data, RowLayout layout, TrainingSettings settings, Plan plan) {
        int trainers = settings.trainers(), shards = settings.psShards();
        if (plan.serversInTrainers() && shards > trainers) {
            throw new IllegalArgumentException("psShards " + shards + " > numTrainers " + trainers + " with psPlacement 'trainers' (one shard per trainer task "
                    + "at most): give fewer shards or psPlacement 'tasks'");
        }
        int tasks = trainers + (plan.serversInTrainers() ? 0 : shards);
        JobToken token;
        try {
            token = JobToken.generate();
        } catch (IOException e) {
            throw new UncheckedIOException("could not make the job's token: " + e.getMessage(), e);
        }
        byte[] hadoopConf = HadoopCheckpointStore.serialize(data.sparkSession().sparkContext().hadoopConfiguration());
        if (!plan.checkpointDir().isEmpty()) TaskRun.store(plan.checkpointDir(), hadoopConf); // refused here, before any task starts
        RDD<Row> rows = shares(data, trainers, tasks);
        ClassTag<TaskRun.Result> tag = ClassTag$.MODULE$.apply(TaskRun.Result.class);
        // the barrier stage ends in a shuffle: Spark retries a failed barrier stage only when it is a map stage (a failed
        // barrier result stage aborts the job), so the results travel through one more partition to the driver
        RDD<TaskRun.Result> trained = rows.barrier().mapPartitions(new Task(layout, settings, plan, token, hadoopConf), false, tag);
        Object results = trained.coalesce(1, true, scala.Option.empty(), null).collect();
        TaskRun.Result leader = null;
        for (TaskRun.Result r : (TaskRun.Result[]) results) if (r != null) leader = r;
        if (leader == null) throw new IllegalStateException("the barrier stage ended without trainer 0's model");
        try {
            return new Trained(ModelBytes.read(leader.model()), leader.summary());
        } catch (IOException e) {
            throw new UncheckedIOException("trainer 0's model did not read back: " + e.getMessage(), e);
        }
    }

    /**
     * The rows dealt round-robin to the first {@code trainers} of {@code tasks} partitions, each partition in a canonical
     * order (by source partition, then position there), so that a retried stage, which reads the shuffle again, gives
     * every trainer the same share in the same order: the share's fingerprint and a checkpoint's progress mark then
     * still fit it. (As always with Spark, that needs the input itself to be deterministic.)
     */
    static RDD<Row> shares(Dataset<Row> data, int trainers, int tasks) {
        JavaPairRDD<Long, Row> keyed = data.javaRDD().mapPartitionsWithIndex((p, it) -> {
            List<Tuple2<Long, Row>> out = new ArrayList<>();
            long i = 0;
            while (it.hasNext()) out.add(new Tuple2<>((long) p << 40 | i++, it.next()));
            return out.iterator();
        }, true).mapToPair(t -> t);
        return keyed.repartitionAndSortWithinPartitions(new Shares(trainers, tasks)).values().rdd();
    }

    /** Key (source partition p, row i) goes to trainer (p + i) mod trainers; the partitions past the trainers stay empty. */
    static final class Shares extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int trainers;
        private final int tasks;

        Shares(int trainers, int tasks) {
            this.trainers = trainers;
            this.tasks = tasks;
        }

        @Override
        public int numPartitions() {
            return tasks;
        }

        @Override
        public int getPartition(Object key) {
            long k = (Long) key;
            return (int) Math.floorMod((k >>> 40) + (k & ((1L << 40) - 1)), (long) trainers);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Shares s && s.trainers == trainers && s.tasks == tasks;
        }

        @Override
        public int hashCode() {
            return trainers * 31 + tasks;
        }
    }

    /** One barrier task: a trainer with its partition (and perhaps a server shard), or a server shard alone. */
    static final class Task extends AbstractFunction1<scala.collection.Iterator<Row>, scala.collection.Iterator<TaskRun.Result>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final RowLayout layout;
        private final TrainingSettings settings;
        private final Plan plan;
        private final JobToken token;
        /** Hadoop's configuration on the driver (its {@code spark.hadoop.*} settings), for the checkpoint store. */
        private final byte[] hadoopConf;

        Task(RowLayout layout, TrainingSettings settings, Plan plan, JobToken token, byte[] hadoopConf) {
            this.layout = layout;
            this.settings = settings;
            this.plan = plan;
            this.token = token;
            this.hadoopConf = hadoopConf;
        }

        @Override
        public scala.collection.Iterator<TaskRun.Result> apply(scala.collection.Iterator<Row> rows) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            List<TaskRun.Result> out = new ArrayList<>();
            try {
                TaskRun.Result r = TaskRun.run(ctx, scala.jdk.javaapi.CollectionConverters.asJava(rows), layout, settings, plan, token, hadoopConf);
                if (r != null) out.add(r);
            } catch (RuntimeException e) {
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("barrier task " + ctx.partitionId() + " was interrupted", e);
            } catch (Exception e) {
                throw new IllegalStateException("barrier task " + ctx.partitionId() + ": " + e.getMessage(), e);
            }
            Iterator<TaskRun.Result> it = out.iterator();
            return scala.jdk.javaapi.CollectionConverters.asScala(it);
        }
    }
}
