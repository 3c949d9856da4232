package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicated parameter servers across JVMs ({@code launch --ps 2 --ps-replicas 2}): a server process killed with
 * SIGKILL in the middle of training leaves a job that completes, as good as an undisturbed one, and says which shard
 * failed over where. Every process is started here and none outlives its test.
 */
class ReplicationProcessTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        ChildJvms.generateCtr(dir, 8000, 2000);
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    private static String[] job() {
        return new String[] {"--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval",
                dir.resolve("ctr/eval.tsv").toString(), "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5",
                "--epochs", "2", "--seed", "4"};
    }

    @Test
    @Timeout(120)
    void killingAServerProcessMidTrainingLosesNothing() throws Exception {
        // undisturbed, the replicated job computes what the unreplicated one does: the in-process run is the reference
        CliTest.Run calm = CliTest.run(concat(new String[] {"train", "--trainers", "2", "--ps-shards", "2", "--no-progress"}, job()));
        assertEquals(0, calm.code(), calm.err());
        double undisturbed = calm.json().get("eval").get("logloss").asDouble();

        List<String> cmd = ChildJvms.command("launch", "--local", "2", "--ps", "2",
                "--ps-replicas", "2", "--log-every", "0.2", "--stop-grace", "3");
        cmd.addAll(List.of(job()));
        Process launcher = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder all = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    synchronized (all) {
                        all.append(line).append('\n');
                    }
                    lines.add(line);
                }
            } catch (IOException e) {
                // the launcher is gone; its exit code says how
            }
        }, "test/launcher-output");
        reader.setDaemon(true);
        reader.start();
        try {
            // training under way: trainer 1 reports progress
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line = null;
            while (System.nanoTime() < deadline) {
                line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith("[trainer-1]") && line.contains(" ex/s")) break;
                if (!launcher.isAlive() && lines.isEmpty()) break;
            }
            assertTrue(line != null && line.contains(" ex/s"), "training never got under way:\n" + text(all));
            ProcessHandle ps1 = launcher.descendants().filter(p -> ChildJvms.commandLine(p).contains(" ps --shard 1 "))
                    .findFirst().orElse(null);
            assertNotNull(ps1, "no process of shard 1 among " + launcher.descendants().toList());
            assertTrue(ps1.destroyForcibly(), "SIGKILL to ps-1");
            assertTrue(launcher.waitFor(90, TimeUnit.SECONDS), "the job did not end:\n" + text(all));
            reader.join(5000);
            String out = text(all);
            assertEquals(0, launcher.exitValue(), out);
            assertTrue(out.contains("shadowsync launch: ps-1 died (exit code 137)"), out);
            assertTrue(out.matches("(?s).*\\[trainer-[01]\\] shadowsync trainer [01]: parameter server shard 1: replica 0 at 127\\.0\\.0\\.1:\\d+ "
                    + "failed \\(\\w+\\); failing over to replica 1 at 127\\.0\\.0\\.1:\\d+.*"), out);
            assertTrue(out.contains("[ps-0] shadowsync ps: shard 1 replica 1 takes over as primary"), out);
            String last = null;
            for (String l : out.split("\n")) if (l.startsWith("{")) last = l;
            assertNotNull(last, "no JSON summary:\n" + out);
            JsonNode summary = new ObjectMapper().readTree(last);
            assertEquals(16000, summary.get("examples").asLong(), "every example of both epochs was trained");
            double disturbed = summary.get("eval").get("logloss").asDouble();
            assertEquals(undisturbed, disturbed, 0.02, "undisturbed " + undisturbed + " vs with ps-1 killed " + disturbed);
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
            launcher.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void replicasMustBeAPositiveIntegerNoMoreThanTheServers() {
        String train = dir.resolve("ctr/train.tsv").toString();
        CliTest.Run zero = CliTest.run("launch", "--local", "1", "--ps", "2", "--ps-replicas", "0", "--model", "lr", "--train", train);
        assertEquals(Main.EXIT_BAD_INPUT, zero.code(), zero.err());
        assertTrue(zero.err().contains("--ps-replicas must be at least 1 (1: no copies), got 0"), zero.err());
        CliTest.Run many = CliTest.run("launch", "--local", "1", "--ps", "2", "--ps-replicas", "3", "--model", "lr", "--train", train);
        assertEquals(Main.EXIT_BAD_INPUT, many.code(), many.err());
        assertTrue(many.err().contains("--ps-replicas 3 is more than --ps-shards 2"), many.err());
        CliTest.Run word = CliTest.run("launch", "--local", "1", "--ps", "2", "--ps-replicas", "two", "--model", "lr", "--train", train);
        assertEquals(Main.EXIT_BAD_INPUT, word.code(), word.err());
        assertTrue(word.err().contains("--ps-replicas") && word.err().contains("'two' is not an int"), word.err());
        CliTest.Run embedded = CliTest.run("train", "--ps-shards", "2", "--ps-replicas", "2", "--model", "lr", "--train", train);
        assertEquals(Main.EXIT_BAD_INPUT, embedded.code(), embedded.err());
        assertTrue(embedded.err().contains("--ps-replicas is for multi-process jobs"), embedded.err());
        assertTrue(ProcessHandle.current().children().noneMatch(ProcessHandle::isAlive), "refused before anything started");
    }

    private static String text(StringBuilder all) {
        synchronized (all) {
            return all.toString();
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
