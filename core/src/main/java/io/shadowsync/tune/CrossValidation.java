package io.shadowsync.tune;

import io.shadowsync.api.RunControl;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.api.TrainingResult;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.metrics.Metrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * k-fold cross-validation in this JVM: fold f trains a job on every example outside fold f and evaluates it on fold
 * f; folds run side by side while the cores they take (trainers × workers each) stay within a budget. The data is
 * loaded once; each running fold holds a copy of its training part.
 *
 * <pre>{@code
 * InMemorySource data = InMemorySource.load(source);
 * int[][] folds = Folds.stratified(labelsOf(data), 5, 1234);
 * CrossValidation.Result r = CrossValidation.run(data, folds, 2, (f, train, heldOut) -> TrainingJob.builder().data(train).eval(heldOut));
 * System.out.println(r.mean().get("accuracy") + " ± " + r.std().get("accuracy"));
 * }</pre>
 */
public final class CrossValidation {
    private CrossValidation() {}

    /** Builds fold f's job: it must train on {@code train} and evaluate on {@code heldOut}. */
    @FunctionalInterface
    public interface FoldJobs {
        TrainingJob.Builder job(int fold, InMemorySource train, InMemorySource heldOut) throws Exception;
    }

    /** One fold: its number (from 0), its examples trained and held out, its metrics on the held-out ones, its wall time. */
    public record FoldResult(int fold, int trainExamples, int evalExamples, Metrics eval, double seconds) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fold", fold);
            m.put("train_examples", trainExamples);
            m.put("eval_examples", evalExamples);
            m.put("eval", eval.toMap());
            m.put("seconds", Math.round(seconds * 1000) / 1000.0);
            return m;
        }
    }

    /**
     * Every fold, by number, and per metric the mean over the folds and the sample standard deviation (n − 1 in the
     * denominator), for the metrics every fold has.
     */
    public record Result(List<FoldResult> folds, Map<String, Double> mean, Map<String, Double> std, double seconds) {
        /** The folds as a text table, and mean ± std. */
        public String table() {
            List<String> names = new ArrayList<>(mean.keySet());
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%4s %9s %9s %8s", "fold", "train", "held-out", "seconds"));
            for (String n : names) sb.append(String.format(Locale.ROOT, " %15s", n));
            sb.append('\n');
            for (FoldResult f : folds) {
                sb.append(String.format(Locale.ROOT, "%4d %,9d %,9d %8.1f", f.fold(), f.trainExamples(), f.evalExamples(), f.seconds()));
                Map<String, Object> m = f.eval().toMap();
                for (String n : names) sb.append(String.format(Locale.ROOT, " %15.4f", ((Number) m.get(n)).doubleValue()));
                sb.append('\n');
            }
            sb.append(String.format(Locale.ROOT, "%4s %9s %9s %8s", "mean", "", "", ""));
            for (String n : names) sb.append(String.format(Locale.ROOT, " %15s", String.format(Locale.ROOT, "%.4f±%.4f", mean.get(n), std.get(n))));
            sb.append('\n');
            return sb.toString();
        }
    }

    /**
     * Runs every fold, at most {@code cores} cores at once, and returns them. A fold whose training fails ends the
     * others and is thrown as a {@link TrainingException} naming the fold.
     */
    public static Result run(InMemorySource data, int[][] folds, int cores, FoldJobs jobs) throws Exception {
        long t0 = System.nanoTime();
        CoreBudget budget = new CoreBudget(cores);
        List<FoldResult> results = Collections.synchronizedList(new ArrayList<>());
        List<RunControl> controls = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        try {
            for (int f = 0; f < folds.length; f++) {
                synchronized (failure) {
                    if (failure[0] != null) break;
                }
                int fold = f;
                InMemorySource train = data.select(Folds.complement(folds, f, data.size()), "folds other than " + f + " of " + data.describe());
                InMemorySource heldOut = data.select(folds[f], "fold " + f + " of " + data.describe());
                TrainingJob job = jobs.job(f, train, heldOut).build();
                int need = job.config().trainers() * job.config().trainer().workers();
                RunControl control = new RunControl();
                synchronized (controls) {
                    controls.add(control);
                }
                budget.start(String.format(Locale.ROOT, "cv/fold-%d", f), need, () -> {
                    long s = System.nanoTime();
                    try {
                        TrainingResult r = job.run(control);
                        results.add(new FoldResult(fold, train.size(), heldOut.size(), r.eval(), (System.nanoTime() - s) / 1e9));
                    } catch (Exception | Error e) {
                        synchronized (failure) {
                            if (failure[0] == null) failure[0] = new TrainingException(fold(fold, e));
                        }
                        stopAll(controls);
                    }
                });
            }
        } catch (Exception | Error e) {
            stopAll(controls);
            budget.joinAll();
            throw e;
        }
        budget.joinAll();
        if (failure[0] != null) throw (TrainingException) failure[0];
        List<FoldResult> byFold = new ArrayList<>(results);
        byFold.sort(java.util.Comparator.comparingInt(FoldResult::fold));
        return summarize(byFold, (System.nanoTime() - t0) / 1e9);
    }

    private static Throwable fold(int f, Throwable e) {
        Throwable root = e instanceof TrainingException && e.getCause() != null ? e.getCause() : e;
        return new RuntimeException("fold " + f + ": " + (root.getMessage() == null ? root.toString() : root.getMessage()), root);
    }

    private static void stopAll(List<RunControl> controls) {
        synchronized (controls) {
            for (RunControl c : controls) c.stop();
        }
    }

    /** Mean and sample standard deviation of each metric every fold has (count left out). */
    static Result summarize(List<FoldResult> folds, double seconds) {
        Map<String, Double> mean = new LinkedHashMap<>(), std = new LinkedHashMap<>();
        for (String name : folds.get(0).eval().toMap().keySet()) {
            if (name.equals("count") || name.equals("eval_seconds")) continue;
            double[] v = new double[folds.size()];
            boolean all = true;
            for (int i = 0; i < v.length && all; i++) {
                Object x = folds.get(i).eval().toMap().get(name);
                if (x instanceof Number n) v[i] = n.doubleValue();
                else all = false;
            }
            if (!all) continue;
            double m = 0;
            for (double x : v) m += x;
            m /= v.length;
            double ss = 0;
            for (double x : v) ss += (x - m) * (x - m);
            mean.put(name, m);
            std.put(name, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0.0);
        }
        return new Result(folds, mean, std, seconds);
    }
}
