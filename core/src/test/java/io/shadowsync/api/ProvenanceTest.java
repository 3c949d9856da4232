package io.shadowsync.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.model.LrSpec;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The typed provenance and its on-disk form, the model file's string map. */
class ProvenanceTest {
    @TempDir
    Path dir;

    static Provenance sample() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("model.kind", "dlrm");
        settings.put("batch", "128");
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("train_loss", 0.5234);
        metrics.put("eval.auc", 0.71);
        return new Provenance("0.1.0", Instant.parse("2026-12-03T10:00:00.123456Z"), "s-bmuf", 4, 2, "criteo:/d/train.tsv",
                "size=10 crc32c(first MiB)=abc", settings, metrics, Map.of("command", "shadowsync train x.yaml"));
    }

    /** Catches a field written under one key and read from another, or a number or time that loses digits. */
    @Test
    void roundTripsThroughItsMap() {
        Provenance p = sample();
        assertEquals(p, Provenance.fromMap(p.toMap()));
        assertEquals("sync s-bmuf, 4 trainer(s) x 2 Hogwild worker(s)", p.toMap().get("algorithm"));
        assertEquals(Provenance.none(), Provenance.fromMap(Provenance.none().toMap()));
    }

    /** Catches a model file whose provenance does not come back as it was saved. */
    @Test
    void roundTripsThroughAModelFile() throws Exception {
        Model m = new LrSpec(4, 1, 1, false).build();
        LocalEmbeddingStore t = new LocalEmbeddingStore(m.embeddingShapes(), new float[] {0f}, 1, new EmbeddingOptimizerSpec("sgd", 0.1));
        Path f = dir.resolve("m.bin");
        new TrainedModel(m, t, sample()).save(f);
        assertEquals(sample(), TrainedModel.load(f).provenance());
    }

    /** A model file saved before the typed provenance (the old CLI's map) still loads, its entries read into the record. */
    @Test
    void readsTheFormBeforeTheRecord() throws Exception {
        Map<String, String> old = new LinkedHashMap<>();
        old.put("shadowsync_version", "0.1.0-dev");
        old.put("created", "2026-11-20T08:15:30.500Z"); // as Instant#toString wrote it
        old.put("jvm", "21.0.5+11");
        old.put("command", "shadowsync train --train d/train.tsv --trainers 2 --save m.bin");
        old.put("train_data", "criteo:d/train.tsv");
        old.put("train_data_fingerprint", "size=123 mtime=2026-11-20T08:00:00Z crc32c(first MiB)=1f2e");
        old.put("algorithm", "sync s-ma, 2 trainer(s) x 1 Hogwild worker(s)");
        old.put("summary", "{\"model\":\"lr\",\"examples\":3000}");
        Model m = new LrSpec(4, 1, 1, false).build();
        LocalEmbeddingStore t = new LocalEmbeddingStore(m.embeddingShapes(), new float[] {0f}, 1, new EmbeddingOptimizerSpec("sgd", 0.1));
        Path f = dir.resolve("old.bin");
        ModelFile.write(f, m.spec().toProperties(), old, m.dense().data(), t);

        Provenance p = TrainedModel.load(f).provenance();
        assertEquals("0.1.0-dev", p.version());
        assertEquals(Instant.parse("2026-11-20T08:15:30.500Z"), p.created());
        assertEquals("s-ma", p.algorithm());
        assertEquals(2, p.trainers());
        assertEquals(1, p.workers());
        assertEquals("criteo:d/train.tsv", p.trainData());
        assertEquals(old.get("train_data_fingerprint"), p.dataFingerprint());
        assertTrue(p.settings().isEmpty() && p.metrics().isEmpty());
        assertEquals(old.get("summary"), p.other().get("summary"));
        assertEquals(old, new LinkedHashMap<>(p.toMap()), "nothing of an old file is lost when it is saved again"); // same entries
    }

    /** Entries the record cannot type (a time that does not parse, an algorithm line of another form) are kept as they are. */
    @Test
    void keepsWhatItCannotType() {
        Provenance p = Provenance.fromMap(Map.of("created", "yesterday", "algorithm", "custom thing", "metric.x", "n/a"));
        assertNull(p.created());
        assertEquals("custom thing", p.algorithm());
        assertEquals(0, p.trainers());
        assertEquals("yesterday", p.other().get("created"));
        assertEquals("n/a", p.other().get("metric.x"));
        assertEquals(Map.of("created", "yesterday", "algorithm", "custom thing", "metric.x", "n/a"), p.toMap());
    }
}
