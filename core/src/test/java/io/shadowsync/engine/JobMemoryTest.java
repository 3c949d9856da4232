package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncSpec;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link JobMemory} against what small jobs really allocate: the bytes this thread allocates while building the job
 * (tables, replicas, optimizer and sync state, batch pools) plus its workers' workspaces, which each worker allocates
 * when it starts. The estimate must be within a factor of 1.5 either way (measured: within 3%), whichever part dominates; and a job that
 * cannot fit is refused before anything is allocated, naming the flag to lower.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JobMemoryTest {
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final EmbeddingOptimizerSpec ADAGRAD_ROWS = new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1);
    private static final EmbeddingOptimizerSpec SGD_ROWS = new EmbeddingOptimizerSpec("sgd", 0.1);

    /** Data with a schema and no examples: building a job never reads it. */
    record Schema(DataSchema schema) implements DataSource {
        @Override
        public String describe() {
            return "schema-only:test";
        }

        @Override
        public ExampleReader open() {
            throw new IllegalStateException("building a job must not read its data");
        }
    }

    private static JobConfig job(int trainers, int workers, int batch, int queueDepth, String sync) {
        TrainerConfig tc = new TrainerConfig(workers, batch, 1000, 1, DataSplit.ROUND_ROBIN, 7, queueDepth, 1000, false);
        return new JobConfig(trainers, tc, SyncSpec.of(sync), 1, LinkModel.NONE);
    }

    /** Bytes this thread allocates building the job, plus every worker's workspace. */
    private static long measured(ModelSpec spec, DataSchema schema, OptimizerSpec opt, EmbeddingOptimizerSpec embOpt, JobConfig config) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        Job job = new Job(spec, 3, opt, embOpt, new Schema(schema), config);
        Model model = job.model();
        Object[] workspaces = new Object[config.trainers() * config.trainer().workers()];
        for (int i = 0; i < workspaces.length; i++) workspaces[i] = model.newWorkspace(config.trainer().batchSize());
        long bytes = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertTrue(workspaces[workspaces.length - 1] != null && job.trainers() == config.trainers());
        return bytes;
    }

    private static void withinFactor(ModelSpec spec, DataSchema schema, OptimizerSpec opt, EmbeddingOptimizerSpec embOpt, JobConfig config,
                                        String dominant) {
        JobMemory est = JobMemory.of(spec, schema, opt, embOpt, config, config.trainers(), true);
        long real = measured(spec, schema, opt, embOpt, config);
        double ratio = est.total() / (double) real;
        String what = spec.kind() + " " + config.sync().algorithm() + ": estimate " + est + " total " + est.total() + ", measured " + real;
        assertTrue(ratio >= 2 / 3.0 && ratio <= 1.5, what + " (ratio " + ratio + ")");
        System.out.printf(java.util.Locale.ROOT, "JobMemoryTest: %s %s, %s dominate: estimate %,d, measured %,d bytes (%.2f)%n", spec.kind(),
                config.sync().algorithm(), dominant, est.total(), real, ratio);
        long part = switch (dominant) {
            case "tables" -> est.tables();
            case "replicas" -> est.replicas();
            case "workspaces" -> est.workspaces();
            default -> est.queues();
        };
        assertTrue(part > est.total() / 2, dominant + " dominate this job: " + what);
        assertTrue(real > 10 << 20, "large enough that fixed costs do not decide the test: " + what);
    }

    @Test
    void tablesWithRowwiseAdagrad() {
        withinFactor(new DlrmSpec(13, 26, 20_000, 16, new int[] {64}, new int[] {64}), DataSchema.CRITEO, OptimizerSpec.of("sgd", 0.1),
                ADAGRAD_ROWS, job(1, 1, 128, 4, "none"), "tables");
        withinFactor(new LrSpec(23, 13, 26, false), DataSchema.CRITEO, OptimizerSpec.of("sgd", 0.1), SGD_ROWS, job(1, 1, 128, 4, "none"), "tables");
    }

    @Test
    void replicasWithOptimizerAndSyncState() {
        DataSchema dense = new DataSchema(64, 0, false, 0, 10);
        MlpSpec wide = new MlpSpec(64, new int[] {512, 512}, 10, "relu", "multiclass");
        withinFactor(wide, dense, OptimizerSpec.of("adam", 0.01), SGD_ROWS, job(4, 1, 16, 2, "s-bmuf"), "replicas");
        withinFactor(wide, dense, OptimizerSpec.of("sgd", 0.01).withMomentum(0.9), SGD_ROWS, job(4, 1, 16, 2, "fr-ma"), "replicas");
        withinFactor(wide, dense, OptimizerSpec.of("adagrad", 0.01), SGD_ROWS, job(4, 1, 16, 2, "s-easgd"), "replicas");
        withinFactor(wide, dense, OptimizerSpec.of("sgd", 0.01), SGD_ROWS, job(2, 4, 16, 2, "async-ps"), "replicas");
    }

    @Test
    void workspacesOfLargeBatches() {
        DlrmSpec small = new DlrmSpec(13, 26, 100, 16, new int[] {64}, new int[] {64});
        withinFactor(small, DataSchema.CRITEO, OptimizerSpec.of("sgd", 0.1), SGD_ROWS, job(1, 4, 1024, 1, "none"), "workspaces");
        MlpSpec mlp = new MlpSpec(32, new int[] {1024, 1024}, 10, "relu", "multiclass");
        withinFactor(mlp, new DataSchema(32, 0, false, 0, 10), OptimizerSpec.of("sgd", 0.1), SGD_ROWS, job(2, 2, 1024, 1, "sync-sgd"),
                "workspaces");
    }

    @Test
    void deepBatchQueues() {
        DlrmSpec small = new DlrmSpec(13, 26, 100, 16, new int[] {64}, new int[] {64});
        withinFactor(small, DataSchema.CRITEO, OptimizerSpec.of("sgd", 0.1), SGD_ROWS, job(1, 2, 512, 256, "none"), "queues");
    }

    /** The library refuses too, before allocating: the constructor allocates almost nothing and names the flag. */
    @Test
    void aJobThatCannotFitIsRefusedBeforeAllocating() {
        DlrmSpec huge = new DlrmSpec(13, 26, 100_000_000, 16, new int[] {64}, new int[] {64});
        long before = THREADS.getCurrentThreadAllocatedBytes();
        JobMemory.JobTooLargeException e = assertThrows(JobMemory.JobTooLargeException.class,
                () -> new Job(huge, 3, OptimizerSpec.of("sgd", 0.1), SGD_ROWS, new Schema(DataSchema.CRITEO), job(1, 1, 128, 4, "none")));
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1 << 20, "refused after allocating " + allocated + " bytes");
        assertTrue(e.getMessage().contains("lower --emb-rows"), e.getMessage());
        assertTrue(e.getMessage().contains("JAVA_OPTS=-Xmx"), e.getMessage());
        assertTrue(e.getMessage().contains("embedding tables 155.0 GiB"), e.getMessage());
        assertTrue(e instanceof IllegalArgumentException, "bad input: the CLI exits 2");
    }

    @Test
    void theMessageNamesTheFlagOfTheLargestPart() {
        DlrmSpec small = new DlrmSpec(13, 26, 100, 16, new int[] {64}, new int[] {64});
        OptimizerSpec sgd = OptimizerSpec.of("sgd", 0.1);
        long heap = 256L << 20;
        assertRefused(JobMemory.of(small, DataSchema.CRITEO, sgd, SGD_ROWS, job(1, 1, 128, 1_000_000, "none"), 1, true), heap, "lower --queue-depth");
        assertRefused(JobMemory.of(small, DataSchema.CRITEO, sgd, SGD_ROWS, job(1, 1, 200_000, 1, "none"), 1, true), heap, "lower --batch");
        assertRefused(JobMemory.of(small, DataSchema.CRITEO, sgd, SGD_ROWS, job(1, 1000, 128, 1, "none"), 1, true), heap, "lower --workers");
        MlpSpec wide = new MlpSpec(64, new int[] {4096, 4096}, 10, "relu", "multiclass");
        assertRefused(JobMemory.of(wide, new DataSchema(64, 0, false, 0, 10), sgd, SGD_ROWS, job(16, 1, 16, 1, "s-bmuf"), 16, true), heap,
                "lower --trainers");
        assertRefused(JobMemory.ofServer(new DlrmSpec(13, 26, 50_000_000, 16, new int[] {64}, new int[] {64}), sgd, SGD_ROWS, job(1, 1, 16, 1, "none"), 1), heap,
                "spread the tables over more --ps-shards");
        // and a job that fits is not refused
        JobMemory.of(small, DataSchema.CRITEO, sgd, SGD_ROWS, job(1, 1, 128, 4, "none"), 1, true).check(heap);
    }

    private static void assertRefused(JobMemory m, long heap, String fragment) {
        JobMemory.JobTooLargeException e = assertThrows(JobMemory.JobTooLargeException.class, () -> m.check(heap));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(e.getMessage().contains("256 MiB"), "says what there is: " + e.getMessage());
    }

    /** A batch whose single buffer would exceed a Java array is refused even on a huge heap (it would wrap to negative sizes). */
    @Test
    void aBatchBeyondOneArrayIsRefusedOnAnyHeap() {
        DlrmSpec small = new DlrmSpec(13, 26, 100, 16, new int[] {64}, new int[] {64});
        JobMemory m = JobMemory.of(small, DataSchema.CRITEO, OptimizerSpec.of("sgd", 0.1), SGD_ROWS, job(1, 1, 2_000_000_000, 1, "none"), 1, true);
        JobMemory.JobTooLargeException e = assertThrows(JobMemory.JobTooLargeException.class, () -> m.check(Long.MAX_VALUE / 2));
        assertTrue(e.getMessage().startsWith("--batch 2000000000 is too large for this model"), e.getMessage());
    }

    /** Widths whose products overflow a long saturate: a wrapped (negative) size would pass the heap check. */
    @Test
    void absurdWidthsSaturateInsteadOfWrapping() {
        int big = 2_000_000_000;
        MlpSpec absurd = new MlpSpec(big, new int[] {big, big, big}, 2, "relu", "multiclass");
        assertEquals(Long.MAX_VALUE, absurd.denseParameters());
        JobMemory m = JobMemory.of(absurd, new DataSchema(big, 0, false, 0, 2), OptimizerSpec.of("adam", 0.1), SGD_ROWS, job(1, 1, 1, 1, "none"), 1, true);
        assertTrue(m.total() > 0 && m.replicas() == Long.MAX_VALUE, m.toString());
        JobMemory.JobTooLargeException e = assertThrows(JobMemory.JobTooLargeException.class, () -> m.check(Long.MAX_VALUE / 2));
        assertTrue(e.getMessage().contains("more than 8 EiB"), e.getMessage());
    }

    /** The specs' sizes, computed without building, are the built models' (a formula off by a layer would show here). */
    @Test
    void specSizesAreTheBuiltModels() {
        ModelSpec[] specs = {new DlrmSpec(13, 26, 100, 16, new int[] {64, 32}, new int[] {64}), new DlrmSpec(3, 2, 7, 4, new int[0], new int[0]),
                new MlpSpec(784, new int[] {256, 128}, 10, "relu", "multiclass"), new MlpSpec(5, new int[0], 1, "tanh", "binary"),
                new LrSpec(12, 13, 26, false), new LrSpec(10, 0, 0, true)};
        for (ModelSpec s : specs) {
            Model m = s.build();
            assertEquals(m.dense().size(), s.denseParameters(), s.toString());
            assertTrue(java.util.Arrays.deepEquals(m.embeddingShapes(), s.embeddingShapes()), s.toString());
            long before = THREADS.getCurrentThreadAllocatedBytes();
            Object ws = m.newWorkspace(512);
            long real = THREADS.getCurrentThreadAllocatedBytes() - before;
            double ratio = s.workspaceBytes(512) / (double) real;
            assertTrue(ws != null && ratio >= 0.5 && ratio <= 2, s + ": workspace estimate " + s.workspaceBytes(512) + ", measured " + real);
        }
    }
}
