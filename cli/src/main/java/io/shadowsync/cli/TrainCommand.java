package io.shadowsync.cli;

import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.kernels.Blas;
import io.shadowsync.sync.SyncSpec;
import io.shadowsync.kernels.Vec;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
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

    @Option(names = "--shuffle", description = "With --in-memory: visit the data in a new random order every epoch (default: file order).")
    boolean shuffle;

    @Option(names = "--trainers", paramLabel = "N", description = "Trainers, each with its own replica, workers and sync thread (default: 1).")
    int trainers = 1;

    @Option(names = "--sync", paramLabel = "ALGO",
            description = "How trainers synchronize: none, s-ma, s-bmuf, s-easgd (shadow: background), fr-ma, fr-bmuf, fr-easgd (foreground), sync-sgd, async-ps (default: s-ma with several trainers, none with one).")
    String sync;

    @Option(names = "--sync-every", paramLabel = "K", description = "Foreground algorithms: worker steps between rounds (default: 50).")
    int syncEvery = 50;

    @Option(names = "--sync-interval-ms", paramLabel = "MS", description = "Shadow algorithms: pause between rounds (default: 0, as fast as it can).")
    long syncIntervalMs;

    @Option(names = "--bmuf-momentum", paramLabel = "MU", description = "BMUF block momentum (default: 1 - 1/N in the foreground, min(0.5, 1 - 1/N) in shadow mode).")
    Double bmufMomentum;

    @Option(names = "--bmuf-block-lr", paramLabel = "ZETA", description = "BMUF block learning rate (default: 1).")
    double bmufBlockLr = 1.0;

    @Option(names = "--nesterov", description = "BMUF: Nesterov block momentum.")
    boolean nesterov;

    @Option(names = "--easgd-alpha", paramLabel = "A", description = "EASGD elastic force (default: 0.5/N).")
    Double easgdAlpha;

    @Option(names = "--ps-shards", paramLabel = "S", description = "Parameter-server shards for the embedding tables (and the dense server) (default: 1).")
    int psShards = 1;

    @Option(names = "--net-bandwidth", paramLabel = "BW", description = "Emulate links of this bandwidth between trainers and servers, e.g. 1gbit (default: none).")
    String netBandwidth = "inf";

    @Option(names = "--net-latency", paramLabel = "T", description = "Emulated one-way latency per message, e.g. 0.5ms (default: 0).")
    String netLatency = "0";

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

        String algorithm = sync != null ? sync : trainers > 1 ? "s-ma" : "none";
        SyncSpec syncSpec = new SyncSpec(algorithm, syncEvery, syncIntervalMs, bmufMomentum != null ? bmufMomentum : Double.NaN,
                bmufBlockLr, nesterov, easgdAlpha != null ? easgdAlpha : Double.NaN);
        LinkModel link = LinkModel.parse(netBandwidth, netLatency);
        TrainerConfig cfg = new TrainerConfig(workers, batchSize, examples, epochs, DataSplit.parse(split), seed, queueDepth, trainWindow, shuffle);
        Job job = new Job(modelSpec, seed, opt, embOpt, trainSource, new JobConfig(trainers, cfg, syncSpec, psShards, link));
        Model net = job.model();
        long[][] shapes = net.embeddingShapes();

        err.println("shadowsync " + Version.get() + ": " + modelSpec.kind() + " model, " + String.format(Locale.ROOT, "%,d", net.dense().size())
                + " dense parameters, " + String.format(Locale.ROOT, "%,d", embeddingValues(shapes)) + " embedding values; "
                + trainers + " trainer(s) x " + workers + " worker(s), sync " + algorithm + ", batch " + batchSize + ", " + opt.name() + " lr " + opt.lr()
                + (link.isIdeal() ? "" : ", emulated network " + netBandwidth + " / " + netLatency));
        err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription());
        err.flush();

        ProgressReporter progress = new ProgressReporter(job::progress, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
        progress.start();
        JobResult result;
        try {
            result = job.run();
        } catch (TrainingException e) {
            progress.stop();
            savePartial(job, modelSpec, err);
            throw e;
        }
        progress.stop();

        TrainResult first = result.trainers()[0];
        long skipped = skippedLoading, nonFinite = 0;
        double lossSum = 0, readerWait = 0;
        for (TrainResult r : result.trainers()) {
            skipped += r.skippedLines();
            nonFinite += r.nonFiniteBatches();
            lossSum += r.trainLoss() * r.examples();
            readerWait += r.readerWaitFraction() / trainers;
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", modelSpec.kind());
        summary.put("examples", result.examples());
        summary.put("seconds", round(result.seconds(), 3));
        summary.put("examples_per_sec", round(result.examplesPerSecond(), 1));
        summary.put("trainers", trainers);
        summary.put("workers", workers);
        summary.put("algorithm", algorithm);
        Map<String, Object> syncInfo = new LinkedHashMap<>();
        syncInfo.put("rounds_per_trainer", result.syncRounds());
        syncInfo.put("mean_round_ms", roundAll(result.meanRoundMillis(), 3));
        syncInfo.put("bytes_sent", result.syncBytes());
        if (!link.isIdeal()) syncInfo.put("network", netBandwidth + " / " + netLatency);
        summary.put("sync", syncInfo);
        summary.put("worker_wait_fraction", round(result.workerWaitFraction(), 4));
        summary.put("batch", batchSize);
        summary.put("optimizer", opt.name());
        summary.put("lr", opt.lr());
        summary.put("train_loss", round(result.examples() == 0 ? Double.NaN : lossSum / result.examples(), 6));
        Map<String, Object> window = new LinkedHashMap<>();
        window.put("examples", first.window().examples());
        window.put("logloss", round(first.window().meanLoss(), 6));
        if (trainSource.schema().numClasses() == 2) window.put("ne", round(first.window().ne(), 6));
        summary.put("train_window", window);
        summary.put("skipped_lines", skipped);
        summary.put("non_finite_batches", nonFinite);
        summary.put("reader_wait_fraction", round(readerWait, 4));
        summary.put("blas", Blas.backend());
        if (evalSource != null) {
            Evaluator.Result ev = Evaluator.evaluate(net, job.tables(), evalSource, evalBatch);
            summary.put("eval", ev.toMap());
        }
        if (save != null) {
            ModelFile.write(save, modelSpec.toProperties(), Provenance.of(spec, jobFile, trainSource, summary), net.dense().data(), job.tables());
            summary.put("saved", save.toString());
        }
        Json.emit(out, summaryJson, summary);
        return 0;
    }

    /** After a failure mid-training, keep what was trained: MODEL.partial beside the requested --save file. */
    private void savePartial(Job job, ModelSpec modelSpec, PrintWriter err) {
        if (save == null || job.progress().examples() == 0) return;
        Path partial = save.resolveSibling(save.getFileName() + ".partial");
        try {
            Map<String, Object> note = new LinkedHashMap<>();
            note.put("partial", true);
            note.put("examples", job.progress().examples());
            ModelFile.write(partial, modelSpec.toProperties(), Provenance.of(spec, jobFile, null, note), job.model().dense().data(), job.tables());
            err.println("shadowsync train: kept the model trained so far (" + job.progress().examples() + " examples) in " + partial);
        } catch (Exception e) {
            err.println("shadowsync train: could not write " + partial + ": " + e.getMessage());
        }
    }

    private static long embeddingValues(long[][] shapes) {
        long n = 0;
        for (long[] s : shapes) n += s[0] * s[1];
        return n;
    }

    private static double[] roundAll(double[] v, int digits) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(v[i], digits);
        return r;
    }

    static double round(double v, int digits) {
        if (!Double.isFinite(v)) return v;
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
