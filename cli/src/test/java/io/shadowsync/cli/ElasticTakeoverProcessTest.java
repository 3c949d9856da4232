package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * Elastic trainers that leave for good, across JVMs (SIGKILL): the survivors train the rest of the departed trainer's
 * share, so the job trains every example it was asked for ({@code examples_trained == examples_asked} in the
 * summary); and a trainer respawned after a parameter server died (its shards served by their backups) learns the
 * shards' current primaries, joins, goes on with its share from where its predecessor left it, and the job ends well.
 */
class ElasticTakeoverProcessTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() throws Exception {
        ChildJvms.generateCtr(dir, 24000, 2000);
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    /** The job; trainer {@code slow} sleeps 100 ms a batch, so its share of 125 batches takes at least 12 s. */
    private static List<String> job(int slow) {
        return List.of("--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "2", "--seed", "4",
                "--straggler-timeout", "10", "--regroup-window", "1", "--log-every", "0.3", "--emulate-slow-trainer", slow + ":100");
    }

    @Test
    @Timeout(240)
    void aTrainerKilledForGoodHasTheRestOfItsShareTrainedByTheSurvivors() throws Exception {
        List<String> args = new ArrayList<>(List.of("--local", "3", "--ps", "1", "--elastic"));
        args.addAll(job(1)); // the victim is slow: it is killed with part of its share left, however fast the machine
        ChildJvms.Launched r = ChildJvms.launchAndKill(args, "[trainer-1]", List.of(new ChildJvms.Kill(1500, "trainer --rank 1")));
        assertTrue(r.killed(), "trainer 1 was not running:\n" + r.log());
        assertEquals(0, r.code(), r.log());
        JsonNode s = r.summary();
        assertEquals("[0,2]", s.get("membership").get("members").toString(), r.log());
        long asked = s.get("examples_asked").asLong(), trained = s.get("examples_trained").asLong();
        assertEquals(48000, asked, "2 epochs of 24,000 examples");
        assertEquals(asked, trained, "every example asked is trained once: the survivors took over the rest of trainer 1's share\n" + r.log());
        // the survivors trained more than their own two shares: the rest of trainer 1's
        assertTrue(s.get("examples").asLong() > 32000, s.toString());
        assertTrue(r.log().contains("takes over its part"), r.log());
        assertFalse(r.log().contains("warning: trained"), r.log());
        assertTrue(s.get("eval").get("logloss").asDouble() < 0.6, s.toString());
    }

    @Test
    @Timeout(240)
    void aTrainerRespawnedAfterAServerDiedJoinsThroughTheBackupsAndFinishes() throws Exception {
        List<String> args = new ArrayList<>(List.of("--local", "3", "--ps", "2", "--ps-replicas", "2", "--elastic", "--respawn", "1"));
        // trainer 0 is slow: the job still runs when the respawned trainer 1 (a new JVM) asks to join, however slow its start
        args.addAll(job(0));
        // node 1 holds replica 0 (the primary) of shard 1: the respawned trainer must not wait for it
        ChildJvms.Launched r = ChildJvms.launchAndKill(args, "[trainer-1]",
                List.of(new ChildJvms.Kill(500, "ps --shard 1"), new ChildJvms.Kill(1500, "trainer --rank 1")));
        assertTrue(r.killed(), "ps 1 or trainer 1 was not running:\n" + r.log());
        assertEquals(0, r.code(), r.log());
        JsonNode s = r.summary();
        assertEquals("[0,2,1]", s.get("membership").get("members").toString(), "the respawned trainer 1 joined and finished\n" + r.log());
        assertTrue(s.get("ps_failovers").asLong() >= 1, s.toString());
        assertEquals(s.get("examples_asked").asLong(), s.get("examples_trained").asLong(), r.log());
        assertTrue(r.log().contains("[trainer-1] shadowsync trainer 1: done"), r.log());
        for (String line : r.log().split("\n")) {
            assertFalse(line.contains("\tat ") || line.contains("Caused by:"), "a stack trace: " + line);
        }
    }
}
