package io.shadowsync.cli;

import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.Trainer;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.kernels.Blas;
import io.shadowsync.kernels.Vec;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shadowsync train [JOB.yaml] [flags]}: trains a model with Hogwild workers; flags override the job file. */
@Command(name = "train", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Train a model. The last line on stdout is a JSON summary.",
                "Keys of the optional YAML job file are the long option names without '--'; flags override it."})
public final class TrainCommand implements Callable<Integer> {
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

    @Option(names = "--in-memory", description = "Parse the training data once into memory and replay it every epoch (data that fits in memory).")
    boolean inMemory;

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

    @Option(names = "--eval-batch", paramLabel = "B", description = "Batch size for evaluation (default: 1024).")
    int evalBatch = 1024;

    @Option(names = "--save", paramLabel = "MODEL", description = "Write the trained model to this file (atomically).")
    Path save;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Also write the JSON summary to this file.")
    Path summaryJson;

    @Option(names = "--log-every", paramLabel = "SEC", description = "Seconds between progress lines when stderr is not a terminal; 0 = none (default: 10).")
    double logEvery = 10;

    @Option(names = "--no-progress", description = "No progress bar or progress lines.")
    boolean noProgress;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (train == null) throw new UsageException("no training data: give --train PATH (or 'train:' in a job file); 'shadowsync gen-data' makes synthetic CTR data");
        if (workers < 1) throw new UsageException("--workers must be at least 1, got " + workers);
        if (epochs < 1 && examples <= 0) throw new UsageException("--epochs must be at least 1, got " + epochs);
        if (examples < 0) throw new UsageException("--examples must be positive, got " + examples);
        int batchSize = batch != null ? batch : model.defaultBatch();
        if (batchSize < 1) throw new UsageException("--batch must be at least 1, got " + batchSize);

        DataSource trainSource = data.source(train, trainLabels, "--train", "--train-labels");
        long skippedLoading = 0;
        if (inMemory) {
            long t0 = System.nanoTime();
            InMemorySource loaded = InMemorySource.load(trainSource);
            skippedLoading = loaded.skippedWhileLoading();
            trainSource = loaded;
            err.println(String.format(Locale.ROOT, "shadowsync: loaded %,d training examples into memory in %.1f s", loaded.size(), (System.nanoTime() - t0) / 1e9));
        }
        DataSource evalSource = eval == null ? null : data.source(eval, evalLabels, "--eval", "--eval-labels");
        ModelSpec modelSpec = model.spec(trainSource.schema());
        if (evalSource != null && !evalSource.schema().equals(trainSource.schema())) {
            throw new UsageException("--eval data has a different layout than --train data: " + evalSource.schema() + " vs " + trainSource.schema());
        }
        OptimizerSpec opt = OptimizerSpec.of(optimizer.toLowerCase(Locale.ROOT), lr != null ? lr : model.defaultLr()).withMomentum(momentum);
        EmbeddingOptimizerSpec embOpt = EmbeddingOptimizerSpec.defaultFor(opt);
        if (embOptimizer != null || embLr != null) {
            embOpt = new EmbeddingOptimizerSpec(embOptimizer != null ? embOptimizer.toLowerCase(Locale.ROOT) : embOpt.name(),
                    embLr != null ? embLr : embOpt.lr());
        }

        Model net = modelSpec.build();
        net.initDense(seed);
        long[][] shapes = net.embeddingShapes();
        float[] initStd = new float[shapes.length];
        for (int t = 0; t < shapes.length; t++) initStd[t] = net.embeddingInitStd(t);
        LocalEmbeddingStore tables = new LocalEmbeddingStore(shapes, initStd, seed, embOpt);
        DenseOptimizer dense = opt.dense(net.dense().size());
        TrainerConfig cfg = new TrainerConfig(workers, batchSize, examples, epochs, DataSplit.parse(split), seed, queueDepth, trainWindow);

        err.println("shadowsync " + Version.get() + ": " + modelSpec.kind() + " model, " + String.format(Locale.ROOT, "%,d", net.dense().size())
                + " dense parameters, " + String.format(Locale.ROOT, "%,d", embeddingValues(shapes)) + " embedding values; "
                + workers + " worker(s), batch " + batchSize + ", " + opt.name() + " lr " + opt.lr());
        err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription());
        err.flush();

        Trainer trainer = new Trainer(0, net, tables, dense, trainSource, cfg);
        ProgressReporter progress = new ProgressReporter(trainer, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
        progress.start();
        TrainResult result;
        try {
            result = trainer.run();
        } catch (TrainingException e) {
            progress.stop();
            savePartial(trainer, modelSpec, err);
            throw e;
        }
        progress.stop();

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", modelSpec.kind());
        summary.put("examples", result.examples());
        summary.put("seconds", round(result.seconds(), 3));
        summary.put("examples_per_sec", round(result.examplesPerSecond(), 1));
        summary.put("workers", workers);
        summary.put("trainers", 1);
        summary.put("batch", batchSize);
        summary.put("optimizer", opt.name());
        summary.put("lr", opt.lr());
        summary.put("train_loss", round(result.trainLoss(), 6));
        Map<String, Object> window = new LinkedHashMap<>();
        window.put("examples", result.window().examples());
        window.put("logloss", round(result.window().meanLoss(), 6));
        if (trainSource.schema().numClasses() == 2) window.put("ne", round(result.window().ne(), 6));
        summary.put("train_window", window);
        summary.put("skipped_lines", result.skippedLines() + skippedLoading);
        summary.put("non_finite_batches", result.nonFiniteBatches());
        summary.put("reader_wait_fraction", round(result.readerWaitFraction(), 4));
        summary.put("blas", Blas.backend());
        if (evalSource != null) {
            Evaluator.Result ev = Evaluator.evaluate(net, tables, evalSource, evalBatch);
            summary.put("eval", ev.toMap());
        }
        if (save != null) {
            ModelFile.write(save, modelSpec.toProperties(), Provenance.of(spec, jobFile, trainSource, summary), net.dense().data(), tables);
            summary.put("saved", save.toString());
        }
        String json = Json.line(summary);
        if (summaryJson != null) io.shadowsync.ckpt.AtomicFiles.writeString(summaryJson, json + "\n");
        out.println(json);
        out.flush();
        return 0;
    }

    /** After a failure mid-training, keep what was trained: MODEL.partial beside the requested --save file. */
    private void savePartial(Trainer trainer, ModelSpec modelSpec, PrintWriter err) {
        if (save == null || trainer.progress().examples() == 0) return;
        Path partial = save.resolveSibling(save.getFileName() + ".partial");
        try {
            Map<String, Object> note = new LinkedHashMap<>();
            note.put("partial", true);
            note.put("examples", trainer.progress().examples());
            ModelFile.write(partial, modelSpec.toProperties(), Provenance.of(spec, jobFile, null, note), trainer.model().dense().data(), trainer.embeddings());
            err.println("shadowsync train: kept the model trained so far (" + trainer.progress().examples() + " examples) in " + partial);
        } catch (Exception e) {
            err.println("shadowsync train: could not write " + partial + ": " + e.getMessage());
        }
    }

    private static long embeddingValues(long[][] shapes) {
        long n = 0;
        for (long[] s : shapes) n += s[0] * s[1];
        return n;
    }

    static double round(double v, int digits) {
        if (!Double.isFinite(v)) return v;
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
