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
public final class TrainCommand extends JobCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Plan plan = plan(err, true);
        Job job = new Job(plan.modelSpec(), seed, plan.opt(), plan.embOpt(), plan.train(), plan.job());
        Model net = job.model();
        err.println(banner(plan, net));
        err.println("shadowsync: gemm: " + Blas.backend() + "; vector kernels: " + Vec.simdDescription());
        err.flush();

        ProgressReporter progress = new ProgressReporter(job::progress, err, Terminal.isInteractive(), noProgress ? 0 : logEvery, examples);
        progress.start();
        JobResult result;
        try {
            result = job.run();
        } catch (TrainingException e) {
            progress.stop();
            savePartial(job, plan.modelSpec(), err);
            throw e;
        }
        progress.stop();

        Map<String, Object> summary = summary(plan, result);
        if (plan.eval() != null) {
            Evaluator.Result ev = Evaluator.evaluate(net, job.tables(), plan.eval(), evalBatch);
            summary.put("eval", ev.toMap());
        }
        if (save != null) {
            ModelFile.write(save, plan.modelSpec().toProperties(), Provenance.of(spec, jobFile, plan.train(), summary), net.dense().data(), job.tables());
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
}
