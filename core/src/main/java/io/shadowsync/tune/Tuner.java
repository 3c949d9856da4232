package io.shadowsync.tune;

import io.shadowsync.api.RunControl;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.api.TrainingResult;
import io.shadowsync.metrics.JsonlMetricsFile;
import io.shadowsync.metrics.MetricsSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A hyperparameter search run in this JVM: trials proposed by a {@link Search}, each a {@link TrainingJob} built by the
 * caller from its parameters, run side by side while the cores they take (trainers × workers each) stay within a
 * budget, optionally stopped early by {@link Asha} on the evaluations they log while training.
 *
 * <pre>{@code
 * InMemorySource train = InMemorySource.load(source), eval = InMemorySource.load(heldOut); // parsed once, shared
 * SearchSpace space = SearchSpace.builder().range("lr", 1e-3, 0.5, true, false).choice("batch", List.of(32, 64)).build();
 * TuningResult r = Tuner.builder()
 *         .search(Search.tpe(space, 1)).trials(16).cores(2).objective(Objective.of("accuracy"))
 *         .jobs(t -> TrainingJob.builder().data(train).eval(eval)
 *                 .learningRate((Double) t.params().get("lr")).batchSize(((Number) t.params().get("batch")).intValue()))
 *         .earlyStopping(new Asha(5_000, 3), 5_000).runDir(Path.of("runs/tune"))
 *         .build().run();
 * System.err.print(r.table());
 * }</pre>
 *
 * Every trial's job reads the same data objects: give it data loaded once ({@link io.shadowsync.data.InMemorySource},
 * read-only and shared by any number of readers). The tuner gives each trial's builder its own metrics listener (and,
 * with a run directory, its {@code metrics.jsonl}) and, with early stopping, its evaluation interval; a trial whose
 * training fails is recorded as failed and the search goes on. A {@code jobs} function that throws, or a job that does
 * not build, ends the search: the trials running are stopped, and the exception is thrown.
 */
public final class Tuner {
    /** A trial about to run: its number (from 1), its parameters, and its run directory (null without one). */
    public record Trial(int number, Map<String, Object> params, Path dir) {}

    /** Builds a trial's job from its parameters (and may write into its directory, e.g. the job's settings). */
    @FunctionalInterface
    public interface Jobs {
        TrainingJob.Builder job(Trial trial) throws Exception;
    }

    /** Hears of trials as they start and end, on their threads (keep it quick). */
    public interface Listener {
        default void started(Trial trial) {}

        default void finished(TrialResult result) {}
    }

    private final Search search;
    private final int trials;
    private final int cores;
    private final Objective objective;
    private final Jobs jobs;
    private final Asha asha;
    private final long evalEvery;
    private final Path runDir;
    private final Listener listener;

    private Tuner(Builder b) {
        this.search = b.search;
        this.trials = b.trials;
        this.cores = b.cores;
        this.objective = b.objective;
        this.jobs = b.jobs;
        this.asha = b.asha;
        this.evalEvery = b.evalEvery;
        this.runDir = b.runDir;
        this.listener = b.listener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the trials (fewer when the search runs out, as a grid does) and returns them all. Throws what the jobs
     * function or a job's build threw, after stopping the trials that were running.
     */
    public TuningResult run() throws Exception {
        long t0 = System.nanoTime();
        CoreBudget budget = new CoreBudget(cores);
        List<Search.Observation> finished = Collections.synchronizedList(new ArrayList<>());
        List<TrialResult> results = Collections.synchronizedList(new ArrayList<>());
        List<RunControl> running = Collections.synchronizedList(new ArrayList<>());
        try {
            for (int n = 1; n <= trials; n++) {
                budget.awaitFreeCore(); // propose as late as possible: the model sees every trial finished by now
                Map<String, Object> params = search.next(List.copyOf(finished));
                if (params == null) break;
                Trial trial = new Trial(n, Collections.unmodifiableMap(new java.util.LinkedHashMap<>(params)), trialDir(n));
                RunControl control = new RunControl();
                TrialRun run = new TrialRun(trial, control);
                TrainingJob job = run.configure(jobs.job(trial)).build();
                int need = job.config().trainers() * job.config().trainer().workers();
                if (need > cores) {
                    throw new IllegalArgumentException("trial " + n + " (" + params + ") takes " + need + " cores (trainers × workers), more "
                            + "than the budget of " + cores);
                }
                running.add(control);
                budget.start(String.format(java.util.Locale.ROOT, "tune/trial-%03d", n), need, () -> {
                    TrialResult r = run.run(job);
                    results.add(r);
                    finished.add(new Search.Observation(r.params(), objective.loss(r.value())));
                    running.remove(control);
                    listener.finished(r);
                });
            }
        } catch (Exception | Error e) {
            synchronized (running) {
                for (RunControl c : running) c.stop();
            }
            budget.joinAll();
            throw e;
        }
        budget.joinAll();
        List<TrialResult> byNumber = new ArrayList<>(results);
        byNumber.sort(java.util.Comparator.comparingInt(TrialResult::number));
        return new TuningResult(objective, byNumber, (System.nanoTime() - t0) / 1e9);
    }

    private Path trialDir(int n) throws IOException {
        if (runDir == null) return null;
        Path d = runDir.resolve(String.format(java.util.Locale.ROOT, "trial-%03d", n));
        Files.createDirectories(d);
        return d;
    }

    /** One trial: its job's metrics go to ASHA (and the trial's metrics file); the outcome goes to summary.json. */
    private final class TrialRun implements MetricsSink {
        private final Trial trial;
        private final RunControl control;
        private volatile long stoppedAt;

        TrialRun(Trial trial, RunControl control) {
            this.trial = trial;
            this.control = control;
        }

        TrainingJob.Builder configure(TrainingJob.Builder b) {
            b.metricsListener(this);
            if (trial.dir() != null) b.metrics(trial.dir().resolve("metrics.jsonl"));
            if (evalEvery > 0) b.evalEvery(evalEvery);
            return b;
        }

        /** An evaluation while training: ASHA decides whether the trial goes on. */
        @Override
        public void accept(Map<String, Object> record) {
            if (asha == null || !"eval".equals(record.get("type")) || Boolean.TRUE.equals(record.get("final"))) return;
            if (!(record.get("examples") instanceof Number examples)) return;
            double value = record.get(objective.metric()) instanceof Number v ? v.doubleValue() : Double.NaN;
            if (!asha.report(trial.number(), examples.longValue(), objective.loss(value)) && stoppedAt == 0) {
                stoppedAt = examples.longValue();
                control.stop();
            }
        }

        TrialResult run(TrainingJob job) {
            listener.started(trial);
            long t0 = System.nanoTime();
            TrialResult r;
            try {
                TrainingResult tr = job.run(control);
                r = new TrialResult(trial.number(), trial.params(), stoppedAt > 0 ? TrialResult.Status.STOPPED : TrialResult.Status.DONE,
                        tr.eval(), objective.value(tr.eval()), tr.examples(), (System.nanoTime() - t0) / 1e9, stoppedAt, null, trial.dir());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                r = failed(t0, "interrupted");
            } catch (Exception | Error e) {
                Throwable root = e instanceof io.shadowsync.engine.TrainingException && e.getCause() != null ? e.getCause() : e;
                r = failed(t0, root.getMessage() == null ? root.toString() : root.getMessage());
            }
            if (trial.dir() != null) {
                try {
                    io.shadowsync.ckpt.AtomicFiles.writeString(trial.dir().resolve("summary.json"), JsonlMetricsFile.line(r.toMap()) + "\n");
                } catch (IOException e) {
                    // the result is kept in memory and in the search's summary; a trial's file is a copy
                    System.getLogger(Tuner.class.getName()).log(System.Logger.Level.WARNING, trial.dir() + "/summary.json: " + e.getMessage());
                }
            }
            return r;
        }

        private TrialResult failed(long t0, String why) {
            return new TrialResult(trial.number(), trial.params(), TrialResult.Status.FAILED, null, Double.NaN, 0,
                    (System.nanoTime() - t0) / 1e9, 0, why, trial.dir());
        }
    }

    /** Collects a search's settings; {@link #build()} checks them. */
    public static final class Builder {
        private Search search;
        private int trials = 16;
        private int cores = Runtime.getRuntime().availableProcessors();
        private Objective objective;
        private Jobs jobs;
        private Asha asha;
        private long evalEvery;
        private Path runDir;
        private Listener listener = new Listener() {};

        private Builder() {}

        /** How trials are proposed (required). */
        public Builder search(Search search) {
            this.search = search;
            return this;
        }

        /** At most this many trials (default 16; a grid may run out first). */
        public Builder trials(int trials) {
            this.trials = trials;
            return this;
        }

        /** The cores the running trials may take together, each trainers × workers (default: this machine's processors). */
        public Builder cores(int cores) {
            this.cores = cores;
            return this;
        }

        /** The metric to optimize (required). */
        public Builder objective(Objective objective) {
            this.objective = objective;
            return this;
        }

        /** Builds each trial's job from its parameters (required); the trials' data should be loaded once and shared. */
        public Builder jobs(Jobs jobs) {
            this.jobs = jobs;
            return this;
        }

        /** Stop trials that fall behind, judged on an evaluation every {@code evalEvery} examples (default: none). */
        public Builder earlyStopping(Asha asha, long evalEvery) {
            this.asha = asha;
            this.evalEvery = evalEvery;
            return this;
        }

        /** Keep each trial's metrics.jsonl and summary.json in {@code dir/trial-NNN} (default: none). */
        public Builder runDir(Path dir) {
            this.runDir = dir;
            return this;
        }

        public Builder listener(Listener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public Tuner build() {
            if (search == null) throw new IllegalArgumentException("search(...): give how trials are proposed, e.g. Search.tpe(space, seed)");
            if (objective == null) throw new IllegalArgumentException("objective(...): give the metric to optimize, e.g. Objective.of(\"accuracy\")");
            if (jobs == null) throw new IllegalArgumentException("jobs(...): give how a trial's parameters become a TrainingJob.Builder");
            if (trials < 1) throw new IllegalArgumentException("trials(" + trials + "): give at least 1");
            if (cores < 1) throw new IllegalArgumentException("cores(" + cores + "): give at least 1");
            if (asha != null && evalEvery < 1) {
                throw new IllegalArgumentException("earlyStopping(asha, " + evalEvery + "): ASHA judges trials on evaluations while they train: "
                        + "give an evaluation interval of at least 1 example");
            }
            return new Tuner(this);
        }
    }
}
