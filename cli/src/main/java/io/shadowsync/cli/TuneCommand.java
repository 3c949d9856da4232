package io.shadowsync.cli;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.tune.Asha;
import io.shadowsync.tune.Objective;
import io.shadowsync.tune.Search;
import io.shadowsync.tune.SearchSpace;
import io.shadowsync.tune.TpeSearch;
import io.shadowsync.tune.TrialResult;
import io.shadowsync.tune.Tuner;
import io.shadowsync.tune.TuningResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync tune [JOB.yaml] [train flags] --space SPACE.yaml --out DIR}: a hyperparameter search in this JVM.
 * Each trial is the train job the flags describe with the trial's values of the space's flags; the data is loaded into
 * memory once and shared by every trial (see docs/tuning.md).
 */
@Command(name = "tune", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Hyperparameter search: trials of the train job below with the values of --space, several at once within --parallel "
                + "cores, scored on --eval. Ranked table on stderr; the last line on stdout is a JSON summary.",
                "Takes every train flag (and a job file) for what the trials share; see docs/tuning.md."})
public final class TuneCommand extends JobCommand implements Callable<Integer> {
    @Option(names = "--space", paramLabel = "SPACE.yaml", description = "The search space: train flags (without '--') mapped to a list of values "
            + "or to a range {min, max, log}.")
    Path space;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory: DIR/trial-NNN/ (metrics.jsonl, summary.json, job.yaml) per trial, "
            + "and DIR/best-job.yaml, the best trial's job file.")
    Path out;

    @Option(names = "--trials", paramLabel = "N", description = "Trials to run (default: the grid's size with --search grid, else 16).")
    Integer trials;

    @Option(names = "--parallel", paramLabel = "P", description = "Cores the running trials may take together, each trial trainers × workers "
            + "(default: this machine's processors).")
    Integer parallel;

    @Option(names = "--search", paramLabel = "HOW", description = "grid (every combination of the lists), random, or tpe (a model of the "
            + "trials so far proposes the next) (default: grid when every key has a list, else tpe).")
    String search;

    @Option(names = "--metric", paramLabel = "NAME", description = "The --eval metric to optimize: accuracy or auc (up), logloss, ne, mse, rmse "
            + "or mae (down) (default: auc for binary labels, accuracy for classes, rmse for regression).")
    String metric;

    @Option(names = "--early-stop", paramLabel = "HOW", description = "none, or asha: stop trials that fall behind at a rung, judged on the "
            + "--eval-every evaluations (default: none).")
    String earlyStop = "none";

    @Option(names = "--asha-min-examples", paramLabel = "N", description = "ASHA: examples at the first rung; rung k at N·eta^k (default: --eval-every).")
    Long ashaMinExamples;

    @Option(names = "--asha-eta", paramLabel = "ETA", description = "ASHA: about one trial in ETA goes on at each rung (default: 3).")
    int ashaEta = 3;

    @Option(names = "--search-seed", paramLabel = "S", description = "Seed of the random and tpe searches (default: 1); --seed seeds every trial's training alike.")
    long searchSeed = 1;

    /** Train flags tune sets itself or has no use for. */
    private static final List<String> REFUSED = List.of("--save", "--run-dir", "--metrics", "--checkpoint-dir", "--resume", "--stream");

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync tune");
        PrintWriter err = spec.commandLine().getErr();
        checkFlags(err);
        SearchSpace searchSpace = SpaceFile.read(space);
        for (String key : searchSpace.names()) {
            if (spec.commandLine().getParseResult().hasMatchedOption("--" + key)) {
                throw new UsageException("--" + key + " is given on the command line and searched in --space " + space + ": drop one");
            }
        }
        int cores = parallel != null ? parallel : Runtime.getRuntime().availableProcessors();
        checkCores(searchSpace, cores);
        Search how = search(searchSpace);
        int n = trialCount(searchSpace);
        inMemory = true; // the trials share the data, parsed once
        checkFiles();
        Plan plan = plan(err, true);
        InMemorySource train = (InMemorySource) plan.train();
        long t0 = System.nanoTime();
        InMemorySource evalData = InMemorySource.load(plan.eval());
        err.println(String.format(Locale.ROOT, "shadowsync tune: loaded %,d evaluation examples into memory in %.1f s", evalData.size(), (System.nanoTime() - t0) / 1e9));
        Objective objective = objective(train);
        Asha asha = asha();
        err.println("shadowsync tune: " + n + " trials, search " + searchName(searchSpace) + ", " + objective.metric() + " on --eval, "
                + cores + " cores at once" + (asha == null ? "" : ", ASHA (eta " + asha.eta() + ", rungs from " + asha.minExamples() + " examples)")
                + "; trials in " + out);
        err.flush();
        Tuner.Builder tuner = Tuner.builder().search(how).trials(n).cores(cores).objective(objective).runDir(out)
                .jobs(t -> trialJob(t, train, evalData)).listener(progress(err, objective));
        if (asha != null) tuner.earlyStopping(asha, evalEvery);
        TuningResult r = tuner.build().run();
        err.print(r.table());
        err.flush();
        return finish(r, out, err);
    }

    private void checkFlags(PrintWriter err) {
        dropFlags(REFUSED, " is not for tune: it writes each trial's metrics and job file into --out DIR, and the best job file to "
                + "DIR/best-job.yaml (train that one to save a model)", err);
        if (space == null) throw new UsageException("give the search space: --space SPACE.yaml (train flags mapped to lists or {min, max, log})");
        if (out == null) throw new UsageException("give the run directory: --out DIR (a directory per trial, and the best job file)");
        if (eval == null) throw new UsageException("tune scores every trial on held-out data: give --eval PATH");
        if (trials != null && trials < 1) throw new UsageException("--trials must be at least 1, got " + trials);
        if (parallel != null && parallel < 1) throw new UsageException("--parallel must be at least 1 core, got " + parallel);
        if (Files.exists(out) && !Files.isDirectory(out)) throw new UsageException("--out " + out + " is a file, not a directory");
        if (Files.exists(out.resolve("trial-001")) || Files.exists(out.resolve("best-job.yaml"))) {
            throw new UsageException("--out " + out + " holds a search already (trial-001/ or best-job.yaml): give another directory, or remove it");
        }
        try {
            Files.createDirectories(out);
        } catch (java.io.IOException e) {
            throw new UsageException("--out " + out + ": cannot create the directory: " + Main.describe(e));
        }
    }

    /** Refuses, before any data is read, a space in which one trial would take more cores than the whole budget. */
    private void checkCores(SearchSpace s, int cores) {
        double t = s.maxNumber("trainers") != null ? s.maxNumber("trainers") : trainers;
        double w = s.maxNumber("workers") != null ? s.maxNumber("workers") : workers;
        if (t * w > cores) {
            throw new UsageException(String.format(Locale.ROOT, "a trial of %.0f trainer(s) × %.0f worker(s) takes more than the --parallel %d cores "
                    + "the trials may take together: raise --parallel or lower --workers", t, w, cores));
        }
    }

    private String searchName(SearchSpace s) {
        return search != null ? search.toLowerCase(Locale.ROOT) : s.isGrid() ? "grid" : "tpe";
    }

    private Search search(SearchSpace s) {
        return switch (searchName(s)) {
            case "grid" -> {
                if (!s.isGrid()) throw new UsageException("--search grid takes lists of values only; --space " + space + " has a range: give --search random or tpe");
                yield Search.grid(s);
            }
            case "random" -> Search.random(s, searchSeed);
            case "tpe" -> new TpeSearch(s, searchSeed, Math.min(TpeSearch.DEFAULT_STARTUP, Math.max(2, trialCount(s) / 3)),
                    TpeSearch.DEFAULT_CANDIDATES, TpeSearch.DEFAULT_GAMMA);
            default -> throw new UsageException("--search must be grid, random or tpe, not '" + search + "'");
        };
    }

    private int trialCount(SearchSpace s) {
        if (!searchName(s).equals("grid")) return trials != null ? trials : 16;
        long size = s.gridSize();
        if (trials != null && size > trials) {
            throw new UsageException("the grid of --space " + space + " has " + size + " points, more than --trials " + trials
                    + ": raise --trials to " + size + ", or give --search random or tpe");
        }
        if (size > 100_000) throw new UsageException("the grid of --space " + space + " has " + size + " points; give --search random or tpe");
        return (int) size;
    }

    private Objective objective(InMemorySource data) {
        Objective o;
        try {
            o = metric != null ? Objective.of(metric.toLowerCase(Locale.ROOT)) : Objective.defaultFor(data.schema());
        } catch (IllegalArgumentException e) {
            throw new UsageException("--metric: " + e.getMessage());
        }
        if (!o.fits(data.schema())) {
            throw new UsageException("--metric " + o.metric() + " is not measured for this data (" + (data.schema().numClasses() == 0 ? "regression"
                    : data.schema().numClasses() + " classes") + ")");
        }
        return o;
    }

    private Asha asha() {
        String how = earlyStop.toLowerCase(Locale.ROOT);
        if (how.equals("none")) return null;
        if (!how.equals("asha")) throw new UsageException("--early-stop must be none or asha, not '" + earlyStop + "'");
        if (evalEvery <= 0) throw new UsageException("--early-stop asha judges trials on their evaluations while they train: give --eval-every N");
        long min = ashaMinExamples != null ? ashaMinExamples : evalEvery;
        try {
            return new Asha(min, ashaEta);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--asha-min-examples / --asha-eta: " + e.getMessage());
        }
    }

    /** A trial's job: this command's train flags with the trial's values, on the shared data; its job file goes into its directory. */
    private TrainingJob.Builder trialJob(Tuner.Trial t, InMemorySource train, InMemorySource evalData) throws Exception {
        TrainCommand trial = trialCommand(t.params());
        trial.sharedTrain = train;
        trial.sharedEval = evalData;
        Plan p;
        try {
            p = trial.plan(new PrintWriter(java.io.Writer.nullWriter()), true);
        } catch (UsageException e) {
            throw new UsageException("trial " + t.number() + " " + t.params() + ": " + e.getMessage());
        }
        io.shadowsync.ckpt.AtomicFiles.writeString(t.dir().resolve("job.yaml"), trial.effectiveJobFile());
        try {
            TrainingJob.Builder b = trial.trainingJobBuilder(p).logEvery(java.time.Duration.ofMillis(Math.round(logEvery * 1000)));
            return evalEvery > 0 ? b.evalEvery(evalEvery) : b;
        } catch (IllegalArgumentException e) {
            throw new UsageException("trial " + t.number() + " " + t.params() + ": " + e.getMessage());
        }
    }

    /** A train command with this command's effective train flags, the trial's values in place of its own. */
    private TrainCommand trialCommand(Map<String, Object> params) {
        TrainCommand trial = new TrainCommand();
        CommandLine cl = new CommandLine(trial);
        Map<String, String> values = new HashMap<>();
        for (OptionSpec o : cl.getCommandSpec().options()) {
            String key = o.longestName();
            if (!key.startsWith("--") || o.usageHelp() || o.versionHelp() || List.of("--eval-every", "--summary-json").contains(key)) continue;
            OptionSpec mine = spec.findOption(key);
            String v = mine == null ? null : text(mine.getValue());
            if (v != null) values.put(key, v);
        }
        params.forEach((k, v) -> values.put("--" + k, text(v)));
        cl.setDefaultValueProvider(a -> a instanceof OptionSpec o ? values.get(o.longestName()) : null);
        cl.parseArgs();
        return trial;
    }

    /** A flag's value as a job file's text gives it (lists comma-separated); null for none. */
    static String text(Object v) {
        if (v == null) return null;
        if (v instanceof int[] a) return java.util.Arrays.stream(a).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(","));
        if (v instanceof long[] a) return java.util.Arrays.stream(a).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(","));
        if (v instanceof double[] a) return java.util.Arrays.stream(a).mapToObj(Double::toString).collect(java.util.stream.Collectors.joining(","));
        if (v instanceof List<?> l) return String.join(",", l.stream().map(String::valueOf).toList());
        return v.toString();
    }

    private static Tuner.Listener progress(PrintWriter err, Objective objective) {
        return new Tuner.Listener() {
            @Override
            public void started(Tuner.Trial t) {
                synchronized (err) {
                    err.println("shadowsync tune: trial " + t.number() + " started: " + t.params());
                    err.flush();
                }
            }

            @Override
            public void finished(TrialResult r) {
                String how = switch (r.status()) {
                    case DONE -> String.format(Locale.ROOT, "done, %s %.4f", objective.metric(), r.value());
                    case STOPPED -> String.format(Locale.ROOT, "stopped by ASHA at %,d examples, %s %.4f", r.stoppedAt(), objective.metric(), r.value());
                    case FAILED -> "failed: " + r.error();
                };
                synchronized (err) {
                    err.println(String.format(Locale.ROOT, "shadowsync tune: trial %d %s (%,d examples, %.1f s)", r.number(), how, r.examples(), r.seconds()));
                    err.flush();
                }
            }
        };
    }

    /** Writes DIR/best-job.yaml and prints the summary; exit 1 when no trial trained its whole budget. */
    private int finish(TuningResult r, Path dir, PrintWriter err) throws Exception {
        TrialResult best = r.best();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("command", "tune");
        summary.put("metric", r.objective().metric());
        summary.put("maximize", r.objective().maximize());
        summary.put("parallel", parallel != null ? parallel : Runtime.getRuntime().availableProcessors());
        summary.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        List<Map<String, Object>> all = new ArrayList<>();
        for (TrialResult t : r.trials()) all.add(t.toMap());
        summary.put("trials", all);
        Path bestJob = null;
        if (best != null) {
            bestJob = dir.resolve("best-job.yaml");
            io.shadowsync.ckpt.AtomicFiles.writeString(bestJob, Files.readString(best.dir().resolve("job.yaml")));
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("trial", best.number());
            b.put("params", best.params());
            b.put("eval", best.eval().toMap());
            summary.put("best", b);
            err.println("shadowsync tune: best: trial " + best.number() + " " + best.params() + ", " + r.objective().metric() + " "
                    + String.format(Locale.ROOT, "%.4f", best.value()) + "; its job file: " + bestJob);
        } else {
            summary.put("best", null);
        }
        summary.put("best_job", bestJob == null ? null : bestJob.toString());
        Json.emit(spec.commandLine().getOut(), summaryJson, summary);
        if (best == null) {
            err.println("shadowsync tune: no trial trained its whole budget (each failed or was stopped); see the table above");
            err.flush();
            return Main.EXIT_FAILURE;
        }
        return 0;
    }
}
