package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input from the command line: a directory or glob of data files wherever a file goes, Criteo files without the label
 * column for predict (and a mixed one refused naming its line), and the choice between loading the training data
 * before training, keeping it in memory after its first pass and streaming it, said on stderr.
 */
class InputCliTest {
    @TempDir
    static Path dir;
    static Path train, eval, model;

    @BeforeAll
    static void generate() throws Exception {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "3000", "--eval-rows", "400", "--vocab", "500", "--seed", "3");
        assertEquals(0, r.code(), r.err());
        train = dir.resolve("ctr/train.tsv");
        eval = dir.resolve("ctr/eval.tsv");
        model = dir.resolve("lr.model");
        CliTest.Run t = CliTest.run("train", "--model", "lr", "--train", train.toString(), "--hash-bits", "12", "--save", model.toString(), "--no-progress");
        assertEquals(0, t.code(), t.err());
    }

    /** The lines of file without their first (label) field. */
    static List<String> unlabeled(Path file) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) out.add(line.substring(line.indexOf('\t') + 1));
        return out;
    }

    @Test
    void predictScoresCriteoFilesWithoutLabelsAsThoseWithThem() throws Exception {
        Path test = Files.write(dir.resolve("test.tsv"), unlabeled(eval));
        Path a = dir.resolve("a.txt"), b = dir.resolve("b.txt");
        CliTest.Run p = CliTest.run("predict", "--model-file", model.toString(), "--input", eval.toString(), "--out", a.toString());
        assertEquals(0, p.code(), p.err());
        CliTest.Run q = CliTest.run("predict", "--model-file", model.toString(), "--input", test.toString(), "--out", b.toString());
        assertEquals(0, q.code(), q.err());
        assertEquals(Files.readAllLines(a), Files.readAllLines(b));
        assertEquals(400, Files.readAllLines(b).size());

        List<String> mixed = unlabeled(eval);
        mixed.set(6, Files.readAllLines(eval).get(6)); // line 7 keeps its label
        Path bad = Files.write(dir.resolve("mixed.tsv"), mixed);
        CliTest.Run m = CliTest.run("predict", "--model-file", model.toString(), "--input", bad.toString(), "--out", dir.resolve("c.txt").toString());
        assertEquals(2, m.code(), m.err());
        assertTrue(m.err().contains("mixed.tsv:7: expected 39 tab-separated fields (13 integer, 26 categorical, no label, as on the file's first line), got 40"),
                m.err());
        // training needs labels: a file without them is refused at its first line
        CliTest.Run t = CliTest.run("train", "--model", "lr", "--train", test.toString(), "--no-progress");
        assertEquals(2, t.code(), t.err());
        assertTrue(t.err().contains("test.tsv:1: expected 40 tab-separated fields"), t.err());
    }

    @Test
    void aDirectoryOrGlobOfPlainAndGzipFilesIsTheDataOfItsFiles() throws Exception {
        List<String> lines = Files.readAllLines(train);
        Path days = Files.createDirectories(dir.resolve("days"));
        Files.write(days.resolve("day_0.tsv"), lines.subList(0, 1000));
        try (var out = new java.io.PrintWriter(new GZIPOutputStream(Files.newOutputStream(days.resolve("day_1.tsv.gz"))))) {
            for (String l : lines.subList(1000, 2200)) out.println(l);
        }
        Files.write(days.resolve("day_2.tsv"), lines.subList(2200, 3000));
        Files.writeString(days.resolve("_SUCCESS"), "");
        for (String data : new String[] {days.toString(), days.resolve("day_*").toString()}) {
            // input splits (the default), and every N-th line
            CliTest.Run r = CliTest.run("train", "--model", "lr", "--train", data, "--eval", days.toString(), "--hash-bits", "12", "--trainers", "3",
                    "--epochs", "2", "--no-progress", data.endsWith("*") ? "--split=round-robin" : "--no-input-splits");
            assertEquals(0, r.code(), r.err());
            assertEquals(6000, r.json().get("examples").asLong(), data + ": every row of every file, each epoch");
            assertEquals(3000, r.json().get("eval").get("count").asLong());
        }
        CliTest.Run none = CliTest.run("train", "--model", "lr", "--train", days.resolve("week_*").toString(), "--format", "criteo", "--no-progress");
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("week_*: no non-empty file matches this pattern"), none.err());
    }

    /**
     * Which path the training data takes, said in one line on stderr: plain files that fit --cache-fraction of the heap
     * are loaded before training (as --in-memory loads them); a gzip file, whose size is known only once read, is kept
     * in memory after its first pass; data over the share streams; --in-memory and --stream force either. With one
     * worker every path trains the same examples in the same order: the same model, to the last digit.
     */
    @Test
    void theInputPathFollowsTheDataAndTheFlagsAndTrainsTheSameModel() throws Exception {
        String[] lr = {"train", "--model", "lr", "--train", train.toString(), "--eval", eval.toString(), "--hash-bits", "12", "--epochs", "2", "--no-progress"};
        CliTest.Run d = CliTest.run(lr);
        assertEquals(0, d.code(), d.err());
        assertEquals(1, choices(d.err()), d.err());
        assertTrue(d.err().contains("shadowsync: loaded the training data into memory before training (3,000 examples, about 0 MiB, parsed in "), d.err());

        Path gz = dir.resolve("kept.tsv.gz");
        try (var out = new java.io.PrintWriter(new GZIPOutputStream(Files.newOutputStream(gz)))) {
            for (String l : Files.readAllLines(train)) out.println(l);
        }
        String[] lrGz = lr.clone();
        lrGz[4] = gz.toString();
        CliTest.Run k = CliTest.run(lrGz);
        assertEquals(0, k.code(), k.err());
        assertEquals(1, choices(k.err()), k.err());
        assertTrue(k.err().contains("will be kept in memory after its first pass"), k.err());

        CliTest.Run s = CliTest.run(concat(lr, "--cache-fraction", "0"));
        assertEquals(0, s.code(), s.err());
        assertEquals(1, choices(s.err()), s.err());
        assertTrue(s.err().contains("streaming the training data from disk every epoch"), s.err());
        CliTest.Run forcedStream = CliTest.run(concat(lr, "--stream"));
        assertEquals(0, forcedStream.code(), forcedStream.err());
        assertEquals(0, choices(forcedStream.err()), "--stream: " + forcedStream.err());
        CliTest.Run m = CliTest.run(concat(lr, "--in-memory", "--cache-fraction", "0"));
        assertEquals(0, m.code(), m.err());
        assertTrue(m.err().contains("shadowsync: loaded 3,000 training examples into memory in "), m.err());

        for (CliTest.Run other : List.of(k, s, forcedStream, m)) {
            assertEquals(d.json().get("train_loss"), other.json().get("train_loss"), "one worker: the same batches on every path");
            assertEquals(d.json().get("eval").get("logloss"), other.json().get("eval").get("logloss"));
        }
        CliTest.Run both = CliTest.run("train", "--model", "lr", "--train", train.toString(), "--in-memory", "--stream", "--no-progress");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("--in-memory and --stream contradict each other"), both.err());
    }

    /**
     * Data loaded before training by default reads as --in-memory's: its checkpoints record in-memory (their positions
     * are shard positions), so a default --resume continues them, and --stream is refused naming the setting.
     */
    @Test
    void dataLoadedByDefaultCheckpointsAsInMemory() throws Exception {
        Path ck = dir.resolve("ck-loaded");
        String[] job = {"train", "--model", "lr", "--train", train.toString(), "--hash-bits", "12", "--epochs", "40", "--no-progress",
                "--checkpoint-dir", ck.toString()};
        CliTest.Run first = CliTest.run(concat(job, "--checkpoint-every-examples", "4000"));
        assertEquals(0, first.code(), first.err());
        assertTrue(first.json().get("checkpoint").get("written").asInt() >= 1, first.out());
        CliTest.Run streamed = CliTest.run(concat(job, "--resume", "--stream"));
        assertEquals(2, streamed.code(), streamed.err());
        assertTrue(streamed.err().contains("in-memory is false, the checkpoint has true"), streamed.err());
        String[] more = concat(job, "--resume");
        more[java.util.Arrays.asList(more).indexOf("40")] = "41";
        CliTest.Run resumed = CliTest.run(more);
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("loaded the training data into memory before training"), resumed.err());
        assertEquals(123_000, resumed.json().get("examples").asLong());
    }

    /** How many lines of stderr say which path the training data takes. */
    private static int choices(String err) {
        int n = 0;
        for (String line : err.split("\n")) {
            if (line.contains("loaded the training data into memory before training") || line.contains("kept in memory after its first pass")
                    || line.contains("streaming the training data from disk")) n++;
        }
        return n;
    }

    /**
     * Several trainers on a text file that fits the heap share load it before training, as --in-memory; streamed, they take
     * input splits (each parses its own byte range); --no-input-splits gives every trainer all of it, every N-th line, as
     * before; giving both is refused; and a
     * checkpoint written with every N-th line is refused on a default --resume, which names the flag that resumes it.
     */
    @Test
    void severalTrainersTakeInputSplitsByDefault() throws Exception {
        String[] job = {"train", "--model", "lr", "--train", train.toString(), "--hash-bits", "12", "--trainers", "2", "--epochs", "40", "--no-progress"};
        // 40 epochs of 3,000 rows: long enough (~0.5 s on an idle machine) for the checkpointer's 100 ms polls to write one
        CliTest.Run d = CliTest.run(job);
        assertEquals(0, d.code(), d.err());
        // a plain file that fits is loaded before training and shared as --in-memory shares it: no input splits to read
        assertTrue(d.err().contains("loaded the training data into memory before training"), d.err());
        assertTrue(!d.err().contains("input split"), d.err());
        assertEquals(120_000, d.json().get("examples").asLong());
        CliTest.Run streamed = CliTest.run(concat(job, "--stream"));
        assertEquals(0, streamed.code(), streamed.err());
        assertTrue(streamed.err().contains("each of the 2 trainers parses only its own input split"), streamed.err());
        CliTest.Run old = CliTest.run(concat(job, "--input-splits", "--stream"));
        assertEquals(0, old.code(), old.err());
        assertTrue(old.err().contains("each of the 2 trainers parses only its own input split"), "--input-splits, still accepted: " + old.err());

        Path ck = dir.resolve("ck-every-nth");
        CliTest.Run n = CliTest.run(concat(job, "--no-input-splits", "--checkpoint-dir", ck.toString(), "--checkpoint-every-examples", "4000"));
        assertEquals(0, n.code(), n.err());
        assertTrue(n.err().contains("each of the 2 trainers reads all the training data and keeps one example in 2"), n.err());
        assertEquals(120_000, n.json().get("examples").asLong());
        assertTrue(n.json().get("checkpoint").get("written").asInt() >= 1, n.out());
        CliTest.Run resumed = CliTest.run(concat(job, "--checkpoint-dir", ck.toString(), "--resume"));
        assertEquals(2, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("trainer-shares is input-splits, the checkpoint has none (its trainers each read every N-th example, "
                + "the default before input splits: give --no-input-splits)"), resumed.err());
        CliTest.Run again = CliTest.run(concat(job, "--no-input-splits", "--checkpoint-dir", ck.toString(), "--resume"));
        assertEquals(0, again.code(), again.err());

        CliTest.Run both = CliTest.run(concat(job, "--input-splits", "--no-input-splits"));
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("--input-splits and --no-input-splits contradict each other"), both.err());
    }

    /**
     * A trainer process loads its own input split before training, not the whole file: each of two says so with about
     * half of the rows, the two halves make up the file, and the job trains every row once per epoch. A trainer that
     * loaded the whole file (or a split cut by the whole file's size when parsed in parallel) would say 3,000 rows, and
     * one that trained all of it would train twice the examples. --stream keeps the split streamed.
     */
    @Test
    void trainerProcessesLoadTheirOwnInputSplitBeforeTraining() throws Exception {
        String[] job = {"launch", "--local", "2", "--model", "lr", "--train", train.toString(), "--hash-bits", "12", "--epochs", "2", "--no-progress"};
        CliTest.Run r = CliTest.run(job);
        assertEquals(0, r.code(), r.err());
        long rows = 0;
        for (int k = 0; k < 2; k++) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\[trainer-" + k + "] shadowsync: loaded this trainer's input split \\(part " + k
                    + " of 2\\) of the training data into memory before training \\(([0-9,]+) examples").matcher(r.err());
            assertTrue(m.find(), r.err());
            long mine = Long.parseLong(m.group(1).replace(",", ""));
            assertTrue(Math.abs(mine - 1500) < 150, "trainer " + k + " loaded " + mine + " of the 3,000 rows");
            rows += mine;
        }
        assertEquals(3000, rows, "the two splits make up the file");
        assertEquals(6000, r.json().get("examples").asLong());
        CliTest.Run streamed = CliTest.run(concat(job, "--stream"));
        assertEquals(0, streamed.code(), streamed.err());
        assertFalse(streamed.err().contains("loaded this trainer's input split"), streamed.err());
        assertEquals(6000, streamed.json().get("examples").asLong());

        // checkpoints record the loaded split as in-memory data, and --resume loads it again: with two trainers, and
        // with one (whose split is the whole file, recorded as --in-memory records it)
        for (String n : new String[] {"2", "1"}) {
            Path ck = dir.resolve("ck-split-" + n);
            String[] one = {"launch", "--local", n, "--model", "lr", "--train", train.toString(), "--hash-bits", "12", "--no-progress",
                    "--checkpoint-dir", ck.toString()};
            CliTest.Run first = CliTest.run(concat(one, "--epochs", "20", "--checkpoint-every-examples", "4000"));
            assertEquals(0, first.code(), first.err());
            assertTrue(first.json().get("checkpoint").get("written").asInt() >= 1, first.out());
            CliTest.Run resumed = CliTest.run(concat(one, "--epochs", "21", "--resume"));
            assertEquals(0, resumed.code(), n + " trainer(s): " + resumed.err());
            assertTrue(resumed.json().get("checkpoint").hasNonNull("resumed_from"), resumed.out());
        }
    }

    /**
     * One gzip file cannot be cut into two input splits (it is read whole by one trainer, the other would get nothing):
     * by default two trainers then read all of it and keep every other line, said on stderr; asked for input splits
     * explicitly, the job is refused naming why.
     */
    @Test
    void oneGzipFileForTwoTrainersIsReadEveryNthLine() throws Exception {
        Path gz = dir.resolve("one.tsv.gz");
        try (var out = new java.io.PrintWriter(new GZIPOutputStream(Files.newOutputStream(gz)))) {
            for (String l : Files.readAllLines(train)) out.println(l);
        }
        String[] job = {"train", "--model", "lr", "--train", gz.toString(), "--hash-bits", "12", "--trainers", "2", "--epochs", "2", "--no-progress"};
        CliTest.Run d = CliTest.run(job);
        assertEquals(0, d.code(), d.err());
        assertEquals(6000, d.json().get("examples").asLong(), "every line, each epoch");
        assertTrue(d.err().contains("each of the 2 trainers reads all the training data and keeps one example in 2 (" + gz
                + " cannot be cut into 2 input splits: a gzip file is read whole by one trainer)"), d.err());
        CliTest.Run asked = CliTest.run(concat(job, "--input-splits"));
        assertEquals(2, asked.code(), asked.err());
        assertTrue(asked.err().contains("--input-splits: " + gz + " cannot be cut into 2 input splits"), asked.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
