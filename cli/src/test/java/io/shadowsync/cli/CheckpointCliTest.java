package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.ckpt.ModelFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --checkpoint-dir}: periodic checkpoints and the summary's {@code checkpoint} entry; {@code --resume}
 * gives the model of an uninterrupted run (one worker, fixed seed), refuses other settings with the difference named,
 * starts over with a warning when there is nothing to resume; SIGTERM makes a child JVM write a checkpoint and exit,
 * and a resumed run completes the budget.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CheckpointCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "5000", "--eval-rows", "100", "--vocab", "500", "--seed", "5");
        assertEquals(0, r.code(), r.err());
    }

    static String train() {
        return dir.resolve("ctr/train.tsv").toString();
    }

    /** The flags of one small DLRM job: one worker, a fixed seed, 4 epochs of 5,000 rows. */
    static List<String> job(String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "dlrm", "--train", train(), "--emb-rows", "300", "--epochs", "4",
                "--seed", "9", "--optimizer", "adam", "--lr", "0.01", "--no-progress"));
        a.addAll(List.of(more));
        return a;
    }

    static CliTest.Run run(List<String> args) {
        return CliTest.run(args.toArray(new String[0]));
    }

    @Test
    void resumingGivesTheModelOfAnUninterruptedRun() throws Exception {
        Path whole = dir.resolve("whole.model"), resumed = dir.resolve("resumed.model"), ck = dir.resolve("ck-resume");
        assertEquals(0, run(job("--save", whole.toString())).code());

        CliTest.Run first = run(job("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "7000", "--keep", "2"));
        assertEquals(0, first.code(), first.err());
        JsonNode c = first.json().get("checkpoint");
        assertTrue(c.get("written").asInt() >= 1, first.out());
        assertTrue(c.get("resumed_from").isNull());
        Path last = Path.of(c.get("last").asText());
        assertTrue(Files.exists(last.resolve("MANIFEST")), last.toString());
        try (Stream<Path> kept = Files.list(ck)) {
            assertEquals(Math.min(2, c.get("written").asInt()), kept.filter(p -> p.getFileName().toString().startsWith("ckpt-")).count(), "--keep 2");
        }
        assertTrue(first.err().contains("shadowsync train: wrote checkpoint " + ck.resolve("ckpt-")), first.err());

        CliTest.Run second = run(job("--checkpoint-dir", ck.toString(), "--resume", "--save", resumed.toString()));
        assertEquals(0, second.code(), second.err());
        assertEquals(last.toString(), second.json().get("checkpoint").get("resumed_from").asText());
        assertEquals(20_000, second.json().get("examples").asLong(), "examples count the run before the checkpoint too");
        Matcher at = Pattern.compile("resuming from " + Pattern.quote(last.toString()) + " \\(([\\d,]+) examples trained\\)").matcher(second.err());
        assertTrue(at.find(), second.err());
        long trained = Long.parseLong(at.group(1).replace(",", ""));
        assertTrue(trained >= 7000 && trained < 20_000, "the checkpoint was taken mid-run: " + trained);
        ModelFile.Contents a = ModelFile.read(whole), b = ModelFile.read(resumed);
        assertArrayEquals(a.dense(), b.dense());
        for (int t = 0; t < a.tables().length; t++) assertArrayEquals(a.tables()[t], b.tables()[t], "table " + t);
    }

    @Test
    void aStreamedRunResumesWithTheDataKeptInMemory() throws Exception {
        Path whole = dir.resolve("whole-streamed.model"), resumed = dir.resolve("resumed-cached.model"), ck = dir.resolve("ck-cache");
        assertEquals(0, run(job("--save", whole.toString(), "--stream")).code());
        CliTest.Run first = run(job("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "7000", "--stream"));
        assertEquals(0, first.code(), first.err());
        CliTest.Run second = run(job("--checkpoint-dir", ck.toString(), "--resume", "--save", resumed.toString())); // kept in memory
        assertEquals(0, second.code(), second.err());
        assertTrue(second.err().contains("kept in memory after its first pass"), second.err());
        ModelFile.Contents a = ModelFile.read(whole), b = ModelFile.read(resumed);
        assertArrayEquals(a.dense(), b.dense());
        for (int t = 0; t < a.tables().length; t++) assertArrayEquals(a.tables()[t], b.tables()[t], "table " + t);
    }

    @Test
    void otherSettingsAreRefusedWithTheDifferenceNamed() throws Exception {
        Path ck = dir.resolve("ck-settings");
        assertEquals(0, run(job("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "9000")).code());
        List<String> other = job("--checkpoint-dir", ck.toString(), "--resume");
        other.set(other.indexOf("0.01"), "0.02");
        other.addAll(List.of("--workers", "2"));
        CliTest.Run r = run(other);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("was written with other settings: emb-optimizer.lr is 0.02, the checkpoint has 0.01; "
                + "optimizer.lr is 0.02, the checkpoint has 0.01; workers is 2, the checkpoint has 1. Give the flags"), r.err());
        // the budget may change: the run goes on to the new total
        List<String> more = job("--checkpoint-dir", ck.toString(), "--resume");
        more.set(more.indexOf("4"), "5");
        CliTest.Run longer = run(more);
        assertEquals(0, longer.code(), longer.err());
        assertEquals(25_000, longer.json().get("examples").asLong());
    }

    @Test
    void resumeWithNothingToResumeStartsOverWithAWarning() throws Exception {
        Path ck = dir.resolve("ck-empty");
        List<String> args = job("--checkpoint-dir", ck.toString(), "--resume");
        args.set(args.indexOf("4"), "1");
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: --resume: no checkpoint in " + ck + " yet; starting from the beginning"), r.err());
        assertTrue(r.json().get("checkpoint").get("resumed_from").isNull());
        assertEquals(0, r.json().get("checkpoint").get("written").asInt());
        assertEquals(5000, r.json().get("examples").asLong());

        // a process killed while writing its first checkpoint left only an incomplete one: nothing to lose, start over
        Path cut = dir.resolve("ck-cut");
        Files.createDirectories(cut.resolve("ckpt-1"));
        Files.writeString(cut.resolve("ckpt-1/trainer-0.bin"), "half");
        args.set(args.indexOf(ck.toString()), cut.toString());
        r = run(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: skipping checkpoint " + cut.resolve("ckpt-1") + ": no MANIFEST"), r.err());
        assertTrue(r.err().contains("warning: --resume: no checkpoint in " + cut + " yet; starting from the beginning"), r.err());
        assertEquals(5000, r.json().get("examples").asLong());
    }

    @Test
    void badCheckpointFlagsAreRefused() throws Exception {
        CliTest.Run r = run(job("--resume"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--resume needs --checkpoint-dir DIR"), r.err());
        r = run(job("--checkpoint-dir", dir.resolve("x").toString(), "--keep", "0"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--keep must be at least 1"), r.err());
        r = run(job("--checkpoint-every-sec", "-1", "--checkpoint-dir", dir.resolve("x").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--checkpoint-every-sec must be zero (none) or positive"), r.err());
        // the multi-process commands take checkpoint flags too, checked the same way before anything starts
        r = CliTest.run("trainer", "--rank", "0", "--model", "lr", "--train", train(), "--resume",
                "--peers", "127.0.0.1:1", "--servers", "127.0.0.1:2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--resume needs --checkpoint-dir DIR"), r.err());
        // a directory holding only damaged checkpoints is not silently started over
        Path broken = dir.resolve("ck-broken/ckpt-1");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("MANIFEST"), "shadowsync-checkpoint 1\n");
        r = run(job("--checkpoint-dir", broken.getParent().toString(), "--resume"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("warning: skipping checkpoint " + broken + ": MANIFEST: is truncated"), r.err());
        assertTrue(r.err().contains("no good checkpoint"), r.err());
    }

    /**
     * A child JVM trains with --checkpoint-dir; once it has written a periodic checkpoint it gets SIGTERM
     * ({@link Process#destroy()}): it finishes its step, writes one more checkpoint, names it on stderr and exits. A
     * resumed run then completes the budget.
     */
    @Test
    void sigtermWritesACheckpointAndResumeCompletesTheBudget() throws Exception {
        Path ck = dir.resolve("ck-signal");
        Path errFile = dir.resolve("signal.err");
        List<String> cmd = ChildJvms.command();
        List<String> args = job("--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "4000");
        args.set(args.indexOf("4"), "400"); // far more than it will train before the signal
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errFile.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(ck.resolve("ckpt-1/MANIFEST"))) {
                assertTrue(p.isAlive(), "the child died: " + Files.readString(errFile));
                assertTrue(System.nanoTime() < deadline, "no checkpoint within 30 s: " + Files.readString(errFile));
                Thread.sleep(20);
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child exits after its checkpoint");
            assertEquals(143, p.exitValue(), "exit code of SIGTERM");
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        String err = Files.readString(errFile);
        Matcher m = Pattern.compile("stopped by a signal; wrote checkpoint (\\S+) \\(([\\d,]+) examples trained\\)").matcher(err);
        assertTrue(m.find(), err);
        Path written = Path.of(m.group(1));
        assertTrue(Files.exists(written.resolve("MANIFEST")), written.toString());
        long at = Long.parseLong(m.group(2).replace(",", ""));
        assertTrue(at >= 4000 && at < 2_000_000, "trained " + at);

        List<String> resume = job("--checkpoint-dir", ck.toString(), "--resume");
        resume.set(resume.indexOf("4"), "400");
        resume.addAll(List.of("--examples", Long.toString(at + 3000)));
        CliTest.Run r = run(resume);
        assertEquals(0, r.code(), r.err());
        assertEquals(written.toString(), r.json().get("checkpoint").get("resumed_from").asText(), "the signal's checkpoint is the newest");
        assertEquals(at + 3000, r.json().get("examples").asLong(), "the budget, counted across the restart");
    }
}
