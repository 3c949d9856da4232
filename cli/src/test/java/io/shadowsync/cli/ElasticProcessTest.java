package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Elastic trainers across JVMs: {@code launch --elastic} with one trainer's JVM killed (SIGKILL) in the middle of
 * training. The others go on without restarting anybody; with {@code --respawn} the launcher starts it again as a
 * joiner, which takes the global model; the job ends with a summary that names the membership changes, and a model
 * as good as an undisturbed run's.
 */
class ElasticProcessTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() throws Exception {
        ChildJvms.generateCtr(dir, 24000, 4000);
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    /**
     * Trainer 0 sleeps 40 ms a batch (an emulated straggler, not dropped: its sync thread keeps up), so that the job lasts
     * long enough for a respawned JVM to start and join it: on an idle machine the members finished before it asked.
     */
    private static List<String> job() {
        return List.of("--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "3", "--seed", "4",
                "--emulate-slow-trainer", "0:40");
    }

    @Test
    @Timeout(240)
    void aKilledTrainerIsRespawnedAndJoinsTheRunningJob() throws Exception {
        CliTest.Run in = CliTest.run(concat(List.of("train", "--trainers", "3", "--ps-shards", "1", "--no-progress"), job()));
        assertEquals(0, in.code(), in.err());
        double reference = in.json().get("eval").get("logloss").asDouble();

        ChildJvms.Launched r = launchAndKill("2", "--respawn", "1");
        assertEquals(0, r.code(), r.log());
        JsonNode s = r.summary();
        JsonNode m = s.get("membership");
        assertEquals("[0,1,2]", m.get("members").toString(), r.log());
        String changes = m.get("changes").toString();
        assertTrue(changes.contains("trainer 2") && changes.contains("left") && changes.contains("joined"), changes);
        assertTrue(r.log().contains("trainer-2 died (exit code 137)") && r.log().contains("starting it again"), r.log());
        double logloss = s.get("eval").get("logloss").asDouble();
        // the killed trainer's updates since its last round are lost and its successor redoes them from its mark; the margin is
        // twice the spread of shadow averaging between runs on this data (MultiProcessTest: 0.01)
        assertEquals(reference, logloss, 0.02, "undisturbed in-process " + reference + " vs with a killed trainer " + logloss);
    }

    @Test
    @Timeout(240)
    void withoutRespawnTheSurvivorsFinishTheJob() throws Exception {
        ChildJvms.Launched r = launchAndKill("1");
        assertEquals(0, r.code(), r.log());
        JsonNode m = r.summary().get("membership");
        assertEquals("[0,2]", m.get("members").toString(), r.log());
        assertTrue(m.get("changes").toString().contains("trainer 1"), m.toString());
        assertTrue(r.log().contains("the other trainers go on"), r.log());
        assertTrue(r.summary().get("eval").get("logloss").asDouble() < 0.6, r.summary().toString());
    }

    /** Launches 3 elastic trainers and 1 server, kills trainer {@code victim}'s JVM once it trains, waits for the end. */
    private static ChildJvms.Launched launchAndKill(String victim, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("--local", "3", "--ps", "1", "--elastic", "--straggler-timeout", "10",
                "--regroup-window", "1", "--log-every", "0.3"));
        args.addAll(List.of(more));
        args.addAll(job());
        ChildJvms.Launched r = ChildJvms.launchAndKill(args, "[trainer-" + victim + "]", 0, "trainer --rank " + victim);
        assertTrue(r.killed(), "trainer " + victim + " was not running:\n" + r.log());
        assertTrue(r.code() >= 0, "the job did not end:\n" + r.log());
        return r;
    }

    private static String[] concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r.toArray(new String[0]);
    }
}
