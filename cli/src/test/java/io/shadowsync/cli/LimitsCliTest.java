package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input that used to end in an OutOfMemoryError, a hang, a terminal driven by a crafted file or exit 1: each is
 * now one sentence and exit 2 (a warning, for a token file others can read).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LimitsCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "2000", "--eval-rows", "500", "--seed", "3");
        assertEquals(0, r.code(), r.err());
    }

    private static String train() {
        return dir.resolve("ctr/train.tsv").toString();
    }

    private static void refused(String fragment, String... args) {
        CliTest.Run r = CliTest.run(args);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertFalse(r.err().contains("OutOfMemoryError"), r.err());
    }

    @Test
    void jobsThatCannotFitTheHeapAreRefusedNamingTheFlag() {
        refused("lower --emb-rows", "train", "--train", train(), "--emb-rows", "100000000", "--no-progress");
        refused("JAVA_OPTS=-Xmx", "train", "--train", train(), "--emb-rows", "100000000", "--no-progress");
        refused("lower --queue-depth", "train", "--train", train(), "--queue-depth", "1000000000", "--no-progress");
        refused("--batch 2000000000 is too large", "train", "--train", train(), "--batch", "2000000000", "--no-progress");
        refused("--workers must be at most 1024", "train", "--train", train(), "--workers", "100000", "--no-progress");
        refused("--trainers must be at most 1024", "train", "--train", train(), "--trainers", "10000", "--no-progress");
        // a parameter-server process checks its share of the tables
        refused("a parameter server of this job needs", "ps", "--train", train(), "--emb-rows", "100000000", "--shard", "0",
                "--coordinator", "127.0.0.1:1");
    }

    @Test
    void aNaNSyncSettingIsRefused() {
        refused("--bmuf-momentum must be in [0, 1), got NaN", "train", "--train", train(), "--trainers", "2", "--sync", "s-bmuf",
                "--bmuf-momentum", "NaN");
        refused("--easgd-alpha must be in (0, 1], got NaN", "train", "--train", train(), "--trainers", "2", "--sync", "s-easgd",
                "--easgd-alpha", "NaN");
    }

    /** A small file whose spec declares a 30000 × 30000 layer is refused from what it holds, before the layer is built. */
    @Test
    void aModelFileWhoseSpecDeclaresAHugeLayerIsRefused() throws Exception {
        Path f = dir.resolve("huge-spec.model");
        MlpSpec huge = new MlpSpec(30000, new int[] {30000}, 2, "relu", "multiclass");
        ModelFile.write(f, huge.toProperties(), Map.of(), new float[] {1f}, null);
        assertTrue(Files.size(f) < 2000, "a small file: " + Files.size(f));
        refused("holds 1 dense parameters but a mlp of this shape has 900090002", "eval", "--model-file", f.toString(), "--eval", train());
    }

    @Test
    void aDirectoryAsModelFileIsExitTwo() {
        refused("is a directory", "eval", "--model-file", dir.toString(), "--eval", train());
    }

    /** Escape sequences in a crafted file's provenance reach the terminal escaped. */
    @Test
    void evalPrintsProvenanceEscaped() throws Exception {
        Path f = dir.resolve("crafted.model");
        LrSpec spec = new LrSpec(4, 13, 26, false);
        LocalEmbeddingStore tables = new LocalEmbeddingStore(spec.embeddingShapes(), new float[1], 1, new EmbeddingOptimizerSpec("sgd", 0.1));
        Map<String, String> prov = new LinkedHashMap<>();
        prov.put("command", "shadowsync train \u001b[2J\u001b]0;owned\u0007 \u009b31m done\r");
        prov.put("job_file_content", "model: lr\nlr: 0.5\n");
        prov.put("key\u001b[1m", "right-to-left \u202e override");
        ModelFile.write(f, spec.toProperties(), prov, new float[] {0f}, tables);
        CliTest.Run r = CliTest.run("eval", "--model-file", f.toString(), "--eval", dir.resolve("ctr/eval.tsv").toString());
        assertEquals(0, r.code(), r.err());
        String err = r.err();
        for (char c : new char[] {'\u001b', '\u0007', '\u009b', '\r', '\u202e'}) {
            assertEquals(-1, err.indexOf(c), "raw control character U+" + Integer.toHexString(c) + " reached the terminal: " + err);
        }
        assertTrue(err.contains("shadowsync train \\x1b[2J\\x1b]0;owned\\x07 \\x9b31m done\\x0d"), err);
        assertTrue(err.contains("key\\x1b[1m: right-to-left \\u202e override"), err);
        assertTrue(err.contains("job_file_content: model: lr\n    lr: 0.5"), "lines of a job file go on indented: " + err);
    }

    @Test
    void aMissingTokenFileAndAnUnauthenticatedListenAreExitTwo() {
        refused("token file " + dir.resolve("no-token") + ": no such file", "ps", "--train", train(), "--emb-rows", "100", "--shard", "0",
                "--coordinator", "127.0.0.1:1", "--token-file", dir.resolve("no-token").toString());
        refused("refusing to listen on 0.0.0.0 without authentication", "ps", "--train", train(), "--emb-rows", "100", "--shard", "0",
                "--coordinator", "127.0.0.1:1", "--listen", "0.0.0.0:0");
    }

    @Test
    void aTokenFileOthersCanReadGetsAWarning() throws Exception {
        Path token = dir.resolve("open.token");
        Files.writeString(token, "a-token-of-this-job-0123456789\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        // no coordinator answers: the server gives up after 1 s; the warning came first
        CliTest.Run r = CliTest.run("ps", "--train", train(), "--emb-rows", "100", "--shard", "0", "--coordinator", "127.0.0.1:1",
                "--rendezvous-timeout", "1", "--token-file", token.toString());
        assertTrue(r.err().contains("warning: token file " + token + " has permissions rw-r--r--"), r.err());
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        r = CliTest.run("ps", "--train", train(), "--emb-rows", "100", "--shard", "0", "--coordinator", "127.0.0.1:1",
                "--rendezvous-timeout", "1", "--token-file", token.toString());
        assertFalse(r.err().contains("warning: token file"), r.err());
    }
}
