package io.shadowsync.cli.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.cli.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * {@code -Dshadowsync.chaos.process.trials=N}, default 4); the table is printed and written to
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
    void noProcessLeftBehind() {
        List<String> alive = new ArrayList<>();
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).forEach(p -> {
            alive.add(p.pid() + " " + p.info().commandLine().orElse("?"));
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        assertTrue(alive.isEmpty(), "processes left behind: " + alive);
    }

    static List<String> job() {
        return List.of("--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "2", "--seed", "4");
    }

    @Test
    void killedTrainersAndServersLeaveTheJobWhole() throws Exception {
        long seed = Long.getLong("shadowsync.chaos.seed", new SplittableRandom().nextLong());
        int trials = Integer.getInteger("shadowsync.chaos.process.trials", 4);
        SplittableRandom master = new SplittableRandom(seed);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "Process kills: seed %d, %d trials; undisturbed in-process "
                + "eval logloss %.5f, margin %.2f.%n%n| trial | killed | at (s after training started) | exit | examples | eval logloss "
                + "| what the summary says | outcome |%n|---|---|---|---|---|---|---|---|%n", seed, trials, reference, MARGIN));
        List<String> failures = new ArrayList<>();
        for (int i = 1; i <= trials; i++) {
            SplittableRandom r = master.split();
            // alternate the kinds so that every run has both; the victim and the moment are random
            boolean server = i % 2 == 0;
            String victim = server ? "ps-" + r.nextInt(2) : "trainer-" + r.nextInt(3);
            double delay = r.nextDouble() * 3.0;
            Trial t = run(victim, delay);
            List<String> problems = new ArrayList<>();
            String said = "";
            if (t.code != 0 || t.summary == null) {
                problems.add("exit " + t.code + ": " + tail(t.lines));
            } else {
                double ll = t.summary.get("eval").get("logloss").asDouble();
                if (!(Math.abs(ll - reference) <= MARGIN)) problems.add(String.format(Locale.ROOT, "logloss %.5f vs %.5f", ll, reference));
                if (server) {
                    long failovers = t.summary.path("ps_failovers").asLong(0);
                    said = "ps_failovers " + failovers + " (the leader's)";
                    if (t.lines.stream().noneMatch(l -> l.contains(victim + " died"))) problems.add("the launcher did not report " + victim + "'s death");
                } else {
                    JsonNode m = t.summary.get("membership");
                    said = "members " + m.get("members") + ", epoch " + m.get("epoch");
                    String changes = m.get("changes").toString();
                    String index = victim.substring("trainer-".length());
                    if (!(changes.contains("trainer " + index) && changes.contains("left"))) problems.add("membership does not name the departure: " + changes);
                }
            }
            table.append(String.format(Locale.ROOT, "| %d | %s | %.2f | %d | %s | %s | %s | %s |%n", i, victim, delay, t.code,
                    t.summary == null ? "—" : t.summary.get("examples").asText(),
                    t.summary == null ? "—" : String.format(Locale.ROOT, "%.5f", t.summary.get("eval").get("logloss").asDouble()), said,
                    problems.isEmpty() ? "ok" : String.join("; ", problems)));
            if (!problems.isEmpty()) failures.add("trial " + i + " (" + victim + "): " + String.join("; ", problems));
        }
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "process-chaos-report.md"), table.toString());
        System.out.println(table);
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n" + table);
    }

    private record Trial(int code, JsonNode summary, List<String> lines) {}

    /** Launches the job, SIGKILLs {@code victim} {@code delay} seconds after trainer 0 first reports progress. */
    private static Trial run(String victim, double delay) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "--add-modules", "jdk.incubator.vector",
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "launch", "--local", "3", "--ps", "2",
                "--ps-replicas", "2", "--elastic", "--respawn", "1", "--straggler-timeout", "10", "--regroup-window", "1",
                "--call-timeout", "10", "--log-every", "0.3"));
        cmd.addAll(job());
        Process launcher = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8));
            Thread reader = new Thread(() -> {
                try {
                    String line;
                    while ((line = out.readLine()) != null) lines.add(line);
                } catch (IOException e) {
                    // the launcher is gone
                }
            });
            reader.setDaemon(true);
            reader.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (lines.stream().noneMatch(l -> l.startsWith("[trainer-0]") && l.contains(" ex/s")) && System.nanoTime() < deadline
                    && launcher.isAlive()) {
                Thread.sleep(20);
            }
            Thread.sleep((long) (delay * 1000));
            String match = victim.startsWith("ps-") ? "ps --shard " + victim.substring(3) : "trainer --rank " + victim.substring(8);
            launcher.descendants().filter(p -> p.info().commandLine().orElse("").contains(match)).findFirst()
                    .ifPresent(ProcessHandle::destroyForcibly); // SIGKILL; absent when the job already ended
            if (!launcher.waitFor(180, TimeUnit.SECONDS)) return new Trial(-1, null, lines);
            reader.join(5000);
            JsonNode summary = null;
            for (String l : lines) if (l.startsWith("{")) summary = new ObjectMapper().readTree(l);
            return new Trial(launcher.exitValue(), summary, lines);
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    private static String tail(List<String> lines) {
        int from = Math.max(0, lines.size() - 15);
        return String.join("\n", lines.subList(from, lines.size()));
    }
}
