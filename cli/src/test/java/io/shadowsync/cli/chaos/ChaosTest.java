package io.shadowsync.cli.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.cli.ChildJvms;
import io.shadowsync.cli.Main;
import io.shadowsync.ckpt.Manifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos harness of issue 5: trials that SIGKILL a training job at a random moment — some aimed at a checkpoint
 * being written — then {@code train --resume} until it completes. Each trial must end with exit 0, the whole example
 * budget counted across the restarts, an eval logloss within {@link #MARGIN} of an undisturbed run, every resume naming
 * the checkpoint it took (the newest that verified when the process died), and after every kill a checkpoint directory
 * in which every checkpoint with a manifest verifies and nothing stray lies ({@link CheckpointAudit}).
 *
 * <p>Seeded: the seed is printed; {@code -Dshadowsync.chaos.seed=S} draws the same kinds and kill moments again
 * ({@code -Dshadowsync.chaos.trials=N} changes the count, default 12: the suite's share of time; a longer run is one flag away). The table goes to {@code target/chaos-report.md}
 * and the test's output. The kinds this build cannot run yet ({@link Kill#available}) are not drawn.
 *
 * <p>The job: logistic regression (2^16 hashed weights, Adagrad), 2 trainers of one worker in one JVM with shadow
 * model averaging, 100,000 synthetic CTR examples (one epoch), a checkpoint every 4,000 examples, two kept (each
 * checkpoint ~1 MB, so a write takes a few milliseconds of fsync).
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ChaosTest {
    static final int ROWS = 100_000;
    static final int KEEP = 2;
    /**
     * How far a chaos trial's eval logloss may be from the undisturbed run's. Measured on this data and job (seeds 1, 2,
     * 3 and seed 3 twice, uninterrupted): 0.49297–0.49330, a spread of 0.0003 (shadow averaging is not deterministic:
     * thread timing decides what a round holds). A run that lost its trained state at a restart does much worse: the
     * same job on half the data reaches 0.5001 (+0.007), on 80% 0.4945 (+0.0015). 0.003 is ten times the spread and
     * well below what losing half the training costs.
     */
    static final double MARGIN = 0.003;
    private static final long PROCESS_DEADLINE_S = 120;

    @TempDir
    static Path dir;
    static double undisturbedSeconds;
    static double undisturbedLogloss;

    @BeforeAll
    static void generateAndRunUndisturbed() throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"gen-data", "--out", dir.resolve("ctr").toString(), "--rows", Integer.toString(ROWS),
                "--eval-rows", "4000", "--vocab", "60", "--seed", "3"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        try (Children children = new Children()) {
            Path ck = dir.resolve("undisturbed"), summary = dir.resolve("undisturbed.json");
            long t0 = System.nanoTime();
            Process p = children.start(job(ck, summary, false), dir.resolve("undisturbed.out"), dir.resolve("undisturbed.err"));
            assertEquals(0, Children.await(p, PROCESS_DEADLINE_S), Files.readString(dir.resolve("undisturbed.err")));
            undisturbedSeconds = (System.nanoTime() - t0) / 1e9;
            JsonNode s = new ObjectMapper().readTree(summary.toFile());
            assertEquals(ROWS, s.get("examples").asLong());
            assertTrue(s.get("checkpoint").get("written").asInt() >= 3, s.toString());
            undisturbedLogloss = s.get("eval").get("logloss").asDouble();
        }
    }

    @AfterEach
    void noProcessLeftBehind() throws InterruptedException {
        ChildJvms.assertNoneLeftBehind();
    }

    /** The job's flags; resume adds --resume. */
    static List<String> job(Path ck, Path summary, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "lr", "--hash-bits", "16", "--optimizer", "adagrad", "--lr", "0.1",
                "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--trainers", "2", "--sync", "s-ma", "--epochs", "1", "--seed", "1", "--no-progress",
                "--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "4000", "--keep", Integer.toString(KEEP),
                "--summary-json", summary.toString()));
        if (resume) a.add("--resume");
        return a;
    }

    @Test
    void killedJobsResumeToTheResultOfAnUndisturbedRun() throws Exception {
        long seed = Long.getLong("shadowsync.chaos.seed", new SplittableRandom().nextLong());
        int trials = Integer.getInteger("shadowsync.chaos.trials", 12);
        System.out.printf(Locale.ROOT, "chaos: seed %d (reproduce with -Dshadowsync.chaos.seed=%d), %d trials; undisturbed run %.2f s, "
                + "eval logloss %.5f, margin %.3f%n", seed, seed, trials, undisturbedSeconds, undisturbedLogloss, MARGIN);
        ChaosReport report = new ChaosReport(String.format(Locale.ROOT, "Chaos run: seed %d (`-Dshadowsync.chaos.seed=%d`), %d trials. "
                + "Job: `train --model lr --hash-bits 16 --trainers 2 --sync s-ma`, %,d examples, a checkpoint every 4,000, --keep %d; "
                + "undisturbed: %.2f s, eval logloss %.5f; margin %.3f.", seed, seed, trials, ROWS, KEEP, undisturbedSeconds,
                undisturbedLogloss, MARGIN));
        SplittableRandom master = new SplittableRandom(seed);
        long t0 = System.nanoTime();
        try (Children children = new Children()) {
            for (int i = 1; i <= trials; i++) {
                ChaosReport.Trial t = trial(i, master.nextLong(), children);
                report.add(t);
                System.out.printf(Locale.ROOT, "chaos: trial %d %s %s kills at %s, %d resume(s): %s%n", i, t.kind(), t.midWrite(),
                        t.killMoments(), t.resumes(), t.passed() ? "ok" : t.problems());
            }
        }
        int kills = 0, midWrite = 0, aimed = 0;
        for (ChaosReport.Trial t : report.trials()) {
            for (String m : t.midWrite()) {
                if (!m.equals("—")) kills++;
                if (m.equals("yes")) midWrite++;
            }
            if (t.kind() == Kill.DURING_CHECKPOINT_WRITE) aimed++;
        }
        String table = report.markdown() + String.format(Locale.ROOT, "%n%d kills in %d trials (%d aimed at a checkpoint write); %d landed "
                + "mid-checkpoint-write; %.0f s in all.%n", kills, trials, aimed, midWrite, (System.nanoTime() - t0) / 1e9);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "chaos-report.md"), table);
        System.out.println(table);
        for (ChaosReport.Trial t : report.trials()) assertTrue(t.passed(), "trial " + t.index() + " failed:\n" + table);
        if (aimed >= 3) assertTrue(midWrite >= 1, "no kill aimed at a checkpoint write landed in one: the harness tests nothing there\n" + table);
    }

    /** One trial: one or two kills (the second of a resumed run), then --resume runs until one completes. */
    private ChaosReport.Trial trial(int index, long seed, Children children) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        List<Kill> others = new ArrayList<>();
        for (Kill k : Kill.values()) if (k.available && k != Kill.DURING_CHECKPOINT_WRITE) others.add(k);
        // a checkpoint write is a few ms of a multi-second run: aim 40% of the trials at it, or uniform kills would
        // mostly miss it; the other 60% are spread evenly over the other kinds this build has
        Kill kind = r.nextInt(5) < 2 ? Kill.DURING_CHECKPOINT_WRITE : others.get(r.nextInt(others.size()));
        int kills = r.nextInt(10) < 7 ? 1 : 2;
        Path trialDir = Files.createDirectories(dir.resolve("trial-" + index)), ck = trialDir.resolve("ck");
        List<String> problems = new ArrayList<>(), moments = new ArrayList<>(), midWrite = new ArrayList<>();
        Set<Long> debris = new HashSet<>();
        CheckpointAudit last = CheckpointAudit.of(ck, KEEP, false);
        int resumes = 0;
        for (int k = 0; k < kills; k++) {
            boolean resume = k > 0;
            if (resume) resumes++;
            Path err = trialDir.resolve("run-" + k + ".err");
            long start = System.nanoTime();
            Process p = children.start(job(ck, trialDir.resolve("run-" + k + ".json"), resume), trialDir.resolve("run-" + k + ".out"), err);
            double at = killOnce(kind, p, start, ck, debris, r);
            CheckpointAudit audit = CheckpointAudit.of(ck, KEEP, false);
            for (String s : audit.problems()) problems.add("after kill " + (k + 1) + ": " + s);
            if (at < 0) {
                if (p.exitValue() != 0) problems.add("run " + (k + 1) + " ended by itself with " + p.exitValue() + ": " + tail(Files.readString(err)));
                moments.add(String.format(Locale.ROOT, "ended first (%.2f s)", (System.nanoTime() - start) / 1e9));
                midWrite.add("—");
            } else {
                moments.add(String.format(Locale.ROOT, "%.2f s (%.0f%%)", at, 100 * at / undisturbedSeconds));
                boolean mid = false;
                for (long s : audit.beingWritten()) mid |= !debris.contains(s);
                midWrite.add(mid ? "yes" : "no");
            }
            if (resume) checkResumeLog(Files.readString(err), last, ck, false, problems);
            debris.addAll(audit.incomplete());
            last = audit;
        }
        resumes++;
        Path err = trialDir.resolve("final.err"), summary = trialDir.resolve("final.json");
        Process p = children.start(job(ck, summary, true), trialDir.resolve("final.out"), err);
        int code = Children.await(p, PROCESS_DEADLINE_S);
        long examples = -1;
        double logloss = Double.NaN;
        String log = Files.readString(err);
        if (code != 0) {
            problems.add("the resumed run exited with " + code + ": " + tail(log));
        } else {
            JsonNode s = new ObjectMapper().readTree(summary.toFile());
            examples = s.get("examples").asLong();
            logloss = s.get("eval").get("logloss").asDouble();
            if (examples != ROWS) problems.add(String.format(Locale.ROOT, "trained %,d examples, the budget is %,d", examples, ROWS));
            if (!(Math.abs(logloss - undisturbedLogloss) <= MARGIN)) {
                problems.add(String.format(Locale.ROOT, "eval logloss %.5f, the undisturbed run's %.5f ± %.3f", logloss, undisturbedLogloss, MARGIN));
            }
            JsonNode from = s.get("checkpoint").get("resumed_from");
            String named = checkResumeLog(log, last, ck, true, problems);
            if (!(from.isNull() ? named == null : from.asText().equals(named))) problems.add("the summary resumed from " + from + ", the log named " + named);
            boolean wrote = s.get("checkpoint").get("written").asInt() > 0;
            for (String x : CheckpointAudit.of(ck, KEEP, wrote).problems()) problems.add("after the resumed run: " + x);
        }
        return new ChaosReport.Trial(index, seed, kind, moments, midWrite, resumes, examples, logloss, problems);
    }

    /**
     * Kills p as kind says; returns seconds from start to the kill, or −1 when p ended by itself first. WHOLE_JOB: at
     * a moment uniform over the undisturbed run's time. DURING_CHECKPOINT_WRITE: from a moment uniform over its first
     * 80%, watches ck and kills the moment a checkpoint newer than every complete one lacks its manifest.
     */
    private static double killOnce(Kill kind, Process p, long start, Path ck, Set<Long> debris, SplittableRandom r) throws Exception {
        switch (kind) {
            case WHOLE_JOB -> {
                long at = start + (long) (r.nextDouble() * undisturbedSeconds * 1e9);
                long left = at - System.nanoTime();
                if (left > 0 && p.waitFor(left, TimeUnit.NANOSECONDS)) return -1;
                if (!p.isAlive()) return -1;
                double when = (System.nanoTime() - start) / 1e9;
                Children.kill(p);
                return when;
            }
            case DURING_CHECKPOINT_WRITE -> {
                long arm = start + (long) (r.nextDouble() * 0.8 * undisturbedSeconds * 1e9);
                long left = arm - System.nanoTime();
                if (left > 0 && p.waitFor(left, TimeUnit.NANOSECONDS)) return -1;
                long deadline = System.nanoTime() + PROCESS_DEADLINE_S * 1_000_000_000L;
                while (p.isAlive()) {
                    if (writeUnderWay(ck, debris)) {
                        double when = (System.nanoTime() - start) / 1e9;
                        Children.kill(p);
                        return when;
                    }
                    if (System.nanoTime() > deadline) throw new IllegalStateException("the job ran past " + PROCESS_DEADLINE_S + " s");
                    Thread.onSpinWait();
                }
                return -1;
            }
            default -> throw new IllegalArgumentException(kind + " needs a build that has " + kind.label + " kills");
        }
    }

    /** A ckpt-N without MANIFEST that is not a previous kill's debris and newer than every complete checkpoint. */
    private static boolean writeUnderWay(Path ck, Set<Long> debris) throws IOException {
        if (!Files.isDirectory(ck)) return false;
        long newestComplete = 0, newestIncomplete = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ck, "ckpt-*")) {
            for (Path d : ds) {
                long seq;
                try {
                    seq = Long.parseLong(d.getFileName().toString().substring(5));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (Files.exists(d.resolve(Manifest.NAME))) newestComplete = Math.max(newestComplete, seq);
                else if (!debris.contains(seq)) newestIncomplete = Math.max(newestIncomplete, seq);
            }
        }
        return newestIncomplete > newestComplete;
    }

    private static final Pattern RESUMING = Pattern.compile("shadowsync train: resuming from (\\S+) \\(");
    private static final Pattern SKIPPING = Pattern.compile("warning: skipping checkpoint (\\S+): (.*)");

    /**
     * A --resume run's log: it names the checkpoint it took, which must be the newest complete one when the previous
     * run died (the audit verified it), or says there was none; every checkpoint it skipped must be one without a
     * manifest. Returns the named checkpoint, or null. complete: the run ended normally (its log is whole).
     */
    private static String checkResumeLog(String log, CheckpointAudit before, Path ck, boolean complete, List<String> problems) {
        Matcher skip = SKIPPING.matcher(log);
        while (skip.find()) {
            if (!skip.group(2).startsWith("no MANIFEST")) problems.add("resume skipped a checkpoint with a manifest: " + skip.group(0));
        }
        Matcher m = RESUMING.matcher(log);
        String expected = before.newestComplete() == 0 ? null : ck.resolve("ckpt-" + before.newestComplete()).toString();
        if (m.find()) {
            if (!m.group(1).equals(expected)) problems.add("resumed from " + m.group(1) + ", the newest good checkpoint was " + expected);
            return m.group(1);
        }
        if (log.contains("warning: --resume: no checkpoint in " + ck + " yet")) {
            if (expected != null) problems.add("resume found no checkpoint, but " + expected + " was good");
            return null;
        }
        if (complete) problems.add("the resume log names no checkpoint: " + tail(log));
        return null;
    }

    private static String tail(String log) {
        return log.length() <= 400 ? log : "…" + log.substring(log.length() - 400);
    }
}
