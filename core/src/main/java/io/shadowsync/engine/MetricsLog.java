package io.shadowsync.engine;

import io.shadowsync.comm.ElasticGroup;
import io.shadowsync.data.DataSource;
import io.shadowsync.metrics.CallStats;
import io.shadowsync.metrics.MetricsSink;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.Model;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metrics of a running job as records for {@link MetricsSink}s (docs/metrics.md): every interval one {@code "train"}
 * record per trainer run here (examples, training loss, throughput, sync rounds, staleness, bytes, parameter-server
 * calls and their latency percentiles; an elastic job's members, with a {@code "membership"} record per change), and, with an
 * {@link EvalPlan}, an {@code "eval"} record each time the job has trained another {@code everyExamples} examples.
 *
 * <p>A sampler thread reads only the trainers' lock-free counters; the evaluation thread scores a copy of trainer 0's
 * dense replica (taken without stopping its workers, so it may mix two of their steps, as any Hogwild read does) against
 * the shared embedding tables, which it only pulls from. Neither thread ever blocks a worker or writes to the model.
 * Use: {@link #start()} before or as the job runs, {@link #finish()} after {@link Job#run()} returns, which writes
 * every trainer's last record. A sink that throws is dropped; {@link #error()} says why.
 */
public final class MetricsLog {
    /** The default time between records. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    /** The shortest time between records allowed. */
    public static final Duration MIN_INTERVAL = Duration.ofMillis(100);

    /** Evaluate {@code data} in batches of {@code batchSize} each time the job has trained {@code everyExamples} more examples. */
    public record EvalPlan(DataSource data, long everyExamples, int batchSize) {
        public EvalPlan {
            if (everyExamples < 1) throw new IllegalArgumentException("evaluation every N examples needs N >= 1, got " + everyExamples);
            if (batchSize < 1) throw new IllegalArgumentException("evaluation batch size must be at least 1, got " + batchSize);
        }
    }

    /** A trainer's counters at the last record, for the interval's rates. */
    private record Mark(long examples, double lossSum, double seconds, long rounds, double roundMillis,
                        CallStats.Snapshot tableCalls, CallStats.Snapshot denseCalls) {}

    private final Job job;
    private final long intervalNanos;
    private final List<MetricsSink> sinks;
    private final EvalPlan eval;
    private final Mark[] marks;
    private final Object emitLock = new Object();
    private final Object tick = new Object();
    private volatile boolean done;
    private boolean finished;
    private volatile String error;
    /** The elastic membership changes already written as records (the sampler's, then finish's). */
    private int membershipSeen;
    private Thread sampler;
    private Thread evaluator;

    public MetricsLog(Job job, Duration interval, List<MetricsSink> sinks, EvalPlan eval) {
        if (interval.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException("metrics interval must be at least " + MIN_INTERVAL.toMillis() + " ms, got " + interval.toMillis() + " ms");
        }
        this.job = job;
        this.intervalNanos = interval.toNanos();
        this.sinks = new java.util.concurrent.CopyOnWriteArrayList<>(sinks);
        this.eval = eval;
        this.marks = new Mark[job.trainers()];
    }

    /** Starts the sampler (and evaluation) threads; daemons, so that they never keep a JVM alive. */
    public synchronized void start() {
        if (sampler != null) throw new IllegalStateException("metrics log already started");
        for (int i = 0; i < marks.length; i++) { // a resumed job's earlier examples are not this interval's
            Trainer t = job.trainer(i);
            Trainer.Progress p = t.progress();
            marks[i] = new Mark(p.examples(), p.lossSum(), p.seconds(), t.syncRounds(), t.meanRoundMillis() * t.syncRounds(),
                    job.serverCalls(i, false).snapshot(), job.serverCalls(i, true).snapshot());
        }
        sampler = daemon(this::sampleLoop, "metrics");
        if (eval != null) evaluator = daemon(this::evalLoop, "metrics-eval");
    }

    /**
     * Stops the threads (an evaluation in progress is finished) and writes every trainer's last record (marked
     * {@code "final": true}), with the counters at the end of the job. Later calls do nothing.
     */
    public void finish() throws InterruptedException {
        synchronized (this) {
            if (finished) return; // once: the final records are written once
            finished = true;
        }
        done = true;
        Thread s, e;
        synchronized (this) {
            s = sampler;
            e = evaluator;
        }
        synchronized (tick) {
            tick.notifyAll(); // not an interrupt: one would close the file channel a sink may be writing
        }
        if (s != null) s.join();
        if (e != null) e.join(); // not interrupted: an interrupt would close the file channel it reads
        sample(true);
    }

    /** Writes an evaluation of the job's model, e.g. the one after training, as an {@code "eval"} record. */
    public void logEval(Evaluator.Result result, boolean last) {
        Map<String, Object> r = header("eval", job.ranks()[0]);
        Trainer.Progress p = job.progress();
        r.put("seconds", p.seconds());
        r.put("examples", p.examples());
        r.putAll(result.toMap());
        r.put("final", last);
        emit(r);
    }

    private static Thread daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Why a sink was dropped (the first failure), or null. */
    public String error() {
        return error;
    }

    private void sampleLoop() {
        long next = System.nanoTime() + intervalNanos;
        while (!done) {
            try {
                synchronized (tick) {
                    long wait;
                    while (!done && (wait = next - System.nanoTime()) > 0) tick.wait(Math.max(1, wait / 1_000_000));
                }
            } catch (InterruptedException e) {
                return;
            }
            if (done) return;
            sample(false);
            next += intervalNanos;
            long now = System.nanoTime();
            if (next < now) next = now + intervalNanos; // a stalled sampler skips the ticks it missed
        }
    }

    /** {@code PREFIX_calls} so far and the interval's {@code PREFIX_p50_ms}, {@code _p99_ms}, {@code _max_ms} (null without calls). */
    private static void calls(Map<String, Object> r, String prefix, CallStats.Snapshot now, CallStats.Snapshot before) {
        CallStats.Snapshot interval = now.minus(before);
        boolean any = interval.calls() > 0;
        r.put(prefix + "_calls", now.calls());
        r.put(prefix + "_p50_ms", any ? interval.quantileMillis(0.5) : null);
        r.put(prefix + "_p99_ms", any ? interval.quantileMillis(0.99) : null);
        r.put(prefix + "_max_ms", any ? interval.quantileMillis(1.0) : null);
    }

    /**
     * An elastic job's membership changes since the last record, one {@code "membership"} record each (written by the
     * first trainer here); returns how many there have been so far.
     */
    private int membership(ElasticGroup group) {
        List<String> all = group.changes();
        for (int k = membershipSeen; k < all.size(); k++) {
            Map<String, Object> r = header("membership", job.ranks()[0]);
            r.put("members", group.size());
            r.put("change", all.get(k));
            r.put("changes", k + 1);
            emit(r);
        }
        membershipSeen = Math.max(membershipSeen, all.size());
        return all.size();
    }

    /** One record per trainer run here (after the membership changes since the last, if any). */
    private void sample(boolean last) {
        long[] roundsNow = new long[marks.length]; // read once: a second read may see rounds taken since the maximum was
        ElasticGroup group = job.elasticGroup();
        Integer changes = group == null ? null : membership(group);
        long maxRounds = 0;
        for (int i = 0; i < marks.length; i++) maxRounds = Math.max(maxRounds, roundsNow[i] = job.trainer(i).syncRounds());
        int[] ranks = job.ranks();
        for (int i = 0; i < marks.length; i++) {
            Trainer t = job.trainer(i);
            Trainer.Progress p = t.progress();
            long rounds = roundsNow[i];
            double roundMillis = t.meanRoundMillis() * rounds;
            Mark m = marks[i] == null ? new Mark(0, 0, 0, 0, 0, CallStats.Snapshot.EMPTY, CallStats.Snapshot.EMPTY) : marks[i]; // null: never started
            long dEx = p.examples() - m.examples();
            double dSec = p.seconds() - m.seconds();
            long dRounds = rounds - m.rounds();
            Map<String, Object> r = header("train", ranks[i]);
            r.put("seconds", p.seconds());
            r.put("epoch", p.epoch());
            r.put("examples", p.examples());
            r.put("examples_per_sec", dSec > 0 ? dEx / dSec : 0.0);
            r.put("loss", dEx > 0 ? (p.lossSum() - m.lossSum()) / dEx : null);
            TrainWindow.Snapshot w = t.window();
            r.put("window_examples", w.examples());
            r.put("window_loss", w.examples() > 0 ? w.meanLoss() : null);
            r.put("window_ne", w.examples() > 0 ? w.ne() : null);
            r.put("rounds", rounds);
            r.put("round_ms", dRounds > 0 ? (roundMillis - m.roundMillis()) / dRounds : null);
            SyncStats s = t.syncStats();
            long lastRound = s.lastRoundEndNanos();
            r.put("staleness_ms", lastRound == 0 ? null : (System.nanoTime() - lastRound) / 1e6);
            r.put("staleness_rounds", marks.length > 1 ? maxRounds - rounds : null);
            r.put("bytes_sent", t.syncBytes());
            r.put("compression_ratio", s.compressionRatio());
            CallStats.Snapshot tables = job.serverCalls(i, false).snapshot(), dense = job.serverCalls(i, true).snapshot();
            calls(r, "ps", tables, m.tableCalls());
            calls(r, "dense", dense, m.denseCalls());
            r.put("members", group == null ? null : group.size());
            r.put("membership_changes", group == null ? null : changes);
            r.put("final", last);
            marks[i] = new Mark(p.examples(), p.lossSum(), p.seconds(), rounds, roundMillis, tables, dense);
            emit(r);
        }
    }

    private void evalLoop() {
        long next = eval.everyExamples();
        Trainer first = job.trainer(0);
        Model copy = first.model().spec().build();
        float[] live = first.model().dense().data();
        float[] snapshot = copy.dense().data();
        while (!done) {
            long trained = job.progress().examples();
            if (trained < next) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            System.arraycopy(live, 0, snapshot, 0, snapshot.length);
            Map<String, Object> r = header("eval", job.ranks()[0]);
            r.put("seconds", job.progress().seconds());
            r.put("examples", trained);
            try {
                r.putAll(Evaluator.evaluate(copy, job.tables(), eval.data(), eval.batchSize()).toMap());
            } catch (Exception | Error e) {
                r.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
                r.put("final", false);
                emit(r);
                return; // a failing evaluation does not stop training, and is not tried again
            }
            r.put("final", false);
            emit(r);
            while (next <= trained) next += eval.everyExamples();
        }
    }

    private Map<String, Object> header(String type, int trainer) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", type);
        r.put("time", System.currentTimeMillis());
        r.put("trainer", trainer);
        return r;
    }

    private void emit(Map<String, Object> record) {
        synchronized (emitLock) {
            for (MetricsSink sink : sinks) {
                try {
                    sink.accept(record);
                } catch (RuntimeException e) {
                    sinks.remove(sink);
                    if (error == null) error = e.getMessage() == null ? e.toString() : e.getMessage();
                }
            }
        }
    }
}
