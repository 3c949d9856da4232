package io.shadowsync.cli.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.cli.ChildJvms;
import io.shadowsync.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos harness's kills of one process of a running multi-process job: each trial launches the same job
 * ({@code launch --local 3 --ps 2 --ps-replicas 2 --elastic --respawn 1}, DLRM) and SIGKILLs a random trainer or a
 * random parameter server at a random moment after training started. The job must end by itself with exit 0, an
 * eval logloss within {@link #MARGIN} of an undisturbed in-process run, and a summary that names what happened: a
 * trainer's departure and return in {@code membership}, a server's death as a failover of its shards
 * ({@code ps_failovers}). Seeded like {@link ChaosTest} ({@code -Dshadowsync.chaos.seed=S},
 * {@code -Dshadowsync.chaos.process.trials=N}, default 3, enough for both kinds in the suite's time); the table is printed and written to
 * {@code target/process-chaos-report.md}.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ProcessChaosTest {
    /** Twice the spread of shadow averaging between runs on this data (MultiProcessTest: 0.01). */
    static final double MARGIN = 0.02;

    @TempDir
    static Path dir;
    static double reference;

    @BeforeAll
    static void generateAndRunUndisturbed() throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "24000", "--eval-rows", "4000",
                "--vocab", "2000", "--seed", "11"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        List<String> train = new ArrayList<>(List.of("train", "--trainers", "3", "--ps-shards", "2", "--no-progress"));
        train.addAll(job());
        out = new StringWriter();
        err = new StringWriter();
        code = Main.run(train.toArray(new String[0]), new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        String[] lines = out.toString().strip().split("\n");
        reference = new ObjectMapper().readTree(lines[lines.length - 1]).get("eval").get("logloss").asDouble();
    }

    @AfterEach
    void noProcessLeftBehind() throws InterruptedException {
        ChildJvms.assertNoneLeftBehind();
    }

    static List<String> job() {
        return List.of("--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "2", "--seed", "4");
    }

    @Test
    void killedTrainersAndServersLeaveTheJobWhole() throws Exception {
        long seed = Long.getLong("shadowsync.chaos.seed", new SplittableRandom().nextLong());
        int trials = Integer.getInteger("shadowsync.chaos.process.trials", 3);
        SplittableRandom master = new SplittableRandom(seed);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "Process kills: seed %d, %d trials; undisturbed in-process "
                + "eval logloss %.5f, margin %.2f.%n%n| trial | killed | at (s after training started) | exit | examples trained / asked | eval logloss "
                + "| what the summary says | outcome |%n|---|---|---|---|---|---|---|---|%n", seed, trials, reference, MARGIN));
        List<String> failures = new ArrayList<>();
        for (int i = 1; i <= trials; i++) {
            SplittableRandom r = master.split();
            // alternate the kinds so that every run has both; the victim and the moment are random
            boolean server = i % 2 == 0;
            String victim = server ? "ps-" + r.nextInt(2) : "trainer-" + r.nextInt(3);
            double delay = r.nextDouble() * 3.0;
            ChildJvms.Launched t = run(victim, delay);
            List<String> problems = new ArrayList<>();
            String said = "";
            if (t.code() != 0 || t.summary() == null) {
                problems.add("exit " + t.code() + ": " + tail(t.lines()));
            } else {
                double ll = t.summary().get("eval").get("logloss").asDouble();
                if (!(Math.abs(ll - reference) <= MARGIN)) problems.add(String.format(Locale.ROOT, "logloss %.5f vs %.5f", ll, reference));
                long asked = t.summary().path("examples_asked").asLong(-1), trained = t.summary().path("examples_trained").asLong(-2);
                if (trained != asked) problems.add("trained " + trained + " of the " + asked + " examples asked");
                if (server) {
                    long failovers = t.summary().path("ps_failovers").asLong(0);
                    said = "ps_failovers " + failovers + " (the leader's)";
                    if (t.lines().stream().noneMatch(l -> l.contains(victim + " died"))) problems.add("the launcher did not report " + victim + "'s death");
                } else {
                    JsonNode m = t.summary().get("membership");
                    said = "members " + m.get("members") + ", epoch " + m.get("epoch");
                    String changes = m.get("changes").toString();
                    String index = victim.substring("trainer-".length());
                    if (!(changes.contains("trainer " + index) && changes.contains("left"))) problems.add("membership does not name the departure: " + changes);
                }
            }
            table.append(String.format(Locale.ROOT, "| %d | %s | %.2f | %d | %s | %s | %s | %s |%n", i, victim, delay, t.code(),
                    t.summary() == null ? "—" : t.summary().path("examples_trained").asText() + " / " + t.summary().path("examples_asked").asText(),
                    t.summary() == null ? "—" : String.format(Locale.ROOT, "%.5f", t.summary().get("eval").get("logloss").asDouble()), said,
                    problems.isEmpty() ? "ok" : String.join("; ", problems)));
            if (!problems.isEmpty()) failures.add("trial " + i + " (" + victim + "): " + String.join("; ", problems));
        }
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "process-chaos-report.md"), table.toString());
        System.out.println(table);
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n" + table);
    }

    /** Launches the job, SIGKILLs {@code victim} {@code delay} seconds after trainer 0 first reports progress. */
    private static ChildJvms.Launched run(String victim, double delay) throws Exception {
        List<String> args = new ArrayList<>(List.of("--local", "3", "--ps", "2", "--ps-replicas", "2", "--elastic", "--respawn", "1",
                "--straggler-timeout", "10", "--regroup-window", "1", "--call-timeout", "10", "--log-every", "0.3"));
        args.addAll(job());
        String match = victim.startsWith("ps-") ? "ps --shard " + victim.substring(3) : "trainer --rank " + victim.substring(8);
        return ChildJvms.launchAndKill(args, "[trainer-0]", (long) (delay * 1000), match); // no victim: the job ended first
    }

    private static String tail(List<String> lines) {
        int from = Math.max(0, lines.size() - 15);
        return String.join("\n", lines.subList(from, lines.size()));
    }
}
