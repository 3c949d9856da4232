package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * What the tests that start JVMs share: their synthetic data, a launched job with one of its processes killed, and
 * the check that no process outlives a test.
 */
public final class ChildJvms {
    private ChildJvms() {}

    /**
     * The command line of {@code shadowsync ARGS} in a JVM of its own ({@link ChildJvm}, as {@code launch} starts its
     * processes): this JVM's java and class path, the vector module, then {@code jvmOptions} (a heap size at least).
     * A mutable list: callers may add arguments.
     */
    public static List<String> command(List<String> jvmOptions, List<String> args) {
        List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector"));
        options.addAll(jvmOptions);
        return ChildJvm.command(options, args);
    }

    /** As {@link #command(List, List)} with a heap of 512 MiB. */
    public static List<String> command(String... args) {
        return command(List.of("-Xmx512m"), List.of(args));
    }

    /** Synthetic CTR data in dir/ctr (train.tsv, eval.tsv): 2,000-id vocabulary, seed 11. */
    public static void generateCtr(Path dir, int rows, int evalRows) {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", Integer.toString(rows), "--eval-rows",
                Integer.toString(evalRows), "--vocab", "2000", "--seed", "11");
        assertEquals(0, r.code(), r.err());
    }

    /** A dense binary task for the MLP in file (CSV, label then x0..x7): label = [w·x + noise > 0], 3,000 rows, seed 5. */
    public static void generateDense(Path file) throws IOException {
        SplittableRandom rnd = new SplittableRandom(5);
        StringBuilder sb = new StringBuilder("label");
        for (int j = 0; j < 8; j++) sb.append(",x").append(j);
        sb.append('\n');
        for (int i = 0; i < 3000; i++) {
            double[] x = new double[8];
            double s = 0;
            for (int j = 0; j < 8; j++) {
                x[j] = rnd.nextGaussian();
                s += (j % 3 - 1) * x[j];
            }
            sb.append(s + 0.5 * rnd.nextGaussian() > 0 ? 1 : 0);
            for (double v : x) sb.append(',').append(String.format(Locale.ROOT, "%.5f", v));
            sb.append('\n');
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    /**
     * Waits (at most 10 s) for this JVM's child processes to end; any still alive then is killed, with its own
     * children, and fails the test naming it.
     */
    public static void assertNoneLeftBehind() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ProcessHandle.current().children().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) Thread.sleep(50);
        List<String> alive = new ArrayList<>();
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).forEach(p -> {
            alive.add(p.pid() + " " + commandLine(p));
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        assertTrue(alive.isEmpty(), "processes left behind: " + alive);
    }

    /**
     * A launched job that had one process killed: its exit code (−1 when it did not end within 180 s), its JSON summary
     * (the last stdout line starting with '{', or null), every line it printed, and whether the victim was found.
     */
    public record Launched(int code, JsonNode summary, List<String> lines, boolean killed) {
        public String log() {
            return String.join("\n", lines);
        }
    }

    /**
     * Runs {@code shadowsync launch ARGS} in a child JVM; once a line starting with {@code waitTag} reports progress
     * (" ex/s", more than 0 examples), waits {@code delayMillis} more, SIGKILLs the first process of the job whose command line contains
     * {@code victim} (no goodbye, no shutdown hook), and waits for the job to end by itself. Every process of the
     * job is killed on the way out, whatever happened.
     */
    public static Launched launchAndKill(List<String> args, String waitTag, long delayMillis, String victim) throws Exception {
        return launchAndKill(args, waitTag, List.of(new Kill(delayMillis, victim)));
    }

    /** A process of the job to SIGKILL: {@code afterMillis} after the one before (or after training started). */
    public record Kill(long afterMillis, String victim) {}

    /**
     * As {@link #launchAndKill(List, String, long, String)}, with several kills in turn; {@link Launched#killed} says
     * whether every victim was found.
     */
    public static Launched launchAndKill(List<String> args, String waitTag, List<Kill> kills) throws Exception {
        List<String> cmd = command("launch");
        cmd.addAll(args);
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
            // a progress line with examples trained ("[trainer-1] epoch 1  5,120 ex  1,234 ex/s ..."), not "  0 ex "
            while (lines.stream().noneMatch(l -> l.startsWith(waitTag) && l.contains(" ex/s") && !l.contains(" 0 ex "))
                    && System.nanoTime() < deadline && launcher.isAlive()) {
                Thread.sleep(20);
            }
            boolean found = true;
            for (Kill k : kills) {
                Thread.sleep(k.afterMillis());
                Optional<ProcessHandle> target = launcher.descendants().filter(p -> commandLine(p).contains(k.victim())).findFirst();
                target.ifPresent(ProcessHandle::destroyForcibly);
                found &= target.isPresent();
            }
            if (!launcher.waitFor(180, TimeUnit.SECONDS)) return new Launched(-1, null, lines, found);
            reader.join(5000);
            JsonNode summary = null;
            for (String l : lines) if (l.startsWith("{")) summary = new ObjectMapper().readTree(l);
            return new Launched(launcher.exitValue(), summary, lines, found);
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    /**
     * A process's whole command line, from /proc on Linux: the JDK's {@code ProcessHandle.Info.commandLine()} reads one
     * page of it (4 KiB) and gives the executable alone when it is longer, which a child JVM's class path easily is, so
     * its arguments ("trainer --rank 2") were not found. Elsewhere, the JDK's.
     */
    public static String commandLine(ProcessHandle p) {
        try {
            byte[] raw = java.nio.file.Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
            if (raw.length > 0) return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process has ended
        }
        return p.info().commandLine().orElse("");
    }
}
