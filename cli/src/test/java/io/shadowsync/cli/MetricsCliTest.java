package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** train --metrics / --run-dir / --eval-every: the metrics log of docs/metrics.md, end to end in-process. */
class MetricsCliTest {
    @TempDir
    static Path dir;

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TRAIN_KEYS = List.of("type", "time", "trainer", "seconds", "epoch", "examples", "examples_per_sec", "loss",
            "window_examples", "window_loss", "window_ne", "rounds", "round_ms", "staleness_ms", "staleness_rounds", "bytes_sent",
            "compression_ratio", "final");

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "20000", "--eval-rows", "3000", "--vocab", "2000", "--seed", "7");
        assertEquals(0, r.code(), r.err());
    }

    static String train() {
        return dir.resolve("ctr/train.tsv").toString();
    }

    static String eval() {
        return dir.resolve("ctr/eval.tsv").toString();
    }

    /** Every line of the file, parsed; each must end in a newline. */
    static List<JsonNode> records(Path file) throws Exception {
        String text = Files.readString(file);
        assertTrue(text.endsWith("\n"), "the last line ends in a newline");
        List<JsonNode> out = new ArrayList<>();
        for (String line : text.split("\n")) out.add(JSON.readTree(line));
        return out;
    }

    @Test
    void twoTrainersLogLinesAndEvaluationsWhileTraining() throws Exception {
        Path file = dir.resolve("m.jsonl");
        AtomicBoolean running = new AtomicBoolean(true);
        // a reader following the file while the job runs: lines flushed one by one, whole
        CompletableFuture<Integer> seenMidRun = CompletableFuture.supplyAsync(() -> {
            int seen = 0;
            while (running.get()) {
                try {
                    if (Files.exists(file)) {
                        String text = Files.readString(file);
                        int end = text.lastIndexOf('\n');
                        if (end >= 0) {
                            for (String line : text.substring(0, end).split("\n")) JSON.readTree(line); // every complete line parses
                            if (running.get()) seen = Math.max(seen, text.substring(0, end).split("\n").length);
                        }
                    }
                    Thread.sleep(30);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }
            return seen;
        });
        CliTest.Run r = CliTest.run("train", "--model", "lr", "--train", train(), "--eval", eval(), "--hash-bits", "14", "--trainers", "2",
                "--batch", "16", "--lr", "0.01", "--emulate-slow-trainer", "1:2", "--metrics", file.toString(), "--log-every", "0.2", "--eval-every", "1000",
                "--no-progress");
        running.set(false);
        assertEquals(0, r.code(), r.err());
        assertTrue(seenMidRun.get() >= 1, "a reader saw complete lines while the job ran (flushed line by line)");

        List<JsonNode> all = records(file);
        long total = 0;
        for (int t = 0; t < 2; t++) {
            List<JsonNode> mine = new ArrayList<>();
            for (JsonNode n : all) if (n.get("type").asText().equals("train") && n.get("trainer").asInt() == t) mine.add(n);
            assertTrue(mine.size() >= 2, "trainer " + t + " wrote " + mine.size() + " lines");
            for (JsonNode n : mine) for (String k : TRAIN_KEYS) assertTrue(n.has(k), "key " + k + " in " + n);
            for (JsonNode n : mine) assertTrue(n.get("staleness_rounds").asLong() >= 0, "no trainer is ahead of the one furthest ahead: " + n);
            for (int i = 1; i < mine.size(); i++) {
                JsonNode a = mine.get(i - 1), b = mine.get(i);
                long dEx = b.get("examples").asLong() - a.get("examples").asLong();
                double dSec = b.get("seconds").asDouble() - a.get("seconds").asDouble();
                assertTrue(dEx >= 0, "examples never decrease: " + a + " then " + b);
                assertTrue(b.get("time").asLong() >= a.get("time").asLong());
                if (dSec > 0) assertEquals(dEx / dSec, b.get("examples_per_sec").asDouble(), 1e-6 * Math.max(1, dEx / dSec), "rate of " + b);
            }
            JsonNode last = mine.get(mine.size() - 1);
            assertTrue(last.get("final").asBoolean(), "the last line of a trainer is its final one");
            assertTrue(last.get("rounds").asLong() > 0, "s-ma ran rounds: " + last);
            assertTrue(last.get("bytes_sent").asLong() > 0, "rounds sent bytes: " + last);
            total += last.get("examples").asLong();
        }
        assertEquals(20000, total, "the final lines add up to every example trained");

        List<JsonNode> evals = new ArrayList<>();
        for (JsonNode n : all) if (n.get("type").asText().equals("eval")) evals.add(n);
        assertTrue(evals.size() >= 3, "evaluations during training and one after: " + evals);
        for (JsonNode e : evals) for (String k : List.of("time", "seconds", "examples", "logloss", "auc", "accuracy")) assertTrue(e.has(k), k + " in " + e);
        JsonNode first = evals.get(0), last = evals.get(evals.size() - 1);
        assertTrue(first.get("examples").asLong() >= 1000 && !first.get("final").asBoolean(), "the first evaluation after 1000 examples: " + first);
        assertTrue(last.get("final").asBoolean());
        assertEquals(r.json().get("eval").get("logloss").asDouble(), last.get("logloss").asDouble(), 1e-12, "the final record is the summary's eval");
        // on an idle machine the first evaluation may come well after its 1,000 examples (it runs beside the workers), when
        // most of the learning is done: a fall, not its size (MetricsApiTest checks that evaluations follow the replica)
        assertTrue(last.get("logloss").asDouble() < first.get("logloss").asDouble() - 0.001,
                "the model learns: eval logloss " + first.get("logloss") + " then " + last.get("logloss"));
        // the evaluations during training score the replica as it is then, not one copy taken once
        JsonNode lastDuring = evals.get(evals.size() - 2);
        assertTrue(lastDuring.get("examples").asLong() > first.get("examples").asLong(), "evaluations at growing examples: " + evals);
        assertTrue(lastDuring.get("logloss").asDouble() < first.get("logloss").asDouble() - 0.001, "logloss falls during training: " + evals);
    }

    @Test
    void runDirHoldsMetricsSummaryAndARunnableJobFile() throws Exception {
        Path run = dir.resolve("runs/a");
        CliTest.Run r = CliTest.run("train", "--model", "lr", "--train", train(), "--hash-bits", "12", "--run-dir", run.toString(), "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertEquals(r.json(), JSON.readTree(Files.readString(run.resolve("summary.json"))));
        List<JsonNode> lines = records(run.resolve("metrics.jsonl"));
        JsonNode last = lines.get(lines.size() - 1);
        assertEquals(20000, last.get("examples").asLong());
        assertTrue(last.get("staleness_rounds").isNull() && last.get("round_ms").isNull(), "one trainer: no rounds: " + last);
        // job.yaml is a job file train takes, and holds the data and the defaults the run used
        String yaml = Files.readString(run.resolve("job.yaml"));
        assertTrue(yaml.contains(Path.of(train()).toAbsolutePath().toString()) && yaml.contains("hash-bits: 12"), yaml);
        assertFalse(yaml.contains("run-dir"), yaml);
        JobFile job = JobFile.read(run.resolve("job.yaml"), new CommandLine(new TrainCommand()).getCommandSpec());
        assertEquals("5.0", job.values().get("--log-every"));
    }

    /**
     * Catches trainer processes that share one file (interleaved or overwritten lines), a parameter server that
     * refuses the flag launch passes on to it, and a trainer whose last record is missing.
     */
    @Test
    @org.junit.jupiter.api.Timeout(240)
    void launchedTrainersWriteAFileEach() throws Exception {
        Path file = dir.resolve("mp/m.jsonl");
        Files.createDirectories(file.getParent());
        CliTest.Run r = CliTest.run("launch", "--local", "2", "--ps", "1", "--model", "lr", "--train", train(), "--hash-bits", "12",
                "--sync", "s-ma", "--metrics", file.toString(), "--log-every", "0.2", "--no-progress");
        assertEquals(0, r.code(), r.err());
        long total = 0;
        for (int t = 0; t < 2; t++) {
            List<JsonNode> mine = records(JobCommand.trainerMetrics(file, t));
            for (JsonNode n : mine) assertEquals(t, n.get("trainer").asInt(), "only trainer " + t + " in its file: " + n);
            JsonNode last = mine.get(mine.size() - 1);
            assertTrue(last.get("final").asBoolean(), last.toString());
            total += last.get("examples").asLong();
        }
        assertEquals(r.json().get("examples").asLong(), total);
        assertFalse(Files.exists(file), "no shared file");
    }

    @Test
    void badMetricsFlagsAreOneSentenceUsageErrors() throws Exception {
        Path file = dir.resolve("plain.txt");
        Files.writeString(file, "x");
        String m = dir.resolve("ok.jsonl").toString();
        String[][] bad = {
                {"--metrics", m, "--log-every", "0.05"},
                {"--metrics", file.resolve("m.jsonl").toString()},
                {"--run-dir", file.resolve("run").toString()},
                {"--metrics", m, "--eval-every", "100"},
                {"--metrics", m, "--eval", eval(), "--eval-every", "-1"},
        };
        String[] names = {"--log-every", "--metrics", "--run-dir", "--eval-every", "--eval-every"};
        for (int i = 0; i < bad.length; i++) {
            List<String> args = new ArrayList<>(List.of("train", "--model", "lr", "--train", train(), "--no-progress"));
            args.addAll(List.of(bad[i]));
            CliTest.Run r = CliTest.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), String.join(" ", bad[i]) + ": " + r.err());
            String msg = r.err().strip();
            assertTrue(msg.contains(names[i]) && msg.lines().count() == 1, "one line naming " + names[i] + ": " + msg);
        }
        assertFalse(Files.exists(dir.resolve("ok.jsonl")), "nothing written for a refused run");
    }
}
