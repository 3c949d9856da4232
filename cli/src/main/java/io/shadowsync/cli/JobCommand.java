package io.shadowsync.cli;

import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.comm.Codec;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobMemory;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.MetricsLog;
import io.shadowsync.engine.SlowTrainer;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.kernels.Blas;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import io.shadowsync.kernels.Vec;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.net.run.CheckpointOptions;
import io.shadowsync.net.run.JobOptions;
import io.shadowsync.net.run.JobSummary;
import io.shadowsync.net.run.JobTerms;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The flags every command that runs (part of) a training job takes: {@code train}, and the multi-process
 * {@code launch}, {@code trainer} and {@code ps}, so that one job file or one command line describes the job
 * wherever it runs. {@link #plan} turns them into what the engine needs, refusing bad values with the flag's name.
 */
abstract class JobCommand {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "JOB.yaml", description = "Job file (YAML) with default values for the options below.")
    Path jobFile;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--train", paramLabel = "PATH", description = "Training data.")
    Path train;

    @Option(names = "--eval", paramLabel = "PATH", description = "Held-out data, evaluated after training.")
    Path eval;

    @Option(names = "--train-labels", paramLabel = "PATH", description = "IDX: label file of --train.")
    Path trainLabels;

    @Option(names = "--eval-labels", paramLabel = "PATH", description = "IDX: label file of --eval.")
    Path evalLabels;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--in-memory", description = "Parse the training data into memory before training and replay it every epoch, each worker "
            + "from its own contiguous shard (allows --shuffle).")
    boolean inMemory;

    @Option(names = "--stream", description = "Read the training data from disk every epoch, never keep it in memory.")
    boolean stream;

    @Option(names = "--input-splits", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            description = "Several trainers on text data: each reads and parses only its own byte range (input split), so that they "
                    + "parse the data once in all (default: on; see docs/formats.md).")
    Boolean inputSplits;

    @Option(names = "--no-input-splits", description = "Several trainers on text data: each reads all of it and keeps every N-th line "
            + "(N trainers parse the data N times), as before input splits.")
    boolean noInputSplits;

    @Option(names = "--cache-fraction", paramLabel = "F", description = "Without --in-memory or --stream: hold the training data in memory "
            + "when it would take at most this fraction of the maximum heap (estimated before reading it): plain files are loaded before "
            + "training (by a trainer process, its own input split), gzip files kept after their first pass (default: 0.25).")
    double cacheFraction = 0.25;

    @Option(names = "--shuffle", description = "With data loaded before training (--in-memory, or plain files that fit --cache-fraction): "
            + "visit the data in a new random order every epoch (default: file order).")
    boolean shuffle;

    @Option(names = "--trainers", paramLabel = "N", description = "Trainers, each with its own replica, workers and sync thread (default: 1).")
    int trainers = 1;

    @Option(names = "--sync", paramLabel = "ALGO", completionCandidates = SyncNames.class,
            description = "How trainers synchronize: ${COMPLETION-CANDIDATES} (s-*: shadow, in the background; fr-*: foreground; see docs/algorithms.md) "
                    + "(default: s-ma with several trainers, none with one).")
    String sync;

    /** The --sync names, from the algorithm registry: its help lists every registered algorithm. */
    static final class SyncNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return SyncAlgorithms.names().iterator();
        }
    }

    @Option(names = "--sync-every", paramLabel = "K", description = "Foreground algorithms: worker steps between rounds (default: 50).")
    int syncEvery = 50;

    @Option(names = "--sync-interval-ms", paramLabel = "MS", description = "Shadow algorithms: a fixed pause between rounds (default: 0, none: the sync thread paces itself by --sync-cpu).")
    long syncIntervalMs;

    @Option(names = "--sync-cpu", paramLabel = "F", description = "Shadow algorithms without --sync-interval-ms: after each round the sync thread waits "
            + "until it has taken at most this share of its trainer's CPU (its own CPU time against its workers' and reader's) and the workers have stepped; "
            + "1: as fast as it can (default: 0.05).")
    double syncCpu = io.shadowsync.sync.SyncSpec.DEFAULT_SYNC_CPU;

    @Option(names = "--bmuf-momentum", paramLabel = "MU", description = "BMUF block momentum (default: 1 - 1/N in the foreground, min(0.5, 1 - 1/N) in shadow mode).")
    Double bmufMomentum;

    @Option(names = "--bmuf-block-lr", paramLabel = "ZETA", description = "BMUF block learning rate (default: 1).")
    double bmufBlockLr = 1.0;

    @Option(names = "--nesterov", description = "BMUF: Nesterov block momentum.")
    boolean nesterov;

    @Option(names = "--easgd-alpha", paramLabel = "A", description = "EASGD elastic force (default: 0.5/N).")
    Double easgdAlpha;

    @Option(names = "--gossip-schedule", paramLabel = "S", description = "Gossip: who averages with whom each round: ring (alternating "
            + "left and right neighbour), hypercube (rank XOR 2^(round mod log2 N); off a power of two, a trainer without a partner sits the "
            + "round out) or random (a random pairing per round, the same on every trainer) (default: random).")
    String gossipSchedule = io.shadowsync.sync.GossipSchedule.DEFAULT.key();

    @Option(names = "--ps-shards", paramLabel = "S", description = "Parameter-server shards for the embedding tables (and the dense server) (default: 1).")
    int psShards = 1;

    @Option(names = "--ps-replicas", paramLabel = "R",
            description = "Multi-process jobs: copies of every parameter-server shard, on R of the --ps-shards processes (primary-backup; 1 to --ps-shards). "
                    + "A push is acknowledged once every live copy has it; when a server process dies, its shards' backups take over and "
                    + "no acknowledged update is lost (default: 1, no copies).")
    int psReplicas = 1;

    @Option(names = "--net-bandwidth", paramLabel = "BW", description = "Emulate links of this bandwidth between trainers and servers, e.g. 1gbit (default: none).")
    String netBandwidth = "inf";

    @Option(names = "--net-latency", paramLabel = "T", description = "Emulated one-way latency per message, e.g. 0.5ms (default: 0).")
    String netLatency = "0";

    @Option(names = {"--compress", "--codec"}, paramLabel = "CODEC", description = "How sync rounds, the rings, the dense server and "
            + "async-ps pushes put values on the wire: none (float32, exact), fp16 or bf16 (2 bytes a value), int8 (1 byte and a "
            + "scale per 256; int8:stochastic rounds stochastically) or topk:F (the fraction F of largest changes, with error "
            + "feedback); rounds send the change since the last round; not with elastic trainers (default: none).")
    String codec = "none";

    @Option(names = "--compress-rows", paramLabel = "CODEC", description = "How embedding rows travel to and from the parameter "
            + "servers, pulled values and pushed gradients alike: none (float32, exact), fp16 or bf16 (2 bytes a value) or int8 "
            + "(1 byte a value and a scale per row); the servers keep rows and optimizer state in float32. Separate from "
            + "--compress, which leaves rows alone (default: none).")
    String compressRows = "none";

    @Option(names = "--optimizer", paramLabel = "NAME", description = "Dense optimizer: sgd, adagrad or adam (default: sgd).")
    String optimizer = "sgd";

    @Option(names = "--lr", paramLabel = "LR", description = "Learning rate (default: 0.05 for mlp, 0.5 for lr and dlrm, as the PyTorch peer).")
    Double lr;

    @Option(names = "--momentum", paramLabel = "M", description = "SGD momentum (default: 0).")
    double momentum;

    @Option(names = "--emb-optimizer", paramLabel = "NAME", description = "Embedding optimizer: sgd or rowwise-adagrad (default: sgd with sgd, rowwise-adagrad otherwise).")
    String embOptimizer;

    @Option(names = "--emb-lr", paramLabel = "LR", description = "Embedding learning rate (default: --lr).")
    Double embLr;

    @Option(names = "--batch", paramLabel = "B", description = "Mini-batch size per worker (default: 64 for mlp, 128 otherwise).")
    Integer batch;

    @Option(names = "--epochs", paramLabel = "E", description = "Passes over the training data (default: 1).")
    int epochs = 1;

    @Option(names = "--examples", paramLabel = "N", description = "Train on N examples in total instead of whole epochs.")
    long examples;

    @Option(names = "--workers", paramLabel = "W", description = "Hogwild worker threads (default: 1).")
    int workers = 1;

    @Option(names = "--seed", paramLabel = "S", description = "Seed for initialization and the data split (default: 1234).")
    long seed = 1234;

    @Option(names = "--split", paramLabel = "HOW", description = "How examples are dealt to workers: round-robin, random or stratified (default: round-robin).")
    String split = "round-robin";

    @Option(names = "--queue-depth", paramLabel = "Q", description = "Full batches buffered per worker (default: 4).")
    int queueDepth = 4;

    @Option(names = "--train-window", paramLabel = "N", description = "Examples the sliding training metrics cover (default: 100000).")
    long trainWindow = 100_000;

    @Option(names = "--recompute-every", paramLabel = "K", description = "Activation checkpointing of the MLP stacks: keep every K-th hidden "
            + "layer's activation and recompute the others in backward (less memory per worker, the same gradients) (default: 1, keep all).")
    int recomputeEvery = 1;

    @Option(names = "--max-non-finite", paramLabel = "K", description = "Stop (exit 1) when a worker has K non-finite batches in a row: "
            + "the model has diverged; 0: never stop, only count them (default: " + TrainerConfig.DEFAULT_MAX_NON_FINITE + ").")
    int maxNonFinite = TrainerConfig.DEFAULT_MAX_NON_FINITE;

    @Option(names = "--eval-batch", paramLabel = "B", description = "Batch size for evaluation (default: 1024).")
    int evalBatch = 1024;

    @Option(names = "--save", paramLabel = "MODEL", description = "Write the trained model to this file (atomically).")
    Path save;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Also write the JSON summary to this file.")
    Path summaryJson;

    @Option(names = "--log-every", paramLabel = "SEC", description = "Seconds between progress lines when stderr is not a terminal (0 = none), "
            + "and between the records of --metrics (at least 0.1 there) (default: 5).")
    double logEvery = 5;

    @Option(names = "--metrics", paramLabel = "FILE", description = "Write the job's metrics into FILE while it trains, one JSON line per "
            + "trainer every --log-every seconds, and the --eval-every evaluations (see docs/metrics.md) (default: DIR/metrics.jsonl with --run-dir, else none).")
    Path metrics;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Create DIR and keep the run there: metrics.jsonl (--metrics), summary.json "
            + "(--summary-json) and job.yaml, the job's effective settings (a job file that runs it again).")
    Path runDir;

    @Option(names = "--eval-every", paramLabel = "N", description = "With --metrics: evaluate a copy of trainer 0's replica on --eval each time "
            + "the job has trained N more examples (all trainers), while it trains; 0: only after training (default: 0).")
    long evalEvery;

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "Serve the metrics for Prometheus at http://127.0.0.1:PORT/metrics "
            + "while the job trains, updated every --log-every seconds; in a multi-process job trainer R serves on PORT + R and parameter "
            + "server S on PORT + trainers + S (see docs/metrics.md).")
    Integer metricsPort;

    @Option(names = "--no-progress", description = "No progress bar or progress lines.")
    boolean noProgress;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Write checkpoints into DIR (ckpt-<seq>/ each), periodically with the options below and once more on SIGTERM/SIGINT before exiting. "
                    + "Multi-process jobs: every process must see DIR at the same absolute path (one host, or a shared file system).")
    Path checkpointDir;

    @Option(names = "--checkpoint-every-sec", paramLabel = "T", description = "A checkpoint every T seconds of training (multi-process: by trainer 0's clock) (default: none).")
    double checkpointEverySec;

    @Option(names = "--checkpoint-every-examples", paramLabel = "E", description = "A checkpoint every E examples trained, all trainers (default: none).")
    long checkpointEveryExamples;

    @Option(names = "--keep", paramLabel = "K", description = "Checkpoints kept in --checkpoint-dir, the newest (default: 3).")
    int keep = 3;

    @Option(names = "--checkpoint-max-failures", paramLabel = "N",
            description = "Stop the job (exit 1, the model so far kept in MODEL.partial) after N periodic checkpoints in a row could not be written; 0: never stop, only warn (default: 3).")
    int checkpointMaxFailures = io.shadowsync.ckpt.Checkpointer.DEFAULT_MAX_FAILURES;

    @Option(names = "--resume", description = "Continue from the newest good checkpoint in --checkpoint-dir (none there yet: start from the beginning, with a warning).")
    boolean resume;

    @Option(names = "--emulate-slow-trainer", paramLabel = "I:MS",
            description = "Testing: trainer I's workers sleep MS milliseconds per batch, an emulated straggler; I:MS:spin burns the time on the CPU instead (default: none).")
    String emulateSlowTrainer;

    /**
     * Data loaded once by a command that runs many jobs on it (tune): {@link #plan} takes these instead of opening
     * --train and --eval. Null otherwise.
     */
    DataSource sharedTrain;
    DataSource sharedEval;

    /** What the flags describe, ready for the engine. */
    record Plan(DataSource train, DataSource eval, ModelSpec modelSpec, OptimizerSpec opt,
                EmbeddingOptimizerSpec embOpt, String algorithm, SyncSpec sync, LinkModel link, TrainerConfig trainer,
                JobConfig job, int batchSize) {}

    /** Checks the flags and opens the data; {@code loadInMemory} false skips --in-memory loading (parameter servers). */
    Plan plan(PrintWriter err, boolean loadInMemory) throws Exception {
        checkMetricsFlags();
        checkCheckpointFlags();
        checkReplicas();
        if (train == null) throw new UsageException("no training data: give --train PATH (or 'train:' in a job file); 'shadowsync gen-data' makes synthetic CTR data");
        if (workers < 1) throw new UsageException("--workers must be at least 1, got " + workers);
        if (epochs < 1 && examples <= 0) throw new UsageException("--epochs must be at least 1, got " + epochs);
        if (examples < 0) throw new UsageException("--examples must be positive, got " + examples);
        int batchSize = batch != null ? batch : model.defaultBatch();
        if (batchSize < 1) throw new UsageException("--batch must be at least 1, got " + batchSize);

        if (sharedTrain == null) data.inferClasses(train, err);
        DataSource trainSource = sharedTrain != null ? sharedTrain : data.source(train, trainLabels, "--train", "--train-labels");
        ModelSpec modelSpec = model.spec(trainSource.schema());
        OptimizerSpec opt = OptimizerSpec.of(optimizer.toLowerCase(Locale.ROOT), lr != null ? lr : model.defaultLr()).withMomentum(momentum);
        EmbeddingOptimizerSpec embOpt = EmbeddingOptimizerSpec.defaultFor(opt);
        if (embOptimizer != null || embLr != null) {
            embOpt = new EmbeddingOptimizerSpec(embOptimizer != null ? embOptimizer.toLowerCase(Locale.ROOT) : embOpt.name(),
                    embLr != null ? embLr : embOpt.lr());
        }
        String algorithm = sync != null ? sync : SyncAlgorithms.defaultFor(trainers);
        // SyncSpec reads NaN as "the default": a NaN typed by the user must not pass for it
        if (bmufMomentum != null && bmufMomentum.isNaN()) throw new UsageException("--bmuf-momentum must be in [0, 1), got NaN");
        if (easgdAlpha != null && easgdAlpha.isNaN()) throw new UsageException("--easgd-alpha must be in (0, 1], got NaN");
        SyncSpec syncSpec = new SyncSpec(algorithm, syncEvery, syncIntervalMs, bmufMomentum != null ? bmufMomentum : Double.NaN,
                bmufBlockLr, nesterov, easgdAlpha != null ? easgdAlpha : Double.NaN, syncCpu);
        try {
            syncSpec = syncSpec.withGossipSchedule(io.shadowsync.sync.GossipSchedule.named(gossipSchedule));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--gossip-schedule: " + e.getMessage());
        }
        LinkModel link = LinkModel.parse(netBandwidth, netLatency);
        if (recomputeEvery < 1) throw new UsageException("--recompute-every must be at least 1 (1: keep every activation), got " + recomputeEvery);
        TrainerConfig cfg = new TrainerConfig(workers, batchSize, examples, epochs, DataSplit.parse(split), seed, queueDepth, trainWindow, shuffle,
                maxNonFinite, recomputeEvery);
        Codec wire;
        try {
            wire = Codec.named(codec);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--compress: " + e.getMessage());
        }
        RowCodec rows;
        try {
            rows = RowCodec.named(compressRows);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--compress-rows: " + e.getMessage());
        }
        JobConfig job = new JobConfig(trainers, cfg, syncSpec, psShards, link, slowTrainer(), wire, rows);
        checkMemory(modelSpec, trainSource, opt, embOpt, job); // before --in-memory fills the heap with the data
        if (inMemory && stream) throw new UsageException("--in-memory and --stream contradict each other; give one");
        if (!(cacheFraction >= 0 && cacheFraction <= 1)) throw new UsageException("--cache-fraction must be in [0, 1], got " + cacheFraction);
        if (noInputSplits && Boolean.TRUE.equals(inputSplits)) {
            throw new UsageException("--input-splits and --no-input-splits contradict each other; give one");
        }
        boolean splits = !noInputSplits && !Boolean.FALSE.equals(inputSplits);
        if (trainSource instanceof io.shadowsync.data.TextFiles files) {
            // fewer gzip files (each read whole) than trainers: some trainer's split would be empty
            String unsplittable = splits && trainers > 1 && !inMemory && !files.splitsInto(trainers)
                    ? train + " cannot be cut into " + trainers + " input splits: a gzip file is read whole by one trainer" : null;
            if (unsplittable != null && Boolean.TRUE.equals(inputSplits)) {
                throw new UsageException("--input-splits: " + unsplittable + "; give at least " + trainers + " files, or plain text, or --no-input-splits");
            }
            if (unsplittable != null) splits = false;
            // without input splits, each of several trainers reads all the data: nothing a trainer could keep alone
            if (!inMemory && !stream && loadInMemory && (splits || trainers == 1)) trainSource = cached(files, err);
            else if (!splits && trainers > 1) trainSource = files.unsplit();
            if (trainers > 1 && !inMemory && loadInMemory && !(trainSource instanceof InMemorySource) && !(trainSource instanceof io.shadowsync.data.OwnShare)) {
                err.println(splits
                        ? "shadowsync: each of the " + trainers + " trainers parses only its own input split of the training data (--no-input-splits: "
                                + "each reads all of it and keeps one example in " + trainers + ")"
                        : "shadowsync: each of the " + trainers + " trainers reads all the training data and keeps one example in " + trainers
                                + (unsplittable == null ? "" : " (" + unsplittable + ")"));
                err.flush();
            }
        }
        if (inMemory && loadInMemory && !(trainSource instanceof InMemorySource)) {
            long t0 = System.nanoTime();
            InMemorySource loaded = load(trainSource);
            trainSource = loaded;
            err.println(String.format(Locale.ROOT, "shadowsync: loaded %,d training examples into memory in %.1f s", loaded.size(), (System.nanoTime() - t0) / 1e9));
        }
        DataSource evalSource = sharedEval != null ? sharedEval : eval == null ? null : data.source(eval, evalLabels, "--eval", "--eval-labels");
        if (evalSource != null && !evalSource.schema().equals(trainSource.schema())) {
            throw new UsageException("--eval data has a different layout than --train data: " + evalSource.schema() + " vs " + trainSource.schema());
        }
        return new Plan(trainSource, evalSource, modelSpec, opt, embOpt, algorithm, syncSpec, link, cfg, job, batchSize);
    }

    /**
     * The training data, when this process's part of it (all of it in train, a trainer's input split in a trainer
     * process) would take at most --cache-fraction of the heap: loaded into memory before training where its size is
     * known up front ({@link #loadsUpFront}), else kept in memory after its first pass; otherwise the files as they are
     * (streamed every epoch). Says which on stderr, in one line.
     */
    private DataSource cached(io.shadowsync.data.TextFiles files, PrintWriter err) throws java.io.IOException {
        long heap = Runtime.getRuntime().maxMemory();
        long budget = (long) (cacheFraction * heap);
        long whole = io.shadowsync.data.CachedSource.estimateBytes(files);
        long mine = wholeJobHere() ? whole : whole / trainers; // a trainer process keeps its own split
        boolean keep = mine <= budget && budget > 0;
        if (keep && loadsUpFront(files)) {
            long t0 = System.nanoTime();
            int part = wholeJobHere() ? -1 : ownSplit();
            InMemorySource loaded = load(part < 0 ? files : files.share(part, trainers));
            err.println(String.format(Locale.ROOT, "shadowsync: loaded %s into memory before training (%,d examples, about %,d MiB, "
                            + "parsed in %.1f s by %d threads; --cache-fraction %s of the %,d MiB heap; --stream to read it from disk every epoch)",
                    part < 0 ? "the training data" : "this trainer's input split (part " + part + " of " + trainers + ") of the training data",
                    loaded.size(), mine >> 20, (System.nanoTime() - t0) / 1e9, loadThreads(), cacheFraction, heap >> 20));
            err.flush();
            return part < 0 ? loaded : new io.shadowsync.data.OwnShare(loaded);
        }
        err.println(String.format(Locale.ROOT, keep
                        ? "shadowsync: the training data (about %,d MiB in memory) will be kept in memory after its first pass (--cache-fraction %s of the %,d MiB heap; --stream to read it from disk every epoch)"
                        : "shadowsync: streaming the training data from disk every epoch: about %,d MiB in memory is more than --cache-fraction %s of the %,d MiB heap (--in-memory to load it anyway)",
                mine >> 20, cacheFraction, heap >> 20));
        err.flush();
        return keep ? new io.shadowsync.data.CachedSource(files, Math.max(1, wholeJobHere() ? budget : budget * trainers)) : files;
    }

    /**
     * Whether data that fits the heap share is loaded before training rather than kept after its first pass: where this
     * process runs the whole job (train), or is a trainer process that knows its input split for good
     * ({@link #ownSplit}: it parses that split alone, before training, as train parses the whole), the files are plain
     * (their size is known up front, and they parse in parallel by byte ranges; a gzip file's size is an estimate until
     * read), and --resume does not continue a checkpoint written with the data kept or streamed (its positions are
     * streamed ones: that run is continued so) or, in a trainer process, with the whole data loaded (--in-memory).
     */
    private boolean loadsUpFront(io.shadowsync.data.TextFiles files) throws java.io.IOException {
        if (!(wholeJobHere() || ownSplit() >= 0) || !files.plain()) return false;
        if (!resume || checkpointDir == null) return true;
        try {
            return new CheckpointDir(checkpointDir, keep).newestSettings()
                    .map(m -> !"false".equals(m.get("in-memory"))
                            // one trainer's split is all of it: --in-memory's checkpoint and the split's read alike
                            && (wholeJobHere() || trainers == 1 || "input-splits".equals(m.get("trainer-shares")))).orElse(true);
        } catch (java.io.IOException | RuntimeException unreadable) {
            return true; // the resume itself names what is wrong with the directory
        }
    }

    /**
     * In a trainer process, the input split it trains for the whole run (its rank), which it may therefore load alone
     * before training; -1 where it cannot know it (an elastic trainer may take over another's share) and in commands
     * that are not one trainer.
     */
    int ownSplit() {
        return -1;
    }

    /** Threads that parse data loaded into memory: one per core. */
    private static int loadThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * All of source parsed into memory, by {@link #loadThreads} threads when it splits into byte ranges; then one
     * collection of the whole heap, so that the loaded examples (young objects still, just allocated) are moved to the
     * old generation once, as part of the load, rather than copied between survivor spaces and promoted by the young
     * collections that the training's own garbage sets off (those pauses, 5–300 ms each depending on what they had to
     * copy and how much new heap they touched, made a short job's training time vary by half). A JVM run with
     * -XX:+DisableExplicitGC skips it.
     */
    private static InMemorySource load(DataSource source) throws java.io.IOException {
        InMemorySource loaded = source instanceof io.shadowsync.data.SplittableSource s && !(source instanceof io.shadowsync.data.CachedSource)
                ? InMemorySource.load(s, loadThreads()) : InMemorySource.load(source);
        System.gc();
        return loaded;
    }

    /**
     * Refuses, before anything is allocated, a job whose part in one process of this command cannot fit the heap:
     * train runs every trainer and the tables; a trainer process one trainer; a ps process its share of the tables;
     * launch checks both kinds of child, which run with this JVM's heap flags.
     */
    private void checkMemory(ModelSpec modelSpec, DataSource source, OptimizerSpec opt, EmbeddingOptimizerSpec embOpt, JobConfig job) {
        long heap = Runtime.getRuntime().maxMemory();
        String command = spec.name();
        if (wholeJobHere()) {
            JobMemory.of(modelSpec, source.schema(), opt, embOpt, job, trainers, true).check(heap);
            return;
        }
        if (!command.equals("ps")) JobMemory.of(modelSpec, source.schema(), opt, embOpt, job, 1, false).check(heap);
        if (!command.equals("trainer")) JobMemory.ofServer(modelSpec, opt, embOpt, job, psReplicas).check(heap);
    }

    /** --emulate-slow-trainer I:MS, checked against --trainers; null when not given. */
    private SlowTrainer slowTrainer() {
        if (emulateSlowTrainer == null) return null;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9}):(\\d{1,9})(:spin)?").matcher(emulateSlowTrainer.strip());
        if (!m.matches()) {
            throw new UsageException("--emulate-slow-trainer takes I:MS, a trainer's rank and the milliseconds its workers sleep per batch "
                    + "(e.g. 1:20; 1:20:spin to spin instead), got '" + emulateSlowTrainer + "'");
        }
        int rank = Integer.parseInt(m.group(1));
        long ms = Long.parseLong(m.group(2));
        if (rank >= trainers) {
            throw new UsageException("--emulate-slow-trainer names trainer " + rank + ", but the job's trainers are 0.." + (trainers - 1));
        }
        if (ms < 1) throw new UsageException("--emulate-slow-trainer: a slow trainer sleeps at least 1 ms per batch, got " + ms);
        return new SlowTrainer(rank, ms, m.group(3) != null);
    }

    /** --ps-replicas: 1 to --ps-shards (each server process holds at most one copy of a shard), multi-process jobs only. */
    private void checkReplicas() {
        if (psReplicas < 1) throw new UsageException("--ps-replicas must be at least 1 (1: no copies), got " + psReplicas);
        if (psReplicas > psShards) {
            throw new UsageException("--ps-replicas " + psReplicas + " is more than --ps-shards " + psShards + ": each parameter-server "
                    + "process holds at most one copy of a shard, so a job of " + psShards + " server(s) keeps at most " + psShards + " copies");
        }
        if (psReplicas > 1 && checkpointDir != null) {
            throw new UsageException("--ps-replicas above 1 and --checkpoint-dir do not go together yet: a server writes and restores its own "
                    + "shard, not the backups it holds; pick one");
        }
        if (psReplicas > 1 && wholeJobHere()) {
            throw new UsageException("--ps-replicas is for multi-process jobs ('shadowsync launch', 'ps', 'trainer'): in 'train' the "
                    + "parameter servers live in the trainers' process and cannot outlive it");
        }
    }

    /** Whether this command serves the live dashboard (train --dashboard), which takes the metrics records too. */
    boolean dashboard() {
        return false;
    }

    /**
     * Flags this command has no use for (tune and cv: outputs and data it sets itself): refused when given on the
     * command line ({@code flag + why}); a job file's value is dropped, with a note, so that a train job file serves.
     */
    void dropFlags(List<String> flags, String why, PrintWriter err) {
        for (String flag : flags) {
            picocli.CommandLine.Model.OptionSpec o = spec.findOption(flag);
            Object v = o.getValue();
            if (v == null || Boolean.FALSE.equals(v) || v instanceof Number n && n.doubleValue() == 0) continue;
            if (spec.commandLine().getParseResult().hasMatchedOption(flag)) throw new UsageException(flag + why);
            err.println("shadowsync " + spec.name() + ": note: the job file's '" + flag.substring(2) + ": " + v + "' is not used here");
            Class<?> t = o.type();
            o.setValue(t == boolean.class ? Boolean.FALSE : t == long.class ? (Object) 0L : t == int.class ? (Object) 0 : t == double.class ? (Object) 0.0 : null);
        }
    }

    /** Whether this command runs whole jobs in this process, every trainer and the tables (train, tune, cv). */
    boolean wholeJobHere() {
        return !(spec.name().equals("launch") || spec.name().equals("trainer") || spec.name().equals("ps") || spec.name().equals("node"));
    }

    /**
     * --metrics, --run-dir, --log-every and --eval-every: sensible values, in the commands that write metrics. tune
     * logs each trial's metrics into its own directory.
     */
    void checkMetricsFlags() {
        boolean tune = spec.name().equals("tune");
        boolean logging = metrics != null || runDir != null || tune || dashboard() || metricsPort != null;
        boolean train = spec.name().equals("train") || tune;
        if (metricsPort != null) {
            int last = metricsPort + (train ? 0 : trainers + psShards - 1);
            if (metricsPort < 1 || last > 65535) {
                throw new UsageException("--metrics-port " + metricsPort + ": the ports " + (train ? "" : "PORT .. PORT + trainers + ps-shards − 1 ")
                        + "must lie in 1..65535");
            }
        }
        if (!train && (runDir != null || evalEvery != 0)) {
            throw new UsageException("--run-dir and --eval-every are for 'shadowsync train' so far; a multi-process job takes --metrics FILE, "
                    + "and each trainer process writes FILE.trainer-R.jsonl (a parameter server none)");
        }
        if (!(logEvery >= 0) || Double.isInfinite(logEvery)) throw new UsageException("--log-every must be zero (no progress lines) or positive seconds, got " + logEvery);
        if (logging && logEvery < MetricsLog.MIN_INTERVAL.toMillis() / 1000.0) {
            throw new UsageException("--log-every must be at least " + MetricsLog.MIN_INTERVAL.toMillis() / 1000.0 + " seconds with --metrics, --run-dir or --dashboard, got " + logEvery);
        }
        if (evalEvery < 0) throw new UsageException("--eval-every must be zero (only after training) or a positive number of examples, got " + evalEvery);
        if (evalEvery > 0 && (eval == null || !logging)) {
            throw new UsageException("--eval-every needs --eval DATA to evaluate on and --metrics FILE (or --run-dir DIR, or --dashboard) to log it");
        }
    }

    /**
     * Where a trainer process of a multi-process job writes its metrics: --metrics FILE with its rank before the
     * extension ({@code m.jsonl} becomes {@code m.trainer-1.jsonl}), so that the trainers launch starts with one
     * command line write one file each.
     */
    static Path trainerMetrics(Path file, int rank) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String mine = dot > 0 ? name.substring(0, dot) + ".trainer-" + rank + name.substring(dot) : name + ".trainer-" + rank;
        return file.resolveSibling(mine);
    }

    /**
     * --metrics-port: this process's Prometheus endpoint on PORT + offset (a trainer's rank; trainers + its shard for a
     * parameter server), labelled role and the given labels; null without the flag. A port that cannot be bound is refused.
     */
    io.shadowsync.cli.prom.PrometheusEndpoint metricsEndpoint(int offset, String role, String... labels) {
        if (metricsPort == null) return null;
        try {
            return io.shadowsync.cli.prom.PrometheusEndpoint.start(metricsPort + offset, role, labels);
        } catch (java.io.IOException e) {
            throw new UsageException("--metrics-port " + metricsPort + ": " + e.getMessage());
        }
    }

    /** Checkpoint flags: sensible values, and a directory when they need one. */
    private void checkCheckpointFlags() {
        if (!(checkpointEverySec >= 0) || Double.isInfinite(checkpointEverySec)) {
            throw new UsageException("--checkpoint-every-sec must be zero (none) or positive, got " + checkpointEverySec);
        }
        if (checkpointEveryExamples < 0) throw new UsageException("--checkpoint-every-examples must be zero (none) or positive, got " + checkpointEveryExamples);
        if (keep < 1) throw new UsageException("--keep must be at least 1 (the newest checkpoint), got " + keep);
        if (checkpointMaxFailures < 0) {
            throw new UsageException("--checkpoint-max-failures must be zero (never stop) or positive, got " + checkpointMaxFailures);
        }
        if (checkpointDir == null && (resume || checkpointEverySec > 0 || checkpointEveryExamples > 0)) {
            throw new UsageException((resume ? "--resume needs" : "periodic checkpoints need") + " --checkpoint-dir DIR");
        }
    }

    /**
     * The settings a checkpoint records and a resumed run must match ({@link JobTerms#checkpointSettings}): everything
     * that shapes the model, the optimizers, the synchronization and the data positions. The budget (--epochs,
     * --examples) may change: the run goes on to the new total.
     */
    Map<String, String> checkpointSettings(Plan plan) {
        // the data loaded before training by default reads as --in-memory's does: its positions are shard positions
        return JobTerms.checkpointSettings(trainingJob(plan), inMemory || plan.train() instanceof InMemorySource, trainFingerprint());
    }

    /** --train's fingerprint (and --train-labels'), as checkpoints record it. */
    String trainFingerprint() {
        return dataFingerprint(train) + (trainLabels == null ? "" : "; labels " + dataFingerprint(trainLabels));
    }

    /** The job the flags describe, as the library takes it (model, optimizers, data, the engine's configuration, seed). */
    TrainingJob trainingJob(Plan plan) {
        return trainingJobBuilder(plan).build();
    }

    /** {@link #trainingJob}'s builder, for a command that adds to it (tune, cv). */
    TrainingJob.Builder trainingJobBuilder(Plan plan) {
        TrainerConfig t = plan.trainer();
        JobConfig c = plan.job();
        return TrainingJob.builder().data(plan.train()).eval(plan.eval()).model(plan.modelSpec()).optimizer(plan.opt())
                .embeddingOptimizer(plan.embOpt()).trainers(c.trainers()).workers(t.workers()).sync(c.sync()).batchSize(t.batchSize())
                .epochs(t.epochs()).examples(t.examples()).seed(seed).split(t.split()).shuffle(t.shuffle()).psShards(c.psShards())
                .maxNonFinite(t.maxNonFinite()).recomputeEvery(t.recomputeEvery()).queueDepth(t.queueDepth()).trainWindow(t.trainWindow()).link(c.link())
                .slowTrainer(c.slow()).codec(c.codec()).compressRows(c.rowCodec().name());
    }

    /** What every process of a multi-process job is given alike: replicas, in-memory data, checkpoints, elastic trainers. */
    JobOptions jobOptions(NetOptions net) {
        CheckpointOptions ck = checkpointDir == null ? null
                : new CheckpointOptions(checkpointDir, keep, checkpointEverySec, checkpointEveryExamples, checkpointMaxFailures, resume);
        return new JobOptions(psReplicas, inMemory, ck, net.elastic ? net.stragglerTimeout() : null);
    }

    /**
     * What tells one training file from another of the same layout: {@link DataSource#fileFingerprint}, its size and the
     * CRC32C of its first MiB (not its name or modification time: a copied or moved file is the same data); of a
     * directory or glob, the fingerprints of its files ({@link io.shadowsync.data.TextFiles#fingerprint}).
     */
    static String dataFingerprint(Path file) {
        try {
            return io.shadowsync.data.TextFiles.fingerprint(io.shadowsync.data.TextFiles.expand(file));
        } catch (java.io.IOException e) {
            throw new UsageException(file + ": cannot read it to fingerprint the training data: " + Main.describe(e));
        }
    }

    /**
     * --checkpoint-dir taken for this job (one writer at a time: train, or a multi-process job's trainer 0), or null
     * without one; a directory another job holds is refused (exit 2) naming its pid and host.
     */
    CheckpointDir.Lock lockCheckpoints() throws java.io.IOException {
        if (checkpointDir == null) return null;
        try {
            return new CheckpointDir(checkpointDir, keep).lock();
        } catch (CheckpointDir.LockedException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** MODEL.partial beside --save MODEL, where what was trained is kept when training fails; null for a special file. */
    static Path partialOf(Path save) {
        if (save == null || Outputs.isStdout(save)) return null;
        if (java.nio.file.Files.exists(save) && !java.nio.file.Files.isRegularFile(save)) return null; // /dev/null: nothing to keep
        if (save.toAbsolutePath().normalize().startsWith("/dev")) return null;
        return save.resolveSibling(save.getFileName() + ".partial");
    }

    /**
     * Before any work: every output can be written, none is an input, no two are the same file (real paths, links
     * followed); and the evaluation data can be read, so that a finished training run is not lost to it afterwards.
     */
    void checkFiles() {
        new Outputs().input("--train", train).input("--train-labels", trainLabels).input("--eval", eval).input("--eval-labels", evalLabels)
                .input("JOB.yaml", jobFile).output("--save", save).output("--summary-json", summaryJson).output("--metrics", metrics)
                .output("--save (its MODEL.partial)", partialOf(save))
                .check();
        if (save != null && Outputs.isStdout(save)) throw new UsageException("--save needs a file (a model file is binary), not standard output ('" + save + "')");
    }

    /** The job's JSON summary (everything but eval and saved), from the per-trainer results of the whole job. */
    Map<String, Object> summary(Plan plan, JobResult result) {
        return JobSummary.of(trainingJob(plan), result, netBandwidth + " / " + netLatency);
    }

    /** The line printed on stderr when training starts. */
    String banner(Plan plan, Model net) {
        long[][] shapes = net.embeddingShapes();
        return "shadowsync " + Version.get() + ": " + plan.modelSpec().kind() + " model, " + String.format(Locale.ROOT, "%,d", net.dense().size())
                + " dense parameters, " + String.format(Locale.ROOT, "%,d", embeddingValues(shapes)) + " embedding values; "
                + trainers + " trainer(s) x " + workers + " worker(s), sync " + plan.algorithm() + ", batch " + plan.batchSize() + ", "
                + plan.opt().name() + " lr " + plan.opt().lr()
                + (plan.link().isIdeal() ? "" : ", emulated network " + netBandwidth + " / " + netLatency);
    }

    static long embeddingValues(long[][] shapes) {
        long n = 0;
        for (long[] s : shapes) n += s[0] * s[1];
        return n;
    }
}
