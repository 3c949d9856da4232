package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shadowsync node}: every process of a job started with the same command line, its role, rank, the job's
 * size and the coordinator taken from the environment only (torchrun's variables here), as a launcher starts them.
 */
class EnvironmentRolesTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        ChildJvms.generateCtr(dir, 4000, 1000);
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    /** {@code shadowsync ARGS} in a child JVM with this environment (and none of the parent's launcher variables). */
    private static Process start(String name, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = ChildJvms.command(List.of("-Xmx384m"), List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("SHADOWSYNC_") || List.of("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                "JOB_COMPLETION_INDEX").contains(k));
        pb.environment().putAll(env);
        return pb.start();
    }

    private static String err(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".err"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    @Timeout(240)
    void threeProcessesWithOneCommandLineTakeTheirRolesFromTorchrunsVariables() throws Exception {
        int port = freePort();
        String[] same = {"node", "--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "1", "--seed", "4", "--no-progress"};
        List<Process> ps = new ArrayList<>();
        try {
            // the server first, then the trainers: ranks 0 and 1 are trainers, rank 2 (WORLD_SIZE 3, one server) the server
            for (int rank : new int[] {2, 1, 0}) {
                ps.add(start("rank-" + rank, Map.of("RANK", Integer.toString(rank), "WORLD_SIZE", "3", "MASTER_ADDR", "127.0.0.1",
                        "MASTER_PORT", Integer.toString(port), "SHADOWSYNC_PS_SHARDS", "1"), same));
            }
            for (Process p : ps) assertTrue(p.waitFor(200, TimeUnit.SECONDS), "a process did not end");
            for (int i = 0; i < 3; i++) {
                int rank = 2 - i;
                assertEquals(0, ps.get(i).exitValue(), "rank " + rank + ":\n" + err("rank-" + rank));
            }
        } finally {
            for (Process p : ps) p.destroyForcibly();
        }
        assertTrue(err("rank-0").contains("shadowsync node: RANK=0: trainer 0 of a job of 2 trainer(s) and 1 parameter server(s), coordinator 127.0.0.1:"
                + port + " (run here)"), err("rank-0"));
        assertTrue(err("rank-1").contains("shadowsync node: RANK=1: trainer 1 of a job of 2 trainer(s)"), err("rank-1"));
        assertTrue(err("rank-2").contains("shadowsync node: RANK=2: parameter server 0 of a job of 2 trainer(s)"), err("rank-2"));
        assertTrue(err("rank-2").contains("shadowsync ps: shard 0 of 1 listening"), err("rank-2"));
        List<String> out = Files.readAllLines(dir.resolve("rank-0.out"));
        JsonNode summary = new ObjectMapper().readTree(out.get(out.size() - 1));
        assertEquals(2, summary.get("trainers").asInt(), out.toString());
        assertEquals(3, summary.get("processes").asInt(), out.toString());
        assertEquals(4000, summary.get("examples").asLong(), out.toString());
        assertTrue(summary.get("sync").get("rounds_per_trainer").get(1).asLong() > 0, out.toString());
        assertTrue(Files.readString(dir.resolve("rank-1.out")).isBlank(), "only trainer 0 prints the summary");
    }

    @Test
    @Timeout(120)
    void aBadVariableIsBadInputNamingIt() throws Exception {
        String[] args = {"node", "--model", "lr", "--train", dir.resolve("ctr/train.tsv").toString()};
        Object[][] cases = {
                {Map.of("RANK", "one"), "RANK=one is not a whole number"},
                {Map.of(), "no rank for this process: set SHADOWSYNC_RANK"},
                {Map.of("SHADOWSYNC_RANK", "3", "SHADOWSYNC_TRAINERS", "2"), "SHADOWSYNC_RANK=3 is not in the job"},
                {Map.of("JOB_COMPLETION_INDEX", "0", "SHADOWSYNC_COORDINATOR", "coordinator-host"), "SHADOWSYNC_COORDINATOR=coordinator-host: "},
        };
        for (int i = 0; i < cases.length; i++) {
            @SuppressWarnings("unchecked")
            Process p = start("bad-" + i, (Map<String, String>) cases[i][0], args);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String e = err("bad-" + i);
            assertEquals(2, p.exitValue(), e);
            assertTrue(e.contains((String) cases[i][1]), e);
            assertEquals(1, e.strip().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).count(), "one line: " + e);
        }
        // 'trainer' takes its rank from the environment too, and refuses one the environment says is a server
        Process p = start("bad-trainer", Map.of("SHADOWSYNC_ROLE", "ps", "SHADOWSYNC_RANK", "0"), "trainer", "--model", "lr", "--train",
                dir.resolve("ctr/train.tsv").toString());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), err("bad-trainer"));
        assertTrue(err("bad-trainer").contains("SHADOWSYNC_ROLE=ps but this is 'shadowsync trainer'"), err("bad-trainer"));
    }
}
