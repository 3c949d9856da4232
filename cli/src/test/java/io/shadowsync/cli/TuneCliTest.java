package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** shadowsync tune and cv end to end, in-process: the JSON summary, the run directory, the best job file, bad input. */
class TuneCliTest {
    @TempDir
    static Path dir;

    /** CSV of features a, b and a group id g (0..29), label y = a + b > 0: 2,400 training and 800 evaluation rows. */
    @BeforeAll
    static void data() throws Exception {
        Random rnd = new Random(3);
        for (String name : List.of("train", "eval")) {
            StringBuilder csv = new StringBuilder("a,b,g,y\n");
            for (int i = 0; i < (name.equals("train") ? 2400 : 800); i++) {
                double a = rnd.nextDouble() * 2 - 1, b = rnd.nextDouble() * 2 - 1;
                csv.append(a).append(',').append(b).append(',').append(rnd.nextInt(30)).append(',').append(a + b > 0 ? 1 : 0).append('\n');
            }
            Files.writeString(dir.resolve(name + ".csv"), csv.toString());
        }
    }

    static List<String> job(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--model", "mlp", "--train", dir.resolve("train.csv").toString(), "--label-col", "y",
                "--batch", "16", "--epochs", "2", "--no-progress"));
        if (command.equals("tune")) args.addAll(List.of("--eval", dir.resolve("eval.csv").toString()));
        args.addAll(List.of(more));
        return args;
    }

    static CliTest.Run run(List<String> args) {
        return CliTest.run(args.toArray(new String[0]));
    }

    static Path space(String name, String yaml) throws Exception {
        Path p = dir.resolve(name + ".yaml");
        Files.writeString(p, yaml);
        return p;
    }

    /**
     * A 2 × 2 grid, two trials at a time: every trial is in the summary with its params and eval, the best is the fair
     * learning rate, each trial's directory has its metrics, summary and job file, and the best job file retrains the same
     * model with train (the same eval to the last digit: catches a job file that lacks a searched value or --in-memory).
     */
    @Test
    void tuneRunsTheGridAndItsBestJobRetrainsTheSameModel() throws Exception {
        Path space = space("grid", "lr: [0.00001, 0.1]\nhidden: [[8], [16, 8]]\n");
        Path out = dir.resolve("tune-grid");
        CliTest.Run r = run(job("tune", "--space", space.toString(), "--out", out.toString(), "--parallel", "2", "--metric", "accuracy"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        assertEquals(4, s.get("trials").size());
        for (JsonNode t : s.get("trials")) {
            assertTrue(t.get("params").has("lr") && t.get("params").has("hidden"), t.toString());
            assertTrue(t.get("eval").get("accuracy").isNumber(), t.toString());
            assertEquals("done", t.get("status").asText());
            Path trial = out.resolve(String.format("trial-%03d", t.get("trial").asInt()));
            for (String f : List.of("metrics.jsonl", "summary.json", "job.yaml")) assertTrue(Files.size(trial.resolve(f)) > 0, trial + "/" + f);
        }
        JsonNode best = s.get("best");
        assertEquals(0.1, best.get("params").get("lr").asDouble());
        double bestAccuracy = best.get("eval").get("accuracy").asDouble();
        for (JsonNode t : s.get("trials")) assertTrue(t.get("eval").get("accuracy").asDouble() <= bestAccuracy);
        assertTrue(r.err().contains("rank trial status"), r.err());
        Path bestJob = Path.of(s.get("best_job").asText());
        assertEquals(out.resolve("best-job.yaml"), bestJob);
        CliTest.Run again = CliTest.run("train", bestJob.toString(), "--no-progress");
        assertEquals(0, again.code(), again.err());
        assertEquals(best.get("eval").get("logloss").asDouble(), again.json().get("eval").get("logloss").asDouble(), 0.0);
    }

    /** Random search over a log range with ASHA: values stay in the range; every trial is done or stopped, never failed. */
    @Test
    void tuneSearchesARangeWithEarlyStopping() throws Exception {
        Path space = space("range", "lr: {min: 0.00001, max: 0.3, log: true}\nhidden: [[8], [16]]\n");
        CliTest.Run r = run(job("tune", "--space", space.toString(), "--out", dir.resolve("tune-range").toString(), "--search", "random",
                "--trials", "3", "--parallel", "1", "--early-stop", "asha", "--eval-every", "500", "--asha-eta", "2",
                "--emulate-slow-trainer", "0:1"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        assertEquals(3, s.get("trials").size());
        for (JsonNode t : s.get("trials")) {
            double lr = t.get("params").get("lr").asDouble();
            assertTrue(lr >= 0.00001 && lr <= 0.3, "lr " + lr);
            assertTrue(List.of("done", "stopped").contains(t.get("status").asText()), t.toString());
        }
        assertEquals("auc", s.get("metric").asText());
    }

    /** Bad input: one sentence naming what is wrong, exit 2, before any trial. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "foo: [1, 2]|'foo' is not a train flag",
            "train: [a.csv, b.csv]|'train' cannot be searched",
            "lr: {min: 0.5, max: 0.1}|min 0.5 is greater than max 0.1",
            "lr: {min: 0, max: 0.1, log: true}|a log range needs min > 0",
            "optimizer: {min: 1, max: 2}|does not take a number",
            "batch: [16, abc]|the value 'abc' does not fit the flag",
            "lr: 0.1|must be a list of values or a range",
            "lr: [0.1, 0.2, 0.3]\\nhidden: [[8], [16]]|the grid of --space",
    })
    void tuneRefusesABadSpace(String yaml, String expected) throws Exception {
        Path space = space("bad", yaml.replace("\\n", "\n"));
        List<String> args = job("tune", "--space", space.toString(), "--out", dir.resolve("tune-bad").toString(), "--trials", "4");
        CliTest.Run r = run(args);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertTrue(r.err().strip().lines().filter(l -> l.startsWith("shadowsync")).count() >= 1);
        assertTrue(!Files.exists(dir.resolve("tune-bad").resolve("trial-001")), "no trial ran");
    }

    @Test
    void tuneRefusesAskingForWhatItCannotDo() throws Exception {
        Path space = space("ok", "lr: [0.1]\n");
        String out = dir.resolve("tune-refused").toString();
        CliTest.Run r = run(job("tune", "--space", space.toString(), "--out", out, "--lr", "0.2"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--lr is given on the command line and searched in --space"), r.err());
        r = run(job("tune", "--space", space.toString(), "--out", out, "--early-stop", "asha"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give --eval-every N"), r.err());
        r = run(job("tune", "--space", space.toString(), "--out", out, "--workers", "4", "--parallel", "2"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("more than the --parallel 2 cores"), r.err());
        r = run(job("tune", "--space", space.toString(), "--out", out, "--save", dir.resolve("m.bin").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--save is not for tune"), r.err());
    }

    /** A second search into a directory that holds one is refused, so that nothing written is lost; a file is no directory. */
    @Test
    void tuneKeepsAnEarlierSearch() throws Exception {
        Path space = space("one", "lr: [0.1]\n");
        Path out = dir.resolve("tune-once");
        CliTest.Run first = run(job("tune", "--space", space.toString(), "--out", out.toString()));
        assertEquals(0, first.code(), first.err());
        String before = Files.readString(out.resolve("trial-001/summary.json"));
        CliTest.Run r = run(job("tune", "--space", space.toString(), "--out", out.toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("holds a search already"), r.err());
        assertEquals(before, Files.readString(out.resolve("trial-001/summary.json")));
        r = run(job("tune", "--space", space.toString(), "--out", dir.resolve("train.csv").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is a file, not a directory"), r.err());
    }

    /** A train job file with eval data serves cv as it is: its eval is left out with a note (on the command line: refused). */
    @Test
    void cvTakesATrainJobFile() throws Exception {
        Path jobFile = dir.resolve("job.yaml");
        Files.writeString(jobFile, "model: mlp\ntrain: " + dir.resolve("train.csv") + "\neval: " + dir.resolve("eval.csv")
                + "\nlabel-col: y\nbatch: 16\nlr: 0.1\nhidden: [8]\n");
        CliTest.Run r = CliTest.run("cv", jobFile.toString(), "--folds", "2", "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the job file's 'eval: "), r.err());
        assertEquals(2400, r.json().get("folds").get(0).get("eval_examples").asInt() * 2);
    }

    /**
     * 4 stratified folds: each fold's eval holds its share of the 2,400 examples and they add up, mean and std are those
     * of the folds (catches folds evaluated on their training part, and a summary keyed otherwise than mean.accuracy).
     */
    @Test
    void cvReportsEveryFoldAndTheMeanAndStd() throws Exception {
        CliTest.Run r = run(job("cv", "--folds", "4", "--parallel", "2", "--lr", "0.1", "--hidden", "8"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        assertEquals(4, s.get("folds").size());
        int held = 0;
        double sum = 0;
        for (JsonNode f : s.get("folds")) {
            assertEquals(600, f.get("eval").get("count").asInt());
            assertEquals(1800, f.get("train_examples").asInt());
            held += f.get("eval_examples").asInt();
            sum += f.get("eval").get("accuracy").asDouble();
        }
        assertEquals(2400, held);
        assertEquals(sum / 4, s.get("mean").get("accuracy").asDouble(), 1e-12);
        assertTrue(s.get("std").get("accuracy").asDouble() >= 0);
        assertEquals("stratified by label", s.get("split").asText());
        assertTrue(r.err().contains("mean") && r.err().contains("±"), r.err());
    }

    @Test
    void cvGroupsByAColumn() throws Exception {
        CliTest.Run r = run(job("cv", "--folds", "3", "--group-column", "g", "--lr", "0.1", "--hidden", "8"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        assertEquals("grouped by g", s.get("split").asText());
        int held = 0;
        for (JsonNode f : s.get("folds")) held += f.get("eval_examples").asInt();
        assertEquals(2400, held);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--folds|1|--folds must be at least 2",
            "--folds|5000|--folds 5000 is more than the 2400 examples",
            "--group-column|nosuch|--group-column nosuch is not a feature column",
            "--eval|x.csv|--eval is not for cv",
    })
    void cvRefusesBadInput(String flag, String value, String expected) {
        CliTest.Run r = run(job("cv", flag, value));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }
}
