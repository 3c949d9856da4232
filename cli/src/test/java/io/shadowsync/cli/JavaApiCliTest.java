package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.api.Example;
import io.shadowsync.api.Provenance;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.data.Batch;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.ExampleReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model trained and scored by the command, loaded and scored from Java: the same numbers, the same provenance. */
class JavaApiCliTest {
    @TempDir
    static Path dir;
    static Path model, scores;
    static JsonNode summary;

    @BeforeAll
    static void trainAndPredict() throws Exception {
        CliTest.Run g = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "8000", "--eval-rows", "3000", "--vocab", "1000", "--seed", "5");
        assertEquals(0, g.code(), g.err());
        model = dir.resolve("lr.model");
        CliTest.Run t = CliTest.run("train", "--model", "lr", "--hash-bits", "14", "--train", data("train"), "--eval", data("eval"),
                "--trainers", "2", "--sync", "s-ma", "--save", model.toString(), "--no-progress");
        assertEquals(0, t.code(), t.err());
        summary = t.json();
        scores = dir.resolve("scores.txt");
        CliTest.Run p = CliTest.run("predict", "--model-file", model.toString(), "--input", data("eval"), "--out", scores.toString());
        assertEquals(0, p.code(), p.err());
    }

    static String data(String name) {
        return dir.resolve("ctr/" + name + ".tsv").toString();
    }

    /** Catches a core load or predict that differs from the command's (a table dropped, another output, another order). */
    @Test
    void javaPredictsWhatTheCommandWrote() throws Exception {
        List<String> lines = Files.readAllLines(scores);
        assertEquals(3000, lines.size());
        TrainedModel m = TrainedModel.load(model);
        CriteoTsvSource eval = new CriteoTsvSource(Path.of(data("eval")), false);
        int at = 0;
        try (ExampleReader r = eval.open()) {
            Batch b = new Batch(1024, eval.schema()); // the command's batch size: the same sums in the same order
            for (boolean more = true; more; ) {
                b.clear();
                while (!b.isFull() && (more = r.readInto(b))) {
                    // fill
                }
                float[] p = m.predict(b);
                for (int i = 0; i < b.size; i++, at++) {
                    assertEquals(lines.get(at), Float.toString(p[i]), "example " + at);
                    float one = m.predict(Example.of(Arrays.copyOfRange(b.dense, i * 13, i * 13 + 13), Arrays.copyOfRange(b.cat, i * 26, i * 26 + 26)))[0];
                    assertEquals(Float.parseFloat(lines.get(at)), one, 1e-6f, "example " + at + " alone");
                }
            }
        }
        assertEquals(3000, at);
    }

    /** Catches a command whose saved provenance misses the job's settings, the data fingerprint or the metrics. */
    @Test
    void theCommandsProvenanceReadsAsTheRecord() throws Exception {
        Provenance p = TrainedModel.load(model).provenance();
        assertEquals("s-ma", p.algorithm());
        assertEquals(2, p.trainers());
        assertEquals(1, p.workers());
        assertEquals(new CriteoTsvSource(Path.of(data("train")), false).fingerprint(), p.dataFingerprint());
        assertEquals("lr", p.settings().get("model.kind"));
        assertEquals("14", p.settings().get("model.hashBits"));
        assertEquals("2", p.settings().get("trainers"));
        assertEquals(summary.get("eval").get("logloss").asDouble(), p.metrics().get("eval.logloss"), 0);
        assertEquals(summary.get("examples").asDouble(), p.metrics().get("examples"), 0);
        assertTrue(p.other().get("command").startsWith("shadowsync train --model lr"), p.other().toString());
        assertTrue(p.created() != null && p.version() != null);
    }
}
