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

    /**
     * launch without --token-file: its servers on loopback must still refuse a caller without the job's token (any
     * local user), the children get the token through a file only this user can read, never on their command line,
     * and the file is gone when the job ends.
     */
    @Test
    @Timeout(180)
    void launchGivesItsJobATokenOfItsOwn() throws Exception {
        java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
        java.util.concurrent.atomic.AtomicInteger code = new java.util.concurrent.atomic.AtomicInteger(-1);
        Thread launch = new Thread(() -> code.set(Main.run(new String[] {"launch", "--local", "1", "--ps", "1", "--train", train(), "--emb-rows", "1000",
                "--epochs", "3", "--no-progress"}, new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true))), "test/launch");
        launch.start();
        java.util.regex.Pattern listening = java.util.regex.Pattern.compile("\\[ps-0\\] shadowsync ps: shard 0 of 1 listening on 127\\.0\\.0\\.1:(\\d+)");
        java.util.regex.Matcher m = listening.matcher("");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(m = listening.matcher(err.toString())).find() && launch.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(m.find(0), "the server came up: " + err);
        int port = Integer.parseInt(m.group(1));
        // the children's command lines name the token file, not the token
        Path tokenFile = null;
        for (ProcessHandle p : ProcessHandle.current().descendants().toList()) {
            String[] a = arguments(p);
            for (int k = 0; k + 1 < a.length; k++) if (a[k].equals("--token-file")) tokenFile = Path.of(a[k + 1]);
        }
        assertTrue(tokenFile != null, "the children were handed a --token-file");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        String token = Files.readString(tokenFile).strip();
        for (ProcessHandle p : ProcessHandle.current().descendants().toList()) {
            assertFalse(String.join(" ", arguments(p)).contains(token), "the token is on a command line");
        }
        io.shadowsync.net.Transport anonymous = new io.shadowsync.net.Transport(io.shadowsync.net.NetConfig.LOOPBACK);
        io.grpc.ManagedChannel ch = anonymous.channel("127.0.0.1:" + port);
        try {
            io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
                    () -> io.shadowsync.net.proto.PsAdminGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                            .describe(io.shadowsync.net.proto.Empty.getDefaultInstance()));
            assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e.toString());
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        launch.join(TimeUnit.SECONDS.toMillis(150));
        assertEquals(0, code.get(), err.toString());
        assertFalse(err.toString().contains(token), "the token is in the log");
        assertFalse(Files.exists(tokenFile) || Files.exists(tokenFile.getParent()), "the token file is removed with the job");
        ChildJvms.assertNoneLeftBehind();
    }

    /** A process's command line, as the kernel shows it to every user of the host (/proc/PID/cmdline). */
    private static String[] arguments(ProcessHandle p) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline")), java.nio.charset.StandardCharsets.UTF_8).split("\0");
        } catch (java.io.IOException e) {
            return new String[0]; // it has ended
        }
    }
}
