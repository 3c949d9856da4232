package io.shadowsync.cli;

import io.shadowsync.net.run.JobSummary;
import io.shadowsync.data.SyntheticCtr;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync gen-data}: seeded synthetic CTR data in Criteo TSV whose labels come from a hidden teacher
 * model. Prints the teacher's (Bayes) logloss and the constant predictor's logloss for the rows it wrote, so a
 * user knows the best and the trivial result before training.
 */
@Command(name = "gen-data", sortOptions = false,
        description = {"Write synthetic CTR data (Criteo TSV: OUT/train.tsv, OUT/eval.tsv) labelled by a hidden teacher model.",
                "The JSON line gives the teacher's (best achievable) and the constant predictor's logloss."})
public final class GenDataCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--rows", paramLabel = "N", description = "Training rows (default: 200000).")
    long rows = 200_000;

    @Option(names = "--eval-rows", paramLabel = "N", description = "Held-out rows (default: 50000).")
    long evalRows = 50_000;

    @Option(names = "--seed", paramLabel = "S", description = "Seed (default: 1234).")
    long seed = 1234;

    @Option(names = "--vocab", paramLabel = "V", description = "Distinct ids per categorical field (default: 100000).")
    int vocab = SyntheticCtr.DEFAULT_VOCAB;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        SyntheticCtr.Summary s = new SyntheticCtr(new SyntheticCtr.Config(rows, evalRows, seed, vocab)).generate(out);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("train", out.resolve("train.tsv").toString());
        m.put("eval", out.resolve("eval.tsv").toString());
        m.put("train_rows", s.trainRows());
        m.put("eval_rows", s.evalRows());
        m.put("seed", seed);
        m.put("ctr_train", JobSummary.round(s.trainCtr(), 5));
        m.put("ctr_eval", JobSummary.round(s.evalCtr(), 5));
        m.put("teacher_logloss_eval", JobSummary.round(s.evalTeacherLogloss(), 5));
        m.put("constant_logloss_eval", JobSummary.round(s.evalConstantLogloss(), 5));
        m.put("teacher_auc_eval", JobSummary.round(s.evalTeacherAuc(), 5));
        m.put("teacher_logloss_train", JobSummary.round(s.trainTeacherLogloss(), 5));
        m.put("constant_logloss_train", JobSummary.round(s.trainConstantLogloss(), 5));
        m.put("seconds", JobSummary.round(s.seconds(), 2));
        stdout.println(Json.line(m));
        stdout.flush();
        return 0;
    }
}
