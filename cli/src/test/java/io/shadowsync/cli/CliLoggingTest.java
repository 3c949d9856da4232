package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's one logging setup ({@link CliLogging}): the library's records print as the CLI's own one-line messages
 * under the command's prefix, INFO by default and DEBUG with stack traces under --verbose, and a normal run prints
 * nothing in java.util.logging's own format (gRPC, Netty, netlib).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliLoggingTest {
    @TempDir
    static Path dir;

    /** A logger below io.shadowsync, as the library's classes have. */
    private static final System.Logger LIB = System.getLogger("io.shadowsync.clitest.Something");

    @BeforeAll
    static void generate() {
        ChildJvms.generateCtr(dir, 4000, 200);
    }

    @AfterEach
    void reset() {
        CliLogging.configure(new PrintWriter(new StringWriter()), false);
    }

    private static List<String> train(String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(),
                "--emb-rows", "300", "--epochs", "2", "--seed", "9", "--no-progress"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void recordsPrintAsTheCommandsLinesWithWarningsMarkedAndDebugOnlyWhenVerbose() {
        StringWriter quiet = new StringWriter();
        CliLogging.configure(new PrintWriter(quiet), false);
        CliLogging.prefix("shadowsync ps");
        LIB.log(Level.INFO, "shard 0 replica 1 takes over as primary");
        LIB.log(Level.WARNING, "skipping checkpoint ckpt-3: MANIFEST: is truncated");
        LIB.log(Level.DEBUG, "a debug line");
        LIB.log(Level.ERROR, "could not write a checkpoint", new IllegalStateException("disk full"));
        assertEquals("shadowsync ps: shard 0 replica 1 takes over as primary\n"
                + "shadowsync ps: warning: skipping checkpoint ckpt-3: MANIFEST: is truncated\n"
                + "shadowsync ps: could not write a checkpoint\n", quiet.toString().replace(System.lineSeparator(), "\n"));

        StringWriter verbose = new StringWriter();
        CliLogging.configure(new PrintWriter(verbose), true);
        CliLogging.prefix("shadowsync trainer 1");
        CliLogging.prefix("io.shadowsync.clitest", "shadowsync coordinator");
        LIB.log(Level.DEBUG, "a debug line");
        LIB.log(Level.ERROR, "could not write a checkpoint", new IllegalStateException("disk full"));
        System.getLogger("io.shadowsync.other").log(Level.INFO, "elsewhere");
        String v = verbose.toString();
        assertTrue(v.startsWith("shadowsync coordinator: a debug line" + System.lineSeparator()
                + "shadowsync coordinator: could not write a checkpoint" + System.lineSeparator()
                + "java.lang.IllegalStateException: disk full"), v);
        assertTrue(v.endsWith("shadowsync trainer 1: elsewhere" + System.lineSeparator()), v);
    }

    /**
     * A normal run prints every line on stderr as the CLI's own (the JVM's note on the incubator module aside), even
     * when netlib cannot load native BLAS (it logs "Failed to load implementation" through java.util.logging) and the
     * checkpointer logs each checkpoint; --verbose shows netlib's warning.
     */
    @Test
    void aTrainRunPrintsNoLinesInJavaUtilLoggingsFormat() throws Exception {
        List<String> quiet = trainInChildJvm("ck-child-quiet");
        assertTrue(quiet.stream().anyMatch(l -> l.startsWith("shadowsync train: wrote checkpoint ")), String.join("\n", quiet));
        List<String> foreign = quiet.stream().filter(l -> !l.startsWith("shadowsync") && !l.startsWith("WARNING: Using incubator modules")).toList();
        assertEquals(List.of(), foreign, String.join("\n", quiet));

        List<String> verbose = trainInChildJvm("ck-child-verbose", "--verbose");
        assertTrue(verbose.stream().anyMatch(l -> l.contains("Failed to load implementation")), String.join("\n", verbose));
    }

    /** stderr of {@code train} with periodic checkpoints in a JVM of its own, run as the launcher runs it, without native BLAS. */
    private static List<String> trainInChildJvm(String ckName, String... more) throws Exception {
        Path err = dir.resolve(ckName + ".err");
        List<String> args = train("--checkpoint-dir", dir.resolve(ckName).toString(), "--checkpoint-every-examples", "1000");
        args.addAll(List.of(more));
        List<String> jvm = List.of("-Xmx512m", "--enable-native-access=ALL-UNNAMED", "-Ddev.ludovic.netlib.blas.nativeLib=libshadowsync-absent.so");
        Process p = new ProcessBuilder(ChildJvms.command(jvm, args)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        try {
            assertTrue(p.waitFor(100, TimeUnit.SECONDS), "train did not end");
        } finally {
            p.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(err, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join("\n", lines));
        return lines;
    }

    /** The checkpointer logs how long each checkpoint took at DEBUG: shown with --verbose only. */
    @Test
    void verboseShowsTheLibrarysDebugLines() {
        Path ck = dir.resolve("ck-verbose"), ck2 = dir.resolve("ck-quiet");
        CliTest.Run v = CliTest.run(train("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "1000", "--verbose")
                .toArray(String[]::new));
        assertEquals(0, v.code(), v.err());
        assertTrue(v.err().contains("shadowsync train: checkpoint " + ck.resolve("ckpt-1") + ": the job came to rest in "), v.err());
        assertTrue(v.err().contains("shadowsync train: wrote checkpoint " + ck.resolve("ckpt-1")), v.err());

        CliTest.Run q = CliTest.run(train("--checkpoint-dir", ck2.toString(), "--checkpoint-every-examples", "1000").toArray(String[]::new));
        assertEquals(0, q.code(), q.err());
        assertTrue(q.err().contains("shadowsync train: wrote checkpoint " + ck2.resolve("ckpt-1")), q.err());
        assertFalse(q.err().contains("came to rest"), q.err());
    }
}
