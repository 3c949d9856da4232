package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.ckpt.ModelFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code launch --colocate}: parameter-server shard i inside trainer i's JVM ({@code trainer --host-shard i}). The job
 * runs in fewer processes and computes the same thing; a killed process that hosted a shard fails the job instead of
 * leaving the others waiting; combinations that cannot work are refused before anything starts.
 */
class ColocateTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() throws Exception {
        ChildJvms.generateCtr(dir, 16000, 4000);
        ChildJvms.generateDense(dir.resolve("dense.csv"));
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    private static String[] dlrm(String... more) {
        return Stream.concat(Stream.of("--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval", dir.resolve("ctr/eval.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "2", "--seed", "4", "--no-progress"), Stream.of(more))
                .toArray(String[]::new);
    }

    @Test
    @Timeout(180)
    void twoTrainersAndTwoShardsRunInTwoProcessesAndTrainAsInProcess() throws Exception {
        CliTest.Run in = CliTest.run(Stream.concat(Stream.of("train", "--trainers", "2", "--ps-shards", "2"), Stream.of(dlrm())).toArray(String[]::new));
        assertEquals(0, in.code(), in.err());
        // --save: trainer 0 exports every shard's rows after the others have finished, so shard 1 must outlive trainer 1's run
        Path model = dir.resolve("dlrm-co.model");
        CliTest.Run co = CliTest.run(Stream.concat(Stream.of("launch", "--local", "2", "--ps", "2", "--colocate", "--save", model.toString()), Stream.of(dlrm()))
                .toArray(String[]::new));
        assertEquals(0, co.code(), co.err());
        assertTrue(Files.size(model) > 0);
        JsonNode a = in.json(), b = co.json();
        assertEquals(2, b.get("processes").asInt(), co.out());
        assertFalse(co.err().contains("[ps-"), "no parameter-server process of its own: " + co.err());
        assertTrue(co.err().contains("[trainer-0] shadowsync trainer 0: hosting parameter-server shard 0 of 2")
                && co.err().contains("[trainer-1] shadowsync trainer 1: hosting parameter-server shard 1 of 2"), co.err());
        for (int s = 0; s < 2; s++) { // each hosted shard's closing counts, as a ps process prints them: its own trainer's rows among them
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\[trainer-" + s + "] shadowsync trainer " + s + ": parameter-server shard " + s
                    + " stopped after \\d+ calls \\((\\d+) rows pulled, (\\d+) pushed; messages refused: none\\)").matcher(co.err());
            assertTrue(m.find(), co.err());
            assertTrue(Long.parseLong(m.group(1)) > 0 && Long.parseLong(m.group(2)) > 0, m.group());
        }
        assertEquals(a.get("examples").asLong(), b.get("examples").asLong());
        assertTrue(b.get("sync").get("rounds_per_trainer").get(1).asLong() > 0, co.out());
        double la = a.get("eval").get("logloss").asDouble(), lb = b.get("eval").get("logloss").asDouble();
        // MultiProcessTest's margin for the same job run as 4 processes (shadow averaging is not deterministic)
        assertEquals(la, lb, 0.01, "in-process " + la + " vs co-located processes " + lb);
    }

    @Test
    @Timeout(180)
    void syncSgdIsBitIdenticalInProcessAndCoLocated() throws Exception {
        Path a = dir.resolve("sgd-in.model"), b = dir.resolve("sgd-co.model");
        String[] job = {"--model", "mlp", "--train", dir.resolve("dense.csv").toString(), "--label-col", "label", "--hidden", "16,8",
                "--sync", "sync-sgd", "--workers", "1", "--epochs", "2", "--batch", "32", "--seed", "9", "--no-progress"};
        CliTest.Run in = CliTest.run(Stream.concat(Stream.of("train", "--trainers", "2", "--ps-shards", "2", "--save", a.toString()), Stream.of(job))
                .toArray(String[]::new));
        assertEquals(0, in.code(), in.err());
        CliTest.Run co = CliTest.run(Stream.concat(Stream.of("launch", "--local", "2", "--ps", "2", "--colocate", "--save", b.toString()), Stream.of(job))
                .toArray(String[]::new));
        assertEquals(0, co.code(), co.err());
        assertEquals(2, co.json().get("processes").asInt(), co.out());
        assertArrayEquals(ModelFile.read(a).dense(), ModelFile.read(b).dense(), "synchronous SGD must give the same parameters, bit for bit, co-located or not");
        assertEquals(in.json().get("train_loss").asDouble(), co.json().get("train_loss").asDouble(), 1e-12);
    }

    /**
     * One trainer with one worker hosts shard 0 and calls it directly; shard 1 has a process of its own and is reached
     * over its row lane. The same job with both shards in processes of their own (every row over a lane) must train
     * the same model bit for bit — every embedding table, the dense parameters, the loss — because a hosted shard's
     * direct calls keep the lane's order and its one-step look-ahead. A direct path that dropped the trainer's pushes
     * to its own shard, served rows it had copied before, or saw a push a step early, changes the tables.
     */
    @Test
    @Timeout(180)
    void theHostedShardsDirectRowsTrainTheModelOfTheLanesBitForBit() throws Exception {
        Path a = dir.resolve("direct-lane.model"), b = dir.resolve("direct-co.model");
        String[] job = {"--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--emb-rows", "2000", "--sync", "none",
                "--workers", "1", "--epochs", "1", "--seed", "4", "--no-progress"};
        // the scalar gemm in the launched JVMs: the Vector API one sums in an order that depends on how far the JIT has
        // compiled it, so two runs of one job differ in the last bits of some values (docs/multi-process.md)
        System.setProperty("shadowsync.blas", "scalar");
        CliTest.Run lane, co;
        try {
            lane = CliTest.run(Stream.concat(Stream.of("launch", "--local", "1", "--ps", "2", "--save", a.toString()), Stream.of(job))
                    .toArray(String[]::new));
            co = CliTest.run(Stream.concat(Stream.of("launch", "--local", "1", "--ps", "2", "--colocate", "--save", b.toString()), Stream.of(job))
                    .toArray(String[]::new));
        } finally {
            System.clearProperty("shadowsync.blas");
        }
        assertEquals(0, lane.code(), lane.err());
        assertEquals(0, co.code(), co.err());
        assertTrue(lane.err().contains("[forced by shadowsync.blas]") && co.err().contains("[forced by shadowsync.blas]"), co.err());
        assertTrue(co.err().contains("[trainer-0] shadowsync trainer 0: this trainer's rows to parameter-server shard(s) [0] are served in this JVM"), co.err());
        assertFalse(lane.err().contains("served in this JVM"), lane.err());
        ModelFile.Contents ma = ModelFile.read(a), mb = ModelFile.read(b);
        assertArrayEquals(ma.dense(), mb.dense(), "the dense parameters");
        assertEquals(ma.tables().length, mb.tables().length);
        for (int t = 0; t < ma.tables().length; t++) assertArrayEquals(ma.tables()[t], mb.tables()[t], "embedding table " + t);
        assertEquals(lane.json().get("train_loss").asDouble(), co.json().get("train_loss").asDouble(), 0.0);
        JsonNode ra = lane.json().get("rows"), rb = co.json().get("rows");
        assertEquals(ra.get("pulled").asLong(), rb.get("pulled").asLong(), "rows pulled are counted alike, in the JVM or over a lane");
        assertEquals(ra.get("pushed").asLong(), rb.get("pushed").asLong(), "rows pushed likewise");
    }

    @Test
    @Timeout(240)
    void aKilledProcessTakesItsShardAlongAndFailsTheJob() throws Exception {
        List<String> args = List.of("--local", "2", "--ps", "2", "--colocate", "--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(),
                "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "1000", "--log-every", "0.2", "--stop-grace", "2");
        ChildJvms.Launched r = ChildJvms.launchAndKill(args, "[trainer-1]", 300, "trainer --rank 1 --host-shard 1");
        assertTrue(r.killed(), r.log());
        assertEquals(1, r.code(), "the job must fail, not hang (-1) or succeed: " + r.log());
        assertTrue(r.log().contains("shadowsync launch: trainer-1 failed (exit code 137) (it hosted parameter-server shard 1, lost with it)"), r.log());
    }

    @Test
    void badCombinationsAreRefusedBeforeAnythingStarts() {
        CliTest.Run noPs = CliTest.run(Stream.concat(Stream.of("launch", "--local", "2", "--ps", "0", "--colocate"), Stream.of(dlrm())).toArray(String[]::new));
        assertEquals(2, noPs.code(), noPs.err());
        assertTrue(noPs.err().contains("--colocate puts the parameter servers into the trainers: --ps must be at least 1, got 0"), noPs.err());
        CliTest.Run elastic = CliTest.run(Stream.concat(Stream.of("launch", "--local", "2", "--ps", "2", "--colocate", "--elastic"), Stream.of(dlrm()))
                .toArray(String[]::new));
        assertEquals(2, elastic.code(), elastic.err());
        assertTrue(elastic.err().contains("--colocate does not work with --elastic"), elastic.err());
        CliTest.Run shard = CliTest.run(Stream.concat(Stream.of("trainer", "--rank", "0", "--trainers", "2", "--ps-shards", "2", "--host-shard", "2",
                "--coordinator", "127.0.0.1:1"), Stream.of(dlrm())).toArray(String[]::new));
        assertEquals(2, shard.code(), shard.err());
        assertTrue(shard.err().contains("--host-shard 2 is not in 0..1 (--ps-shards 2)"), shard.err());
    }
}
