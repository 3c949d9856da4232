package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job that diverges stops with exit 1, naming the trainer and worker, and writes no model: neither --save nor
 * MODEL.partial. Caught: a job that counts non-finite batches and exits 0 with a garbage model, or that keeps a
 * partial model of a diverged run.
 */
class NonFiniteCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "4000", "--eval-rows", "100", "--seed", "5");
        assertEquals(0, r.code(), r.err());
    }

    static CliTest.Run train(String sync, Path model, String... more) {
        String[] base = {"train", "--model", "dlrm", "--emb-rows", "500", "--train", dir.resolve("ctr/train.tsv").toString(),
                "--sync", sync, "--lr", "1e30", "--batch", "16", "--epochs", "3", "--no-progress", "--save", model.toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return CliTest.run(all);
    }

    @Test
    void aDivergedJobExitsOneAndSavesNothing() {
        for (String sync : new String[] {"s-ma", "fr-ma", "sync-sgd"}) {
            Path model = dir.resolve(sync + ".model");
            CliTest.Run r = train(sync, model, "--trainers", "2", "--max-non-finite", "5");
            assertEquals(1, r.code(), sync + ": " + r.err());
            assertTrue(r.err().contains("non-finite"), sync + ": " + r.err());
            assertFalse(Files.exists(model), sync + ": no model");
            assertFalse(Files.exists(model.resolveSibling(model.getFileName() + ".partial")), sync + ": no partial model");
        }
    }

    /** --max-non-finite 0 only counts (caught: a limit of 0 that stops at the first non-finite batch, or at once). */
    @Test
    void withTheLimitOffTheBatchesAreOnlyCounted() throws Exception {
        Path model = dir.resolve("off.model");
        CliTest.Run r = train("none", model, "--trainers", "1", "--max-non-finite", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.json().get("non_finite_batches").asLong() > 5, r.out());
    }
}
