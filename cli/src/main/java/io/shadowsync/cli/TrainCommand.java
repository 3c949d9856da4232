package io.shadowsync.cli;

import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.Checkpointer;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.TrainResult;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.MetricsLog;
import io.shadowsync.metrics.JsonlMetricsFile;
import io.shadowsync.metrics.MetricsSink;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.kernels.Blas;
import io.shadowsync.sync.NonFiniteException;
import io.shadowsync.sync.SyncSpec;
import io.shadowsync.kernels.Vec;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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
public final class TrainCommand extends JobCommand implements Callable<Integer> {
    @Mixin
    DashboardOptions dashboardOptions = new DashboardOptions();

    @Override
    boolean dashboard() {
        return dashboardOptions.on();
    }

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync train");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        checkMetricsFlags();
        dashboardOptions.check();
        prepareRunDir();
        checkFiles();
        Plan plan = plan(err, true);
        if (plan.eval() != null) readable(plan.eval(), "--eval");
        CheckpointDir.Lock lock = lockCheckpoints();
        try {
            return train(plan, out, err);
        } finally {
            if (lock != null) lock.close();
        }
    }

    /** Reads the first example of data: a missing, empty or malformed file is refused before training, not after it. */
    private static void readable(DataSource data, String flag) throws java.io.IOException {
        try (io.shadowsync.data.ExampleReader r = data.open()) {
            r.readInto(new io.shadowsync.data.Batch(1, data.schema()));
        } catch (io.shadowsync.data.DataException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new UsageException(flag + " " + data.describe() + ": " + Main.describe(e));
        }
    }

    private Integer train(Plan plan, PrintWriter out, PrintWriter err) throws Exception {
        Job job = new Job(plan.modelSpec(), seed, plan.opt(), plan.embOpt(), plan.train(), plan.job());
        Model net = job.model();
        CheckpointDir checkpoints = checkpointDir == null ? null : new CheckpointDir(checkpointDir, keep);
        Map<String, String> settings = checkpoints == null ? Map.of() : checkpointSettings(plan);
        Path resumedFrom = resume ? resume(job, checkpoints, settings, err) : null;
        err.println(banner(plan, net));
        for (String note : job.notes()) err.println("shadowsync: note: " + note);
        err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription());
        err.flush();

        try (DashboardOptions.Live dashboard = dashboardOptions.start(banner(plan, net).replaceFirst("^[^:]*: ", ""), err);
             RunLog log = RunLog.open(this, job, plan, dashboard == null ? null : dashboard.feed())) {
            int code = train(plan, job, log, checkpoints, settings, resumedFrom, out, err);
            if (dashboard != null && code == 0) dashboard.holdIfKept(err);
            return code;
        }
    }

    private Integer train(Plan plan, Job job, RunLog log, CheckpointDir checkpoints, Map<String, String> settings, Path resumedFrom,
                          PrintWriter out, PrintWriter err) throws Exception {
        Model net = job.model();
        ProgressReporter progress = new ProgressReporter(job::progress, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
        Checkpointer checkpointer = checkpoints == null ? null : new Checkpointer(job, checkpoints, settings, checkpointEverySec,
                checkpointEveryExamples, PAUSE_TIMEOUT, checkpointMaxFailures);
        Thread onSignal = checkpointer == null ? null : new Thread(() -> checkpointOnExit(checkpointer, err), "checkpoint-on-exit");
        progress.start();
        if (checkpointer != null) {
            checkpointer.start();
            Runtime.getRuntime().addShutdownHook(onSignal);
        }
        JobResult result;
        boolean signalled = false;
        log.start();
        try {
            result = job.run();
            log.finish(err);
        } catch (TrainingException e) {
            log.finish(err);
            progress.stop();
            if (e.getCause() instanceof NonFiniteException) {
                if (save != null) err.println("shadowsync train: training diverged: nothing is kept in " + save + ".partial");
            } else {
                savePartial(job, plan.modelSpec(), err);
            }
            if (checkpointer != null && checkpointer.last() != null) {
                err.println("shadowsync train: the last good checkpoint is " + checkpointer.last() + " (continue from it with --resume)");
            }
            throw e;
        } finally {
            if (checkpointer != null) {
                checkpointer.stop();
                try {
                    Runtime.getRuntime().removeShutdownHook(onSignal);
                } catch (IllegalStateException shuttingDown) {
                    signalled = true; // a signal came as the job ended: the hook writes the checkpoint, the JVM exits after it
                }
            }
        }
        if (signalled) return Main.EXIT_FAILURE;
        progress.stop();

        Map<String, Object> summary = summary(plan, result);
        if (checkpoints != null) {
            Map<String, Object> ck = new LinkedHashMap<>();
            ck.put("written", checkpointer.written());
            ck.put("last", checkpointer.last() == null ? null : checkpointer.last().toString());
            ck.put("resumed_from", resumedFrom == null ? null : resumedFrom.toString());
            ck.put("failed", checkpointer.failed());
            if (checkpointer.lastError() != null) ck.put("last_error", checkpointer.lastError());
            if (checkpointer.gaveUp()) ck.put("stopped_job", true);
            summary.put("checkpoint", ck);
        }
        if (checkpointer != null && checkpointer.gaveUp()) {
            // the job was cut short: what it trained is kept, as after any failure inside training, and the run fails
            savePartial(job, plan.modelSpec(), err);
            Json.emit(out, summaryJson, summary);
            err.println("shadowsync train: stopped after " + checkpointMaxFailures + " checkpoints in a row could not be written into "
                    + checkpointDir + " (" + checkpointer.lastError() + "); fix the directory and continue with --resume, "
                    + "or raise --checkpoint-max-failures (0: never stop)");
            err.flush();
            return Main.EXIT_FAILURE;
        }
        if (plan.eval() != null) {
            Evaluator.Result ev;
            try {
                ev = Evaluator.evaluate(net, job.tables(), plan.eval(), evalBatch);
            } catch (Exception | Error e) {
                // the trained model outlives a failed evaluation: saved without its eval metrics
                if (save != null) {
                    summary.put("eval_failed", Main.describe(e));
                    saveModel(plan, summary, net, job);
                    err.println("shadowsync train: evaluation failed; the trained model is saved in " + save + " (without eval metrics)");
                }
                throw e;
            }
            summary.put("eval", ev.toMap());
            log.eval(ev, err);
        }
        if (save != null) {
            saveModel(plan, summary, net, job);
            summary.put("saved", save.toString());
        }
        Json.emit(out, summaryJson, summary);
        return 0;
    }

    /**
     * --run-dir: creates the directory, points --metrics and --summary-json (when not given) into it, and writes
     * job.yaml there, this command's effective options as a job file.
     */
    private void prepareRunDir() {
        if (runDir == null) return;
        try {
            java.nio.file.Files.createDirectories(runDir);
        } catch (java.io.IOException | RuntimeException e) {
            throw new UsageException("--run-dir " + runDir + ": cannot create the directory: " + Main.describe(e));
        }
        if (metrics == null) metrics = runDir.resolve("metrics.jsonl");
        if (summaryJson == null) summaryJson = runDir.resolve("summary.json");
        Path yaml = runDir.resolve("job.yaml");
        try {
            io.shadowsync.ckpt.AtomicFiles.writeString(yaml, effectiveJobFile());
        } catch (java.io.IOException e) {
            throw new UsageException("--run-dir " + runDir + ": cannot write " + yaml + ": " + Main.describe(e));
        }
    }

    /**
     * The options this command runs with (given, from the job file, or defaults) as a job file: paths absolute, flags
     * that are off left out, and the outputs --run-dir chooses (--run-dir, --metrics, --summary-json) left out.
     */
    String effectiveJobFile() throws java.io.IOException {
        Map<String, Object> values = new java.util.TreeMap<>();
        for (picocli.CommandLine.Model.OptionSpec o : spec.options()) {
            String key = o.longestName();
            if (o.usageHelp() || o.versionHelp() || !key.startsWith("--") || List.of("--run-dir", "--metrics", "--summary-json").contains(key)
                    || DashboardOptions.NAMES.contains(key)) continue;
            Object v = o.getValue();
            if (v == null || Boolean.FALSE.equals(v)) continue;
            if (v instanceof Path p) v = p.toAbsolutePath().normalize().toString();
            else if (v instanceof int[] a) v = java.util.Arrays.stream(a).boxed().toList();
            else if (v instanceof long[] a) v = java.util.Arrays.stream(a).boxed().toList();
            else if (v instanceof double[] a) v = java.util.Arrays.stream(a).boxed().toList();
            else if (!(v instanceof Number || v instanceof Boolean || v instanceof java.util.Collection<?>)) v = v.toString();
            values.put(key.substring(2), v);
        }
        return new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).writeValueAsString(values);
    }

    /** The --metrics file, the dashboard, and the log that feeds them while the job runs; does nothing without either. */
    private static final class RunLog implements AutoCloseable {
        private final Path path;
        private final JsonlMetricsFile file;
        private final MetricsLog log;
        private boolean warned;

        private final io.shadowsync.cli.prom.PrometheusEndpoint endpoint;

        private RunLog(Path path, JsonlMetricsFile file, io.shadowsync.cli.prom.PrometheusEndpoint endpoint, MetricsLog log) {
            this.path = path;
            this.file = file;
            this.endpoint = endpoint;
            this.log = log;
        }

        static RunLog open(TrainCommand c, Job job, Plan plan, MetricsSink dashboard) {
            if (c.metrics == null && c.metricsPort == null && dashboard == null) return new RunLog(null, null, null, null);
            JsonlMetricsFile file = null;
            if (c.metrics != null) {
                try {
                    file = new JsonlMetricsFile(c.metrics);
                } catch (java.io.IOException | RuntimeException e) {
                    throw new UsageException("--metrics " + c.metrics + ": cannot write it: " + Main.describe(e));
                }
            }
            io.shadowsync.cli.prom.PrometheusEndpoint endpoint;
            try {
                endpoint = c.metricsEndpoint(0, "trainer");
            } catch (RuntimeException e) {
                if (file != null) {
                    try {
                        file.close();
                    } catch (java.io.IOException ignored) {
                        // the refusal is what the user needs to hear
                    }
                }
                throw e;
            }
            List<MetricsSink> sinks = new java.util.ArrayList<>();
            if (file != null) sinks.add(file);
            if (endpoint != null) sinks.add(endpoint);
            if (dashboard != null) sinks.add(dashboard);
            MetricsLog.EvalPlan eval = c.evalEvery > 0 ? new MetricsLog.EvalPlan(plan.eval(), c.evalEvery, c.evalBatch) : null;
            return new RunLog(c.metrics, file, endpoint, new MetricsLog(job, Duration.ofNanos(Math.round(c.logEvery * 1e9)), sinks, eval));
        }

        void start() {
            if (log != null) log.start();
        }

        /** The last records, once the job has run (or failed). */
        void finish(PrintWriter err) throws InterruptedException {
            if (log == null) return;
            log.finish();
            warn(err);
        }

        void eval(Evaluator.Result ev, PrintWriter err) {
            if (log == null) return;
            log.logEval(ev, true);
            warn(err);
        }

        /** A metrics file that could not be written does not fail the job: a warning, once. */
        private void warn(PrintWriter err) {
            if (log.error() == null || warned) return;
            warned = true;
            err.println("shadowsync train: warning: " + (path == null ? "--metrics-port" : "--metrics " + path) + ": stopped writing: " + log.error());
            err.flush();
        }

        /** Ends the log (its final records, when the job ended some way that did not finish it) and closes the file. */
        @Override
        public void close() throws java.io.IOException {
            try {
                if (log != null) log.finish();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (endpoint != null) endpoint.close();
                if (file != null) file.close();
            }
        }
    }

    private void saveModel(Plan plan, Map<String, Object> summary, Model net, Job job) throws java.io.IOException {
        Map<String, String> settings;
        try {
            settings = checkpointSettings(plan);
        } catch (RuntimeException unreadable) { // the data went away after training: the model is still saved
            settings = Map.of();
        }
        ModelFile.write(save, plan.modelSpec().toProperties(), Provenance.of(spec, jobFile, plan.train(), summary, settings), net.dense().data(),
                job.tables());
    }

    /** How long a checkpoint waits for the job's threads to reach the end of their step or round. */
    private static final Duration PAUSE_TIMEOUT = Duration.ofMinutes(2);

    /**
     * --resume: restores the newest good checkpoint into job and returns its directory; null when there is none yet
     * (the run starts from the beginning, with a warning). Newer damaged checkpoints are skipped with a warning each; a
     * directory with checkpoints but no good one, or a checkpoint written with other settings, is refused.
     */
    private Path resume(Job job, CheckpointDir checkpoints, Map<String, String> settings, PrintWriter err) throws Exception {
        Optional<CheckpointDir.Loaded> found = checkpoints.newest();
        if (found.isEmpty()) {
            err.println("shadowsync train: warning: --resume: no checkpoint in " + checkpoints.location() + " yet; starting from the beginning");
            return null;
        }
        CheckpointDir.Loaded l = found.get();
        List<String> diff = new java.util.ArrayList<>(CheckpointDir.differences(l.manifest().settings(), settings));
        diff.replaceAll(d -> d.startsWith(CheckpointDir.DATA_FINGERPRINT + " is ")
                ? "--train " + train + " is not the file it was trained on (" + d.substring(CheckpointDir.DATA_FINGERPRINT.length() + 4) + ")"
                : d.equals("trainer-shares is input-splits, the checkpoint has none")
                ? d + " (its trainers each read every N-th example, the default before input splits: give --no-input-splits)" : d);
        if (!diff.isEmpty()) {
            throw new UsageException("--resume: " + l.path() + " was written with other settings: " + String.join("; ", diff)
                    + ". Give the flags it was written with, or another --checkpoint-dir to start over");
        }
        job.restore(l.state());
        err.println("shadowsync train: resuming from " + l.path() + " (" + String.format(Locale.ROOT, "%,d", l.manifest().examples())
                + " examples trained)");
        return l.path();
    }

    /** The shutdown hook (SIGTERM, SIGINT): the job finishes its steps and rounds, a checkpoint is written, the JVM exits. */
    private static void checkpointOnExit(Checkpointer checkpointer, PrintWriter err) {
        try {
            Path p = checkpointer.checkpointAndHold();
            err.println("shadowsync train: stopped by a signal; wrote checkpoint " + p + " ("
                    + String.format(Locale.ROOT, "%,d", checkpointer.lastExamples()) + " examples trained); continue with --resume");
        } catch (Exception e) {
            err.println("shadowsync train: stopped by a signal; could not write a checkpoint: " + Main.describe(e));
        }
        err.flush();
    }

    /** After a failure mid-training, keep what was trained: MODEL.partial beside the requested --save file. */
    private void savePartial(Job job, ModelSpec modelSpec, PrintWriter err) {
        Path partial = partialOf(save);
        if (partial == null || job.progress().examples() == 0) return;
        if (!Vec.allFinite(job.model().dense().size(), job.model().dense().data(), 0)) {
            err.println("shadowsync train: the model went non-finite: nothing is kept in " + partial);
            return;
        }
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
}
