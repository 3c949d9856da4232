package io.shadowsync.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.SlowTrainer;
import io.shadowsync.metrics.JsonlMetricsFile;
import io.shadowsync.model.LrSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TrainingJob.Builder's metrics(Path), logEvery and metricsListener, and the JSON lines the file gets. */
class MetricsApiTest {
    @TempDir
    Path dir;

    /**
     * Catches a listener and a file that get different records (a sink skipped, or a record written twice), a job that
     * ends without every trainer's final record, and an after-training evaluation that is not the result's.
     */
    @Test
    void theListenerAndTheFileGetTheSameRecords() throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(10_000, 2_000, 7, 100)).generate(dir.resolve("ctr"));
        Path file = dir.resolve("m.jsonl");
        List<Map<String, Object>> heard = new ArrayList<>();
        TrainingResult r = TrainingJob.builder()
                .data(new CriteoTsvSource(dir.resolve("ctr/train.tsv"), false)).eval(new CriteoTsvSource(dir.resolve("ctr/eval.tsv"), false))
                .model(new LrSpec(12, 13, 26, false)).trainers(2).sync("s-ma").batchSize(32).slowTrainer(new SlowTrainer(1, 3, false))
                .metrics(file).logEvery(Duration.ofMillis(100)).metricsListener(rec -> heard.add(new LinkedHashMap<>(rec)))
                .build().run();
        List<String> lines = Files.readAllLines(file);
        assertEquals(heard.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) assertEquals(JsonlMetricsFile.line(heard.get(i)), lines.get(i));
        long finalExamples = 0;
        int finals = 0;
        for (Map<String, Object> rec : heard) {
            if (rec.get("type").equals("train") && Boolean.TRUE.equals(rec.get("final"))) {
                finals++;
                finalExamples += (Long) rec.get("examples");
            }
        }
        assertEquals(2, finals, "one final record per trainer");
        assertEquals(r.examples(), finalExamples);
        assertTrue(heard.size() >= 4, "records while training, every 100 ms: " + heard.size());
        Map<String, Object> last = heard.get(heard.size() - 1);
        assertEquals("eval", last.get("type"));
        assertEquals(r.eval().logloss(), (Double) last.get("logloss"), 0.0);
    }

    /**
     * Catches evaluations during training that score a stale copy of the replica (copied once, or never) or the
     * wrong replica: an MLP on dense data, whose whole model is the dense replica, must get better from one evaluation
     * to the next-but-last, and its evaluations come at growing example counts. Trainer 0, whose replica is evaluated,
     * is the slow one (2 ms a batch): trainer 1 at full speed is through its half in a few milliseconds, well inside the
     * evaluations' 20 ms poll, so a fast trainer 0 would freeze before the second evaluation.
     */
    @Test
    void evaluationsDuringTrainingFollowTheReplica() throws Exception {
        StringBuilder csv = new StringBuilder("a,b,y\n");
        java.util.Random rnd = new java.util.Random(5);
        for (int i = 0; i < 12_000; i++) {
            float a = rnd.nextFloat() * 2 - 1, b = rnd.nextFloat() * 2 - 1;
            csv.append(a).append(',').append(b).append(',').append(a + b > 0 ? 1 : 0).append('\n');
        }
        Path f = dir.resolve("xy.csv");
        Files.writeString(f, csv.toString());
        List<Map<String, Object>> evals = new ArrayList<>();
        TrainingJob.builder().data(new io.shadowsync.data.CsvSource(f, "y", 2, false)).eval(new io.shadowsync.data.CsvSource(f, "y", 2, false))
                .model(new io.shadowsync.model.MlpSpec(2, new int[] {8}, 1, "relu", "binary")).learningRate(0.02).batchSize(16)
                .trainers(2).sync("s-ma").slowTrainer(new SlowTrainer(0, 2, false)) // the evaluated trainer trains the longest
                .metricsListener(rec -> {
                    if (rec.get("type").equals("eval")) evals.add(new LinkedHashMap<>(rec));
                })
                .evalEvery(1500).build().run();
        assertTrue(evals.size() >= 3, "evaluations while training and one after: " + evals);
        Map<String, Object> first = evals.get(0), lastDuring = evals.get(evals.size() - 2);
        assertTrue((Long) lastDuring.get("examples") > (Long) first.get("examples"), evals.toString());
        assertTrue((Double) lastDuring.get("logloss") < (Double) first.get("logloss") - 0.02, "the replica learns between evaluations: " + evals);
    }

    /** Catches a builder that lets an interval through that would flood the sinks. */
    @Test
    void tooShortAnIntervalIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingJob.builder().data(new CriteoTsvSource(dir.resolve("none.tsv"), false)).logEvery(Duration.ofMillis(50)).build());
        assertTrue(e.getMessage().contains("logEvery"), e.getMessage());
    }

    /** Catches JSON that a reader rejects: NaN written as NaN, unescaped quotes or control characters. */
    @Test
    void linesAreJson() {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("a", Double.NaN);
        rec.put("b", "say \"hi\"\n\t\u0001");
        rec.put("c", Map.of("d", 1.5f));
        rec.put("e", 7L);
        rec.put("f", null);
        rec.put("g", true);
        assertEquals("{\"a\":null,\"b\":\"say \\\"hi\\\"\\n\\t\\u0001\",\"c\":{\"d\":1.5},\"e\":7,\"f\":null,\"g\":true}", JsonlMetricsFile.line(rec));
    }
}
