package io.shadowsync.cli;

import io.shadowsync.data.CsvSource;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.TextFiles;
import io.shadowsync.tune.CrossValidation;
import io.shadowsync.tune.Folds;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync cv [JOB.yaml] [train flags] --folds K}: k-fold cross-validation of the train job the flags describe,
 * on --train (loaded into memory once): fold f trains on the other folds and is evaluated on fold f (see docs/tuning.md).
 */
@Command(name = "cv", sortOptions = false, usageHelpAutoWidth = true,
        description = {"k-fold cross-validation of a train job on --train: stratified by label for classes, grouped by --group-column when given, "
                + "folds side by side within --parallel cores. Per-fold table on stderr; the last line on stdout is a JSON summary.",
                "Takes every train flag (and a job file); see docs/tuning.md."})
public final class CvCommand extends JobCommand implements Callable<Integer> {
    @Option(names = "--folds", paramLabel = "K", description = "Folds, at least 2 and at most the examples (default: 5).")
    int folds = 5;

    @Option(names = "--parallel", paramLabel = "P", description = "Cores the running folds may take together, each fold trainers × workers "
            + "(default: this machine's processors).")
    Integer parallel;

    @Option(names = "--group-column", paramLabel = "NAME", description = "Keep the examples with the same value of this column in one fold: "
            + "CSV a feature column's header name; Criteo i1..i13 (integer features) or c1..c26 (categorical fields) (default: none).")
    String groupColumn;

    private static final List<String> REFUSED = List.of("--eval", "--eval-labels", "--eval-every", "--save", "--run-dir", "--metrics",
            "--checkpoint-dir", "--resume", "--stream");

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync cv");
        PrintWriter err = spec.commandLine().getErr();
        dropFlags(REFUSED, " is not for cv: it holds out each fold of --train in turn, evaluates each fold once, and keeps no model "
                + "(train the job to save one)", err);
        if (folds < 2) throw new UsageException("--folds must be at least 2, got " + folds);
        int cores = parallel != null ? parallel : Runtime.getRuntime().availableProcessors();
        if (cores < 1) throw new UsageException("--parallel must be at least 1 core, got " + cores);
        if ((long) trainers * workers > cores) {
            throw new UsageException("a fold of " + trainers + " trainer(s) × " + workers + " worker(s) takes more than the --parallel " + cores
                    + " cores the folds may take together: raise --parallel or lower --workers");
        }
        inMemory = true; // the folds are cut from the data in memory
        checkFiles();
        Plan plan = plan(err, true);
        InMemorySource data = (InMemorySource) plan.train();
        if (folds > data.size()) throw new UsageException("--folds " + folds + " is more than the " + data.size() + " examples of --train");
        String how;
        int[][] parts;
        try {
            if (groupColumn != null) {
                parts = Folds.grouped(groupKeys(data), folds, seed);
                how = "grouped by " + groupColumn;
            } else if (data.schema().numClasses() >= 2) {
                float[] labels = new float[data.size()];
                for (int i = 0; i < labels.length; i++) labels[i] = data.label(i);
                parts = Folds.stratified(labels, folds, seed);
                how = "stratified by label";
            } else {
                parts = Folds.kFold(data.size(), folds, seed);
                how = "shuffled";
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException("--folds " + folds + (groupColumn == null ? "" : " --group-column " + groupColumn) + ": " + e.getMessage());
        }
        err.println("shadowsync cv: " + folds + " folds of " + String.format(Locale.ROOT, "%,d", data.size()) + " examples, " + how + "; "
                + cores + " cores at once");
        err.flush();
        CrossValidation.Result r = CrossValidation.run(data, parts, cores, (f, train, heldOut) -> trainingJobBuilder(plan).data(train).eval(heldOut));
        err.print(r.table());
        err.flush();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("command", "cv");
        summary.put("k", folds);
        summary.put("split", how);
        summary.put("parallel", cores);
        summary.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        List<Map<String, Object>> per = new ArrayList<>();
        for (CrossValidation.FoldResult f : r.folds()) per.add(f.toMap());
        summary.put("folds", per);
        summary.put("mean", r.mean());
        summary.put("std", r.std());
        Json.emit(spec.commandLine().getOut(), summaryJson, summary);
        return 0;
    }

    /**
     * Every example's value of --group-column, as a key: a CSV feature column by its header name, or a Criteo integer
     * feature (i1..i13, its parsed value) or categorical field (c1..c26, its raw id).
     */
    private long[] groupKeys(InMemorySource data) throws java.io.IOException {
        String fmt = this.data.formatOf(train);
        DataSchema s = data.schema();
        int dense = -1, cat = -1;
        if (fmt.equals("csv")) {
            List<String> columns = new ArrayList<>(new CsvSource(TextFiles.expand(train).get(0), this.data.labelCol, 0, false).columns());
            columns.remove(this.data.labelCol);
            dense = columns.indexOf(groupColumn);
            if (dense < 0) {
                throw new UsageException("--group-column " + groupColumn + " is not a feature column of " + train + " (its columns: "
                        + String.join(", ", columns) + ")");
            }
        } else if (fmt.equals("criteo")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([ic])(\\d{1,2})").matcher(groupColumn);
            int j = m.matches() ? Integer.parseInt(m.group(2)) - 1 : -1;
            if (m.matches() && m.group(1).equals("i") && j >= 0 && j < s.numDense()) dense = j;
            else if (m.matches() && m.group(1).equals("c") && j >= 0 && j < s.numCat()) cat = j;
            else throw new UsageException("--group-column of Criteo data is i1..i" + s.numDense() + " or c1..c" + s.numCat() + ", not '" + groupColumn + "'");
        } else {
            throw new UsageException("--group-column is for CSV (a column's header name) and Criteo data (i1..i13, c1..c26); " + fmt
                    + " data has no column to group by");
        }
        long[] keys = new long[data.size()];
        for (int i = 0; i < keys.length; i++) keys[i] = dense >= 0 ? Float.floatToIntBits(data.denseValue(i, dense)) : data.catValue(i, cat);
        return keys;
    }
}
