package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --recompute-every K} (also a job-file key): the same training, bit for bit; a bad K is refused. */
class RecomputeCliTest {
    @TempDir
    Path dir;

    static String[] train(Path csv, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "mlp", "--train", csv.toString(), "--eval", csv.toString(), "--label-col", "y",
                "--classes", "3", "--hidden", "12,7,10,5,9", "--activation", "tanh", "--workers", "1", "--epochs", "2", "--batch", "16",
                "--seed", "3", "--no-progress"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /**
     * One worker, the same seed: the evaluation after training with K = 3 (from a job file) equals K = 1's exactly, as
     * the recomputed gradients equal the stored ones. Catches a recomputation that changes the arithmetic end to end
     * (a stale or wrong layer input would move the model); K = 0 is refused with exit 2.
     */
    @Test
    void recomputingTrainsTheSameModel() throws Exception {
        Path csv = dir.resolve("blobs.csv");
        FederateCliTest.blobs(csv, 600, 9);
        CliTest.Run plain = FederateCliTest.run(train(csv));
        assertEquals(0, plain.code(), plain.err());
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, "recompute-every: 3\n");
        List<String> withJob = new ArrayList<>(List.of(train(csv)));
        withJob.add(1, job.toString());
        CliTest.Run recomputed = FederateCliTest.run(withJob.toArray(new String[0]));
        assertEquals(0, recomputed.code(), recomputed.err());
        JsonNode a = plain.json().get("eval"), b = recomputed.json().get("eval");
        for (String f : List.of("count", "logloss", "accuracy")) assertEquals(a.get(f), b.get(f), f);
        CliTest.Run bad = FederateCliTest.run(train(csv, "--recompute-every", "0"));
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--recompute-every must be at least 1"), bad.err());
    }
}
