package io.shadowsync.engine;

import io.shadowsync.data.DataSchema;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncSpec;
import java.util.Locale;

/**
 * What a job (or the part of it one process runs) will allocate, estimated from its settings before anything is
 * allocated, so that a job that cannot fit the heap is refused with a sentence naming the flag to lower instead of
 * ending in an {@code OutOfMemoryError} or a machine that swaps. All figures are bytes of array payload; object headers
 * and the JVM's own needs are covered by {@link #check}'s margin.
 *
 * <ul>
 *   <li>{@code tables}: the embedding tables with their row optimizer's state (one float per row for row-wise
 *       Adagrad), where the tables live in this process;</li>
 *   <li>{@code replicas}: per trainer here, its dense replica × (1 + optimizer state + sync state), the dense server's
 *       copy (EASGD, asynchronous SGD) and asynchronous SGD's per-worker models;</li>
 *   <li>{@code workspaces}: per worker, the model's workspace for a batch ({@link ModelSpec#workspaceBytes});</li>
 *   <li>{@code queues}: per worker, the pool of {@code queueDepth + 2} batches between the reader and the worker.</li>
 * </ul>
 *
 * @param trainersHere the trainers this process runs (all of them for the embedded default)
 */
public record JobMemory(ModelSpec spec, JobConfig job, int trainersHere, long tables, long replicas, long workspaces, long queues) {
    /** Heap kept back from the estimate for the JVM, gRPC, the data reader and garbage not yet collected. */
    static final long BASE_BYTES = 64L << 20;
    /** Fraction of the heap a job may plan to fill: a heap that is all live data spends its time collecting. */
    static final double HEAP_FRACTION = 0.85;

    /**
     * The estimate for {@code trainersHere} trainers of {@code job} in one process, with the embedding tables here or
     * not (a trainer of a multi-process job reaches them on parameter servers).
     */
    public static JobMemory of(ModelSpec spec, DataSchema schema, OptimizerSpec opt, EmbeddingOptimizerSpec embOpt, JobConfig job,
                               int trainersHere, boolean tablesHere) {
        TrainerConfig tc = job.trainer();
        SyncSpec sync = job.sync();
        long dense = saturatingMul(4, spec.denseParameters());
        long tables = tablesHere ? tableBytes(spec, embOpt) : 0;
        long perReplica = saturatingMul(dense, 1 + optimizerState(opt) + syncState(sync, tc.workers(), job.trainers()));
        long replicas = saturatingMul(trainersHere, perReplica);
        AlgorithmDescriptor algo = sync.descriptor();
        if (algo.denseServer() && tablesHere) replicas = saturatingAdd(replicas, saturatingMul(dense, 1 + (algo.serverOptimizer() ? 1 + optimizerState(opt) : 0)));
        if (algo.serverOptimizer()) replicas = saturatingAdd(replicas, saturatingMul((long) trainersHere * tc.workers(), dense));
        long workers = (long) trainersHere * tc.workers();
        long workspaces = saturatingMul(workers, spec.workspaceBytes(tc.batchSize()));
        long pool = tc.queueDepth() + 2L;
        long perBatch = batchBytes(schema, tc.batchSize()) + 64;
        long queues = saturatingMul(workers, saturatingAdd(saturatingMul(pool, perBatch), 16 * (pool + 1)));
        return new JobMemory(spec, job, trainersHere, tables, replicas, workspaces, queues);
    }

    /**
     * The estimate for one parameter-server process of a multi-process job of {@code job.psShards()} such processes,
     * each holding {@code copies} shard copies (1, or the job's --ps-replicas): its share of the tables, and of the dense
     * server (EASGD's center, asynchronous SGD's parameters and their optimizer state).
     */
    public static JobMemory ofServer(ModelSpec spec, OptimizerSpec opt, EmbeddingOptimizerSpec embOpt, JobConfig job, int copies) {
        int shards = job.psShards();
        long tables = saturatingMul(share(tableBytes(spec, embOpt), shards), copies);
        SyncSpec sync = job.sync();
        long dense = saturatingMul(4, spec.denseParameters());
        long replicas = dense; // the model a server builds for the seeded initial values
        AlgorithmDescriptor algo = sync.descriptor();
        if (algo.denseServer()) {
            long perCopy = (1 + (algo.serverOptimizer() ? 1 + optimizerState(opt) : 0)) * (long) copies;
            replicas = saturatingAdd(replicas, saturatingMul(share(dense, shards), perCopy));
        }
        return new JobMemory(spec, job, 0, tables, replicas, 0, 0);
    }

    /** One of {@code shards} equal shares of {@code total}, rounded up. */
    private static long share(long total, int shards) {
        return total / shards + (total % shards == 0 ? 0 : 1);
    }

    /** The embedding tables of spec with their row optimizer's state, in bytes. */
    public static long tableBytes(ModelSpec spec, EmbeddingOptimizerSpec embOpt) {
        long n = 0;
        for (long[] s : spec.embeddingShapes()) {
            n = saturatingAdd(n, saturatingMul(4, saturatingMul(s[0], s[1])));
            if (embOpt != null && embOpt.name().equals("rowwise-adagrad")) n = saturatingAdd(n, 4 * s[0]);
        }
        return n;
    }

    /** Bytes a model of spec takes once built and loaded: dense parameters and tables (a model file being read). */
    public static long modelBytes(ModelSpec spec) {
        return saturatingAdd(saturatingMul(4, spec.denseParameters()), tableBytes(spec, null));
    }

    /** Floats of optimizer state per dense parameter. */
    static int optimizerState(OptimizerSpec opt) {
        return switch (opt.name()) {
            case "adam" -> 2;
            case "adagrad" -> 1;
            default -> opt.momentum() != 0 ? 1 : 0;
        };
    }

    /** Floats per dense parameter a trainer's synchronization keeps (snapshots, sums, BMUF's global model and momentum). */
    static int syncState(SyncSpec sync, int workers, int trainers) {
        return sync.descriptor().stateFloats(trainers, workers);
    }

    /** A pooled {@link io.shadowsync.data.Batch} of batchSize examples of schema (16 sparse features per example planned). */
    static long batchBytes(DataSchema schema, long batchSize) {
        long perExample = 4L * (1 + schema.numDense() + schema.numCat()) + (schema.sparse() ? 4 + 16 * 8 : 0);
        return saturatingMul(batchSize, perExample);
    }

    public long total() {
        return saturatingAdd(saturatingAdd(tables, replicas), saturatingAdd(workspaces, queues));
    }

    /**
     * Refuses a job that cannot fit a heap of {@code maxHeap} bytes ({@link Runtime#maxMemory()}), or whose batch
     * needs one array larger than Java allows, with one sentence: how much it needs against what there is, the flag
     * to lower, and how to raise the heap.
     *
     * @throws JobTooLargeException when it does not fit
     */
    public void check(long maxHeap) {
        long batch = job.trainer().batchSize();
        long widest = spec.widestBufferPerExample();
        if (trainersHere > 0 && widest > 0 && batch > (Integer.MAX_VALUE - 16) / widest) {
            throw new JobTooLargeException("--batch " + batch + " is too large for this model: one worker's buffer of " + batch + " × " + widest
                    + " floats would exceed the 2^31 elements a Java array holds; lower --batch to at most " + (Integer.MAX_VALUE - 16) / widest);
        }
        long need = total();
        long usable = (long) (maxHeap * HEAP_FRACTION) - BASE_BYTES;
        if (need <= usable) return;
        StringBuilder parts = new StringBuilder();
        part(parts, "embedding tables", tables);
        part(parts, trainersHere == 0 ? "dense server" : "dense replicas", replicas);
        part(parts, "worker workspaces", workspaces);
        part(parts, "batch queues", queues);
        throw new JobTooLargeException(String.format(Locale.ROOT,
                "%s needs about %s of heap (%s) but this JVM can use about %s of its %s: lower %s, or raise the heap (JAVA_OPTS=-Xmx%s)",
                trainersHere == 0 ? "a parameter server of this job" : trainersHere == job.trainers() ? "the job" : "a trainer of this job",
                human(need), parts, human(Math.max(0, usable)), human(maxHeap), flagToLower(), xmx(need)));
    }

    private static void part(StringBuilder b, String name, long bytes) {
        if (bytes == 0) return;
        if (!b.isEmpty()) b.append(", ");
        b.append(name).append(' ').append(human(bytes));
    }

    /** The flag whose part of the estimate is largest. */
    String flagToLower() {
        long max = Math.max(Math.max(tables, replicas), Math.max(workspaces, queues));
        TrainerConfig tc = job.trainer();
        if (max == tables) {
            String flag = spec.kind().equals("lr") ? "--hash-bits" : "--emb-rows (or --emb-dim)";
            return trainersHere == 0 ? flag + ", or spread the tables over more --ps-shards" : flag;
        }
        if (max == replicas) return trainersHere > 1 ? "--trainers (or the model's widths)" : spec.kind().equals("mlp") ? "--hidden" : "--bottom/--top";
        String more = trainersHere > 1 ? ", --workers or --trainers)" : " or --workers)";
        if (max == workspaces) return tc.workers() > 1 && tc.workers() >= tc.batchSize() ? "--workers (or --batch)" : "--batch (or" + more.substring(1);
        return tc.queueDepth() > 4 ? "--queue-depth" : "--batch (or" + more.substring(1);
    }

    /** The -Xmx that would fit {@code need} with the margin, in whole GiB (MiB below 1 GiB). */
    static String xmx(long need) {
        double heap = (need + BASE_BYTES) / HEAP_FRACTION;
        if (heap < (1L << 30)) return (long) Math.ceil(heap / (1 << 20)) + "m";
        return (long) Math.ceil(heap / (1L << 30)) + "g";
    }

    static String human(long bytes) {
        if (bytes == Long.MAX_VALUE) return "more than 8 EiB";
        if (bytes < 1L << 20) return String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
        if (bytes < 1L << 30) return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1 << 20));
        if (bytes < 1L << 40) return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        return String.format(Locale.ROOT, "%.1f TiB", bytes / (double) (1L << 40));
    }

    static long saturatingMul(long a, long b) {
        long hi = Math.multiplyHigh(a, b), lo = a * b;
        return (hi == 0 && lo >= 0) ? lo : Long.MAX_VALUE;
    }

    static long saturatingAdd(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }

    /** A job that cannot fit the heap (or a Java array); bad input, refused before anything is allocated. */
    public static final class JobTooLargeException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public JobTooLargeException(String message) {
            super(message);
        }
    }
}
