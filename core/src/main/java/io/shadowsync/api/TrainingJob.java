package io.shadowsync.api;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.MetricsLog;
import io.shadowsync.engine.SlowTrainer;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.metrics.JsonlMetricsFile;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.metrics.MetricsSink;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training job configured from Java: the embedded form of {@code shadowsync train}, every trainer in this JVM.
 *
 * <pre>{@code
 * TrainingResult r = TrainingJob.builder()
 *         .data(new CriteoTsvSource(Path.of("train.tsv"), false))
 *         .eval(new CriteoTsvSource(Path.of("eval.tsv"), false))
 *         .trainers(4).workers(2).sync("s-ma")
 *         .build().run();
 * r.model().save(Path.of("model.bin"));
 * }</pre>
 *
 * Only the data is required. The defaults are those of {@code shadowsync train}: the model fits the data (DLRM for
 * dense and categorical features with binary labels, logistic regression for other binary data, an MLP for dense
 * features only), SGD at learning rate 0.5 (0.05 for an MLP), batches of 128 (64 for an MLP), one trainer with one
 * worker, one epoch, seed 1234; with several trainers they synchronize by shadow model averaging ({@code s-ma}).
 * {@link Builder#build()} refuses settings that cannot work with a sentence naming the setting.
 *
 * <p>A built job is an immutable description: every {@link #run()} trains a new model from the seeded start.
 */
public final class TrainingJob {
    private final DataSource data;
    private final DataSource eval;
    private final ModelSpec model;
    private final OptimizerSpec optimizer;
    private final EmbeddingOptimizerSpec embeddingOptimizer;
    private final JobConfig config;
    private final long seed;
    private final Path metricsFile;
    private final Duration logEvery;
    private final MetricsSink metricsListener;
    private final long evalEvery;

    private TrainingJob(Builder b, ModelSpec model, OptimizerSpec optimizer, EmbeddingOptimizerSpec embeddingOptimizer, JobConfig config) {
        this.data = b.data;
        this.eval = b.eval;
        this.model = model;
        this.optimizer = optimizer;
        this.embeddingOptimizer = embeddingOptimizer;
        this.config = config;
        this.seed = b.seed;
        this.metricsFile = b.metricsFile;
        this.logEvery = b.logEvery;
        this.metricsListener = b.metricsListener;
        this.evalEvery = b.evalEvery;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Trains, evaluates on the evaluation data when there is one, and returns the model with its provenance. A failure
     * inside training (bad data, a diverged model) ends every thread of the job and is thrown as a
     * {@link io.shadowsync.engine.TrainingException}.
     */
    public TrainingResult run() throws IOException, InterruptedException {
        return run(new RunControl());
    }

    /**
     * As {@link #run()}, and {@code control} lets another thread end the run early (a tuner stopping a trial that has
     * fallen behind): the model trained until then is evaluated and returned.
     */
    public TrainingResult run(RunControl control) throws IOException, InterruptedException {
        Job job = new Job(model, seed, optimizer, embeddingOptimizer, data, config);
        control.attach(job);
        JobResult result;
        Metrics metrics;
        try (MetricsRun log = new MetricsRun(job)) {
            try {
                result = job.run();
            } finally {
                log.finish();
            }
            Evaluator.Result ev = eval == null ? null : Evaluator.evaluate(job.model(), job.tables(), eval, 1024);
            if (ev != null) log.eval(ev);
            metrics = ev == null ? null : ev.metrics();
        }
        TrainedModel trained = new TrainedModel(job.model(), job.tables(), null);
        TrainingResult r = new TrainingResult(trained, result, metrics);
        return new TrainingResult(trained.withProvenance(provenance(r)), result, metrics);
    }

    /** The metrics log of one run ({@link Builder#metrics}, {@link Builder#metricsListener}); inert without either. */
    private final class MetricsRun implements AutoCloseable {
        private final JsonlMetricsFile file;
        private final MetricsLog log;

        MetricsRun(Job job) throws IOException {
            List<MetricsSink> sinks = new java.util.ArrayList<>();
            file = metricsFile == null ? null : new JsonlMetricsFile(metricsFile);
            if (file != null) sinks.add(file);
            if (metricsListener != null) sinks.add(metricsListener);
            MetricsLog.EvalPlan during = eval != null && evalEvery > 0 ? new MetricsLog.EvalPlan(eval, evalEvery, 1024) : null;
            log = sinks.isEmpty() ? null : new MetricsLog(job, logEvery, sinks, during);
            if (log != null) log.start();
        }

        void finish() throws InterruptedException {
            if (log != null) log.finish();
        }

        void eval(Evaluator.Result ev) {
            if (log != null) log.logEval(ev, true);
        }

        @Override
        public void close() throws IOException {
            if (file != null) file.close();
        }
    }

    /** The training data. */
    public DataSource data() {
        return data;
    }

    /** The held-out data evaluated after training, or null. */
    public DataSource eval() {
        return eval;
    }

    /** The seed of the initialization and the data split. */
    public long seed() {
        return seed;
    }

    /** The model this job trains (given, or the default for the data). */
    public ModelSpec model() {
        return model;
    }

    /** The engine's configuration of this job: trainers, each trainer's settings, synchronization. */
    public JobConfig config() {
        return config;
    }

    public OptimizerSpec optimizer() {
        return optimizer;
    }

    public EmbeddingOptimizerSpec embeddingOptimizer() {
        return embeddingOptimizer;
    }

    /** The settings that describe this job, as recorded in the provenance of the models it trains. */
    public Map<String, String> settings() {
        Map<String, String> m = new LinkedHashMap<>();
        new TreeMap<>(model.toProperties()).forEach((k, v) -> m.put("model." + k, v));
        optimizer.toMap().forEach((k, v) -> m.put("optimizer." + k, String.valueOf(v)));
        embeddingOptimizer.toMap().forEach((k, v) -> m.put("emb-optimizer." + k, String.valueOf(v)));
        TrainerConfig t = config.trainer();
        m.put("sync", config.sync().algorithm());
        m.put("trainers", Integer.toString(config.trainers()));
        m.put("workers", Integer.toString(t.workers()));
        m.put("batch", Integer.toString(t.batchSize()));
        if (t.examples() > 0) m.put("examples", Long.toString(t.examples()));
        else m.put("epochs", Integer.toString(t.epochs()));
        m.put("seed", Long.toString(seed));
        m.put("split", t.split().label());
        m.put("shuffle", Boolean.toString(t.shuffle()));
        m.put("ps-shards", Integer.toString(config.psShards()));
        m.put("data", data.schema().toString());
        return m;
    }

    private Provenance provenance(TrainingResult r) {
        String fingerprint;
        try {
            fingerprint = data.fingerprint();
        } catch (IOException | RuntimeException e) {
            fingerprint = "(unavailable: " + e.getMessage() + ")";
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("examples", (double) r.examples());
        metrics.put("seconds", r.job().seconds());
        metrics.put("examples_per_sec", r.examplesPerSecond());
        if (Double.isFinite(r.trainLoss())) metrics.put("train_loss", r.trainLoss());
        if (r.eval() != null) {
            r.eval().toMap().forEach((k, v) -> {
                if (v instanceof Number n) metrics.put("eval." + k, n.doubleValue());
            });
        }
        Map<String, String> other = new LinkedHashMap<>();
        other.put("jvm", Runtime.version().toString());
        if (eval != null) other.put("eval_data", eval.describe());
        return new Provenance(Provenance.currentVersion(), Instant.now(), config.sync().algorithm(), config.trainers(),
                config.trainer().workers(), data.describe(), fingerprint, settings(), metrics, other);
    }

    /** Collects a job's settings; {@link #build()} checks them. Not thread-safe (a builder belongs to one thread). */
    public static final class Builder {
        private DataSource data;
        private DataSource eval;
        private ModelSpec model;
        private OptimizerSpec optimizer;
        private Double learningRate;
        private EmbeddingOptimizerSpec embeddingOptimizer;
        private int trainers = 1;
        private int workers = 1;
        private SyncSpec sync;
        private Integer batchSize;
        private int epochs = 1;
        private long examples;
        private long seed = 1234;
        private DataSplit split = DataSplit.ROUND_ROBIN;
        private boolean shuffle;
        private int psShards = 1;
        private int maxNonFinite = TrainerConfig.DEFAULT_MAX_NON_FINITE;
        private int recomputeEvery = 1;
        private int queueDepth = 4;
        private long trainWindow = 100_000;
        private LinkModel link = LinkModel.NONE;
        private SlowTrainer slowTrainer;
        private Codec codec = Codec.FLOAT32;
        private RowCodec rowCodec = RowCodec.FLOAT32;
        private Path metricsFile;
        private Duration logEvery = MetricsLog.DEFAULT_INTERVAL;
        private MetricsSink metricsListener;
        private long evalEvery;

        private Builder() {}

        /**
         * Write the metrics log (docs/metrics.md) into this JSON Lines file while the job runs: a record per trainer every
         * {@link #logEvery}, and the evaluation after training (null: none).
         */
        public Builder metrics(Path file) {
            this.metricsFile = file;
            return this;
        }

        /** Time between the metrics records of each trainer (default 5 s; at least 100 ms). */
        public Builder logEvery(Duration interval) {
            this.logEvery = interval;
            return this;
        }

        /**
         * Receives every metrics record as it is written (on the job's metrics thread; keep it quick), with or without
         * a {@link #metrics} file (null: none). A listener that throws receives nothing more; training goes on.
         */
        public Builder metricsListener(MetricsSink listener) {
            this.metricsListener = listener;
            return this;
        }

        /**
         * With a metrics file or listener and {@link #eval} data: evaluate a copy of trainer 0's replica each time the
         * job has trained this many more examples, while it trains, as {@code "eval"} records (0, the default: only
         * after training).
         */
        public Builder evalEvery(long examples) {
            this.evalEvery = examples;
            return this;
        }

        /** The training data (required). Wrap it in {@link io.shadowsync.data.InMemorySource#load} to read it once. */
        public Builder data(DataSource train) {
            this.data = train;
            return this;
        }

        /** Held-out data of the same layout, evaluated after training (default: none). */
        public Builder eval(DataSource eval) {
            this.eval = eval;
            return this;
        }

        /** The model (default: fitted to the data, see the class comment), e.g. {@code new DlrmSpec(13, 26, 100_000, 16, new int[] {64}, new int[] {64})}. */
        public Builder model(ModelSpec model) {
            this.model = model;
            return this;
        }

        /** The dense optimizer (default: SGD); its learning rate is replaced by {@link #learningRate} when that is given too. */
        public Builder optimizer(OptimizerSpec optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** The dense optimizer's learning rate (default: 0.5, 0.05 for an MLP). */
        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        /** The optimizer of the embedding tables (default: SGD with SGD, row-wise Adagrad otherwise, at the dense rate). */
        public Builder embeddingOptimizer(EmbeddingOptimizerSpec embeddingOptimizer) {
            this.embeddingOptimizer = embeddingOptimizer;
            return this;
        }

        /** Trainers, each with its own replica, Hogwild workers and sync thread (default: 1). */
        public Builder trainers(int trainers) {
            this.trainers = trainers;
            return this;
        }

        /** Hogwild worker threads per trainer (default: 1). */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** The synchronization algorithm by name with its default settings: s-ma, s-bmuf, fr-ma, sync-sgd, ... (see {@link SyncSpec}). */
        public Builder sync(String algorithm) {
            if (algorithm == null) throw new IllegalArgumentException("sync(algorithm): give an algorithm name, e.g. \"s-ma\", or \"none\"");
            this.sync = SyncSpec.of(algorithm);
            return this;
        }

        /** The synchronization algorithm and its settings (default: s-ma with several trainers, none with one). */
        public Builder sync(SyncSpec sync) {
            this.sync = sync;
            return this;
        }

        /** Examples per mini-batch, per worker (default: 128, 64 for an MLP). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Passes over the training data (default: 1). */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Train on this many examples in total instead of whole epochs (default: 0, whole epochs). */
        public Builder examples(long examples) {
            this.examples = examples;
            return this;
        }

        /** Seeds the initialization and the data split (default: 1234). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** How examples are dealt out to the workers (default: round-robin). */
        public Builder split(DataSplit split) {
            this.split = split;
            return this;
        }

        /** In-memory data: a new random order every epoch (default: file order). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Parameter-server shards holding the embedding tables (default: 1). */
        public Builder psShards(int psShards) {
            this.psShards = psShards;
            return this;
        }

        /**
         * Activation checkpointing of the MLP stacks (MLP, DLRM's bottom and top): keep every k-th hidden activation
         * and recompute the others in backward; less memory per worker, the same gradients (default 1: keep all).
         */
        public Builder recomputeEvery(int k) {
            this.recomputeEvery = k;
            return this;
        }

        /** Stop when a worker has this many non-finite batches in a row; 0 never stops (default: 50). */
        public Builder maxNonFinite(int maxNonFinite) {
            this.maxNonFinite = maxNonFinite;
            return this;
        }

        /** Full batches buffered per worker between the reader and the worker (default: 4). */
        public Builder queueDepth(int queueDepth) {
            this.queueDepth = queueDepth;
            return this;
        }

        /** Examples the sliding training metrics cover (default: 100,000). */
        public Builder trainWindow(long trainWindow) {
            this.trainWindow = trainWindow;
            return this;
        }

        /** Emulated links between the trainers and the servers (default: {@link LinkModel#NONE}, no emulation). */
        public Builder link(LinkModel link) {
            this.link = link;
            return this;
        }

        /** Testing: one trainer's workers sleep (or spin) per batch, an emulated straggler (default: none). */
        public Builder slowTrainer(SlowTrainer slowTrainer) {
            this.slowTrainer = slowTrainer;
            return this;
        }

        /**
         * How sync rounds, the trainers' collectives, the dense server and async-ps pushes put values on the wire
         * (default: {@link Codec#FLOAT32}, exact); see {@link #compress(String)}.
         */
        public Builder codec(Codec codec) {
            this.codec = codec;
            return this;
        }

        /**
         * The codec by name, as {@code --compress} takes it: {@code none}, {@code fp16}, {@code bf16}, {@code int8},
         * {@code int8:stochastic} or {@code topk:F} (e.g. {@code topk:0.01}); rounds then send the change since the
         * last round. Throws {@link IllegalArgumentException} naming the accepted forms for any other.
         */
        public Builder compress(String codec) {
            try {
                return codec(Codec.named(codec));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("compress: " + e.getMessage(), e);
            }
        }

        /**
         * How embedding rows travel to and from the parameter servers, by name as {@code --compress-rows} takes it:
         * {@code none} (float32, the default), {@code fp16}, {@code bf16} or {@code int8} (a scale per row); pulled
         * values and pushed gradients alike, the servers keeping rows and optimizer state in float32. Throws
         * {@link IllegalArgumentException} naming the accepted forms for any other (and why top-k is not one).
         */
        public Builder compressRows(String codec) {
            try {
                this.rowCodec = RowCodec.named(codec);
                return this;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("compressRows: " + e.getMessage(), e);
            }
        }

        /** Checks the settings and fixes the defaults; throws {@link IllegalArgumentException} naming what is wrong. */
        public TrainingJob build() {
            if (data == null) throw new IllegalArgumentException("no training data: give data(DataSource), e.g. new CriteoTsvSource(path, false)");
            DataSchema schema = data.schema();
            if (eval != null && !eval.schema().equals(schema)) {
                throw new IllegalArgumentException("eval(...) data " + eval.describe() + " has another layout than the training data: "
                        + eval.schema() + " vs " + schema);
            }
            if (trainers < 1 || trainers > JobConfig.MAX_TRAINERS) {
                throw new IllegalArgumentException("trainers(" + trainers + "): give 1 to " + JobConfig.MAX_TRAINERS);
            }
            if (workers < 1 || workers > TrainerConfig.MAX_WORKERS) {
                throw new IllegalArgumentException("workers(" + workers + "): give 1 to " + TrainerConfig.MAX_WORKERS + " per trainer");
            }
            if (psShards < 1 || psShards > JobConfig.MAX_PS_SHARDS) {
                throw new IllegalArgumentException("psShards(" + psShards + "): give 1 to " + JobConfig.MAX_PS_SHARDS);
            }
            if (examples < 0) throw new IllegalArgumentException("examples(" + examples + "): give a positive count, or 0 for whole epochs");
            if (examples == 0 && epochs < 1) throw new IllegalArgumentException("epochs(" + epochs + "): give at least 1");
            if (recomputeEvery < 1) throw new IllegalArgumentException("recomputeEvery(" + recomputeEvery + "): give 1 (keep every activation) or more");
            if (maxNonFinite < 0) throw new IllegalArgumentException("maxNonFinite(" + maxNonFinite + "): give 0 (never stop) or more");
            if (split == null) throw new IllegalArgumentException("split(null): give a DataSplit, e.g. DataSplit.ROUND_ROBIN");
            ModelSpec spec = model != null ? model : defaultModel(schema);
            DataSchema takes = TrainedModel.schemaOf(spec);
            if (takes.numDense() != schema.numDense() || takes.numCat() != schema.numCat() || takes.sparse() != schema.sparse()
                    || takes.numClasses() != schema.numClasses()) {
                throw new IllegalArgumentException("model(" + spec + ") takes " + describe(takes) + ", but the data " + data.describe()
                        + " has " + describe(schema));
            }
            boolean mlp = spec instanceof MlpSpec;
            int batch = batchSize != null ? batchSize : mlp ? 64 : 128;
            if (batch < 1) throw new IllegalArgumentException("batchSize(" + batch + "): give at least 1");
            if (learningRate != null && !(learningRate > 0 && Double.isFinite(learningRate))) {
                throw new IllegalArgumentException("learningRate(" + learningRate + "): give a positive finite rate");
            }
            OptimizerSpec opt = optimizer != null ? optimizer : OptimizerSpec.of("sgd", mlp ? 0.05 : 0.5);
            if (learningRate != null) opt = opt.withLr(learningRate);
            EmbeddingOptimizerSpec embOpt = embeddingOptimizer != null ? embeddingOptimizer : EmbeddingOptimizerSpec.defaultFor(opt);
            SyncSpec syncSpec = sync != null ? sync : SyncSpec.of(SyncAlgorithms.defaultFor(trainers));
            if (link == null) throw new IllegalArgumentException("link(null): give LinkModel.NONE for no emulated network");
            if (codec == null) throw new IllegalArgumentException("codec(null): give Codec.FLOAT32 for the exact wire format");
            if (evalEvery < 0) throw new IllegalArgumentException("evalEvery(" + evalEvery + "): give 0 (after training only) or a number of examples");
            if (evalEvery > 0 && (eval == null || metricsFile == null && metricsListener == null)) {
                throw new IllegalArgumentException("evalEvery(" + evalEvery + ") needs eval(data) and metrics(path) or metricsListener(listener)");
            }
            if (logEvery == null || logEvery.compareTo(MetricsLog.MIN_INTERVAL) < 0) {
                throw new IllegalArgumentException("logEvery(" + logEvery + "): give at least " + MetricsLog.MIN_INTERVAL.toMillis() + " ms");
            }
            TrainerConfig trainer = new TrainerConfig(workers, batch, examples, epochs, split, seed, queueDepth, trainWindow, shuffle, maxNonFinite,
                    recomputeEvery);
            JobConfig config = new JobConfig(trainers, trainer, syncSpec, psShards, link, slowTrainer, codec, rowCodec);
            return new TrainingJob(this, spec, opt, embOpt, config);
        }

        private static String describe(DataSchema s) {
            String labels = s.numClasses() == 2 ? "binary labels" : s.numClasses() == 0 ? "regression targets" : s.numClasses() + " classes";
            return s.numDense() + " dense features, " + s.numCat() + " categorical fields" + (s.sparse() ? ", sparse features" : "") + " and " + labels;
        }

        /** As {@code shadowsync train} picks with its default flags, fitted to the data's layout. */
        private static ModelSpec defaultModel(DataSchema s) {
            if (s.numClasses() == 2 && s.numDense() > 0 && s.numCat() > 0 && !s.sparse()) {
                return new DlrmSpec(s.numDense(), s.numCat(), 100_000, 16, new int[] {64}, new int[] {64});
            }
            if (s.numClasses() == 2 && (s.numCat() > 0 || s.sparse())) return new LrSpec(20, s.numDense(), s.numCat(), s.sparse());
            if (s.numCat() == 0 && !s.sparse() && s.numDense() > 0) {
                String task = s.numClasses() == 0 ? "regression" : s.numClasses() == 2 ? "binary" : "multiclass";
                return new MlpSpec(s.numDense(), new int[] {256, 128}, s.numClasses() > 2 ? s.numClasses() : 1, "relu", task);
            }
            throw new IllegalArgumentException("no default model fits data with " + describe(s) + ": give model(ModelSpec)");
        }
    }
}
