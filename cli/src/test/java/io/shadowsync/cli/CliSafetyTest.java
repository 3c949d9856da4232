package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.ModelFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * First contact and the files a run must not lose: every command answers --help; the class count of CSV/LibSVM data
 * is inferred; netlib's logging is quiet; outputs that are links, FIFOs or stdout are written as such; an output that
 * is an input, or two outputs that are one file, are refused before any work; a finished training run survives a
 * failing evaluation; one job per checkpoint directory; failing checkpoints stop the job; a resume on other data is
 * refused; an interrupted gen-data leaves its old pair and no temp files.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliSafetyTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "3000", "--eval-rows", "500", "--vocab", "300", "--seed", "3");
        assertEquals(0, r.code(), r.err());
    }

    static String train() {
        return dir.resolve("ctr/train.tsv").toString();
    }

    static String eval() {
        return dir.resolve("ctr/eval.tsv").toString();
    }

    static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    static List<String> lr(String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "lr", "--train", train(), "--hash-bits", "12", "--no-progress"));
        a.addAll(List.of(more));
        return a;
    }

    static CliTest.Run run(List<String> args) {
        return CliTest.run(args.toArray(new String[0]));
    }

    // ---- first contact

    @Test
    void everyCommandAnswersHelp() {
        CommandLine cl = Main.commandLine(new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(new java.io.StringWriter()));
        List<String> names = new ArrayList<>(cl.getSubcommands().keySet());
        names.remove("help");
        assertTrue(names.size() >= 8, names.toString());
        for (String name : names) {
            for (String flag : List.of("--help", "-h")) {
                CliTest.Run r = run(name, flag);
                assertEquals(0, r.code(), name + " " + flag + ": " + r.err());
                assertTrue(r.out().contains("Usage: shadowsync " + name), name + " " + flag + ": " + r.out());
            }
        }
        CliTest.Run r = run("train", "jobs/none.yaml", "--help");
        assertEquals(2, r.code(), "a missing job file is still an error");
    }

    /**
     * Main.run builds only the command it runs (a fresh JVM's start-up is half model building when it builds all of
     * them): each command must read as it does among all of them — its help, its --version, a bad flag's error and
     * whether enum values are case-insensitive are the same in both.
     */
    @Test
    void theCommandBuiltAloneIsTheCommandAmongAllOfThem() {
        CommandLine all = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        for (String name : all.getSubcommands().keySet()) {
            if (name.equals("help")) continue;
            CommandLine alone = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), new String[] {name});
            assertEquals(List.of(name), List.copyOf(alone.getSubcommands().keySet()), "built alone");
            CommandLine a = alone.getSubcommands().get(name), b = all.getSubcommands().get(name);
            assertEquals(b.getUsageMessage(CommandLine.Help.Ansi.OFF), a.getUsageMessage(CommandLine.Help.Ansi.OFF), name + " --help");
            assertEquals(b.getCommandSpec().qualifiedName(), a.getCommandSpec().qualifiedName());
            assertEquals(b.isCaseInsensitiveEnumValuesAllowed(), a.isCaseInsensitiveEnumValuesAllowed(), name);
            assertEquals(execute(all, name, "--no-such-flag"), execute(alone, name, "--no-such-flag"), name + " with a bad flag");
            assertEquals(execute(all, name, "--version"), execute(alone, name, "--version"), name + " --version");
        }
        assertTrue(run("--version").out().contains("shadowsync"), "the root's own options still answer");
        CliTest.Run typo = run("tain");
        assertEquals(execute(all, "tain"), typo.code() + typo.out() + typo.err(), "an unknown command: every command is built, to suggest one");
    }

    /** The exit code, stdout and stderr of cl executing args. */
    private static String execute(CommandLine cl, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return code + out.toString() + err.toString();
    }

    @Test
    void netlibLoggingIsQuietUnlessVerbose() {
        Logger netlib = Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");
        CliLogging.configure(new PrintWriter(new StringWriter()), false);
        assertFalse(netlib.isLoggable(Level.WARNING), "netlib's 'Failed to load implementation' warning is not shown");
        CliLogging.configure(new PrintWriter(new StringWriter()), true);
        assertTrue(netlib.isLoggable(Level.WARNING), "--verbose shows it");
        CliLogging.configure(new PrintWriter(new StringWriter()), false);
    }

    @Test
    void tenClassCsvTrainsWithoutClassesAndSaysWhatItInferred() throws Exception {
        StringBuilder sb = new StringBuilder("a,b,digit\n");
        java.util.Random rnd = new java.util.Random(1);
        for (int i = 0; i < 400; i++) {
            int c = i % 10;
            sb.append(c + rnd.nextFloat()).append(',').append(rnd.nextFloat()).append(',').append(c).append('\n');
        }
        Path csv = Files.writeString(dir.resolve("digits.csv"), sb.toString());
        Path model = dir.resolve("digits.model");
        CliTest.Run r = run("train", "--model", "mlp", "--train", csv.toString(), "--label-col", "digit", "--hidden", "8", "--no-progress",
                "--eval", csv.toString(), "--save", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("inferred 10 classes 0..9 (--classes 10)"), r.err());
        assertTrue(r.json().get("eval").has("accuracy"), r.out());
        // eval and predict take the model's class count
        CliTest.Run e = run("eval", "--model-file", model.toString(), "--eval", csv.toString(), "--label-col", "digit");
        assertEquals(0, e.code(), e.err());
        Path scores = dir.resolve("digits.scores");
        CliTest.Run p = run("predict", "--model-file", model.toString(), "--input", csv.toString(), "--label-col", "digit", "--out", scores.toString());
        assertEquals(0, p.code(), p.err());
        assertEquals(11, Files.readAllLines(scores).get(0).split("\t").length, "class, then 10 probabilities");

        Path frac = Files.writeString(dir.resolve("frac.csv"), "a,y\n1,0.5\n2,1.5\n");
        CliTest.Run f = run("train", "--model", "mlp", "--train", frac.toString(), "--label-col", "y", "--no-progress");
        assertEquals(2, f.code(), f.err());
        assertTrue(f.err().contains("0.5") && f.err().contains("--classes 0"), f.err());
        CliTest.Run g = run("train", "--model", "mlp", "--train", frac.toString(), "--label-col", "y", "--no-progress", "--classes", "0");
        assertEquals(0, g.code(), g.err());
        assertFalse(g.err().contains("inferred"), "nothing inferred when --classes is given: " + g.err());
    }

    @Test
    void plusMinusOneLibSvmIsInferredBinary() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) sb.append(i % 2 == 0 ? "-1" : "+1").append(' ').append(1 + i % 7).append(":1\n");
        Path svm = Files.writeString(dir.resolve("pm.svm"), sb.toString());
        CliTest.Run r = run("train", "--model", "lr", "--train", svm.toString(), "--hash-bits", "10", "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("inferred binary labels"), r.err());
    }

    // ---- outputs: special files, links, stdout

    @Test
    void summaryThroughASymlinkKeepsTheLink() throws Exception {
        Path real = dir.resolve("real-summary.json");
        Files.writeString(real, "old");
        Path link = Files.createSymbolicLink(dir.resolve("summary-link.json"), real);
        CliTest.Run r = run(lr("--summary-json", link.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertEquals(r.json(), new ObjectMapper().readTree(Files.readString(real)));
    }

    @Test
    void predictWritesToAFifoInPlaceAndToStdoutWithDash() throws Exception {
        Path model = dir.resolve("fifo.model");
        assertEquals(0, run(lr("--save", model.toString())).code());
        Path fifo = dir.resolve("scores.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CompletableFuture<List<String>> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.readAllLines(fifo);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        CliTest.Run p = run("predict", "--model-file", model.toString(), "--input", eval(), "--out", fifo.toString());
        assertEquals(0, p.code(), p.err());
        assertEquals(500, reader.get(30, TimeUnit.SECONDS).size());
        assertFalse(Files.isRegularFile(fifo), "the FIFO is still a FIFO");

        for (String stdout : List.of("-", "/dev/stdout")) {
            CliTest.Run s = run("predict", "--model-file", model.toString(), "--input", eval(), "--out", stdout);
            assertEquals(0, s.code(), s.err());
            String[] lines = s.out().strip().split("\n");
            assertEquals(500, lines.length, "only scores on stdout, through the command's own stream: " + stdout);
            Double.parseDouble(lines[0]);
            assertTrue(s.err().contains("\"examples\":500"), "the JSON line goes to stderr: " + s.err());
        }

        CliTest.Run j = run(lr("--summary-json", "-"));
        assertEquals(0, j.code(), j.err());
        assertEquals(1, j.out().strip().split("\n").length, "the summary once");
        assertFalse(Files.exists(Path.of("-")), "no file named '-'");
    }

    // ---- inputs are never overwritten; outputs are checked before training

    @Test
    void anOutputThatIsAnInputOrAnotherOutputIsRefusedBeforeAnyWork() throws Exception {
        Path copy = dir.resolve("copy.tsv");
        Files.copy(Path.of(train()), copy);
        byte[] before = Files.readAllBytes(copy);
        Path alias = Files.createSymbolicLink(dir.resolve("alias.model"), copy);
        // --save equal to --train, spelled through ./ and through a link
        for (String save : List.of(dir.resolve(".").resolve("copy.tsv").toString(), alias.toString())) {
            CliTest.Run r = run("train", "--model", "lr", "--train", copy.toString(), "--hash-bits", "10", "--no-progress", "--save", save);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--save") && r.err().contains("same file as --train"), r.err());
            assertFalse(r.err().contains("dense parameters"), "refused before training: " + r.err());
        }
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(copy)), "the training file is intact");

        Path same = dir.resolve("same.out");
        CliTest.Run two = run(lr("--save", same.toString(), "--summary-json", same.toString()));
        assertEquals(2, two.code(), two.err());
        assertTrue(two.err().contains("--save and --summary-json name the same file"), two.err());
        assertFalse(Files.exists(same));

        Path model = dir.resolve("in-out.model");
        assertEquals(0, run(lr("--save", model.toString())).code());
        CliTest.Run p = run("predict", "--model-file", model.toString(), "--input", copy.toString(), "--out", copy.toString());
        assertEquals(2, p.code(), p.err());
        assertTrue(p.err().contains("--out") && p.err().contains("--input"), p.err());
        CliTest.Run pm = run("predict", "--model-file", model.toString(), "--input", eval(), "--out", model.toString());
        assertEquals(2, pm.code(), pm.err());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(copy)));
        ModelFile.read(model); // intact
    }

    @Test
    void unwritableSaveOrABadEvalFileIsRefusedBeforeTraining() throws Exception {
        Path d = Files.createDirectories(dir.resolve("a-directory"));
        CliTest.Run r = run(lr("--save", d.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--save") && r.err().contains("is a directory"), r.err());
        assertFalse(r.err().contains("dense parameters"), "before training: " + r.err());

        CliTest.Run under = run(lr("--save", Path.of(train()).resolve("model").toString()));
        assertEquals(2, under.code(), under.err());
        assertTrue(under.err().contains("is not a directory"), under.err());

        CliTest.Run missing = run(lr("--eval", dir.resolve("no-such-eval.tsv").toString()));
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("no-such-eval.tsv"), missing.err());
        assertFalse(missing.err().contains("dense parameters"), "before training: " + missing.err());
    }

    @Test
    void evaluationThatFailsAfterTrainingKeepsTheTrainedModel() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(eval())));
        lines.set(400, "not\ta\tcriteo\tline");
        Path badEval = dir.resolve("bad-eval.tsv");
        Files.write(badEval, lines);
        Path model = dir.resolve("kept.model");
        CliTest.Run r = run(lr("--eval", badEval.toString(), "--save", model.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("bad-eval.tsv:401"), r.err());
        assertTrue(r.err().contains("the trained model is saved in " + model), r.err());
        ModelFile.Contents c = ModelFile.read(model);
        assertTrue(c.provenance().get("summary").contains("\"examples\":3000"), c.provenance().get("summary"));
    }

    // ---- checkpoints

    @Test
    void aSecondJobOnACheckpointDirectoryIsRefused() throws Exception {
        Path ck = dir.resolve("ck-locked");
        try (CheckpointDir.Lock held = new CheckpointDir(ck, 3).lock()) {
            assertTrue(held != null);
            CliTest.Run r = run(lr("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "1000"));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("is in use by another job (pid " + ProcessHandle.current().pid() + " on host "), r.err());
        }
        CliTest.Run r = run(lr("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "1000", "--emulate-slow-trainer", "0:10"));
        assertEquals(0, r.code(), "free again once released: " + r.err());
        assertTrue(r.json().get("checkpoint").get("written").asInt() >= 1, r.out());
    }

    @Test
    void checkpointsThatKeepFailingStopTheJobWithTheReason() throws Exception {
        Path ck = Files.createDirectories(dir.resolve("ck-failing"));
        Files.writeString(ck.resolve("ckpt-1"), "a file where the first checkpoint's directory goes");
        Path model = dir.resolve("failing.model");
        List<String> a = lr("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "300", "--epochs", "200",
                "--checkpoint-max-failures", "2", "--save", model.toString());
        CliTest.Run r = run(a);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("ckpt-1: already exists"), "the reason: " + r.err());
        JsonNode ckj = r.json().get("checkpoint");
        assertEquals(0, ckj.get("written").asInt());
        assertEquals(2, ckj.get("failed").asInt());
        assertTrue(ckj.get("stopped_job").asBoolean());
        assertTrue(r.json().get("examples").asLong() < 200L * 3000, "stopped early: " + r.json().get("examples"));
        assertTrue(Files.exists(dir.resolve("failing.model.partial")), "what was trained is kept");
        assertFalse(Files.exists(model), "an incomplete run is not saved as the model");
    }

    @Test
    void resumingOnAnotherTrainingFileIsRefusedButACopyIsFine() throws Exception {
        Path ck = dir.resolve("ck-data");
        // a slow trainer (10 ms a batch): the checkpointer sees every 1,000 examples go by
        CliTest.Run first = run(lr("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "1000", "--emulate-slow-trainer", "0:10"));
        assertTrue(first.json().get("checkpoint").get("written").asInt() >= 1, first.out());
        assertEquals(0, first.code(), first.err());
        CliTest.Run other = CliTest.run("gen-data", "--out", dir.resolve("other").toString(), "--rows", "3000", "--eval-rows", "10", "--vocab", "300", "--seed", "4");
        assertEquals(0, other.code(), other.err());
        List<String> a = lr("--checkpoint-dir", ck.toString(), "--resume", "--epochs", "2");
        a.set(a.indexOf(train()), dir.resolve("other/train.tsv").toString());
        CliTest.Run r = run(a);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is not the file it was trained on"), r.err());

        Path copy = dir.resolve("moved-train.tsv");
        Files.copy(Path.of(train()), copy);
        a.set(a.indexOf(dir.resolve("other/train.tsv").toString()), copy.toString());
        CliTest.Run ok = run(a);
        assertEquals(0, ok.code(), ok.err());
        assertEquals(6000, ok.json().get("examples").asLong());
    }

    // ---- interrupted gen-data

    @Test
    void genDataInterruptedLeavesTheOldPairAndNoTempFiles() throws Exception {
        Path out = dir.resolve("gen-interrupted");
        CliTest.Run old = CliTest.run("gen-data", "--out", out.toString(), "--rows", "100", "--eval-rows", "100", "--seed", "1");
        assertEquals(0, old.code(), old.err());
        byte[] oldTrain = Files.readAllBytes(out.resolve("train.tsv")), oldEval = Files.readAllBytes(out.resolve("eval.tsv"));
        List<String> cmd = ChildJvms.command(List.of("-Xmx256m"),
                List.of("gen-data", "--out", out.toString(), "--rows", "20000", "--eval-rows", "50000000", "--seed", "2"));
        Path errFile = dir.resolve("gen.err");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errFile.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // the eval rows are being written: train.tsv is complete in its temp file
            while (!Files.exists(out.resolve("eval.tsv.tmp")) || Files.size(out.resolve("eval.tsv.tmp")) < 1 << 20) {
                assertTrue(p.isAlive(), "gen-data ended early: " + Files.readString(errFile));
                assertTrue(System.nanoTime() < deadline, "no eval temp file within 60 s");
                Thread.sleep(20);
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> s = Files.list(out)) {
            List<String> names = s.map(x -> x.getFileName().toString()).sorted().toList();
            assertEquals(List.of("eval.tsv", "train.tsv"), names, "no temp files left");
        }
        assertTrue(java.util.Arrays.equals(oldTrain, Files.readAllBytes(out.resolve("train.tsv"))), "the old train.tsv, not a new one beside the old eval.tsv");
        assertTrue(java.util.Arrays.equals(oldEval, Files.readAllBytes(out.resolve("eval.tsv"))));
    }
}
