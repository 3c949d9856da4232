package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.model.LrSpec;
import io.shadowsync.net.run.ServerProcess;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shadowsync trainer} in this JVM, against a parameter server run here by the library ({@link ServerProcess}):
 * the command's own output without a child JVM.
 */
class TrainerCommandTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        ChildJvms.generateCtr(dir, 2000, 500);
    }

    /**
     * A one-trainer job with a collective algorithm: trainer 0 says, as {@code train} does, that the algorithm has
     * nobody to synchronize with; it trains every example, reports two processes and stops the server. Fails when
     * the trainer command drops the job's notes.
     */
    @Test
    @Timeout(120)
    void aOneTrainerJobPrintsTheNoteAsTrainDoes() throws Exception {
        Path train = dir.resolve("ctr/train.tsv");
        TrainingJob job = TrainingJob.builder().data(new CriteoTsvSource(train, false)).model(new LrSpec(10, 13, 26, false)).sync("s-ma").build();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (ServerProcess ps = ServerProcess.builder(job, 0).start()) {
            CliTest.Run r = CliTest.run("trainer", "--rank", "0", "--trainers", "1", "--ps-shards", "1", "--sync", "s-ma", "--model", "lr",
                    "--hash-bits", "10", "--train", train.toString(), "--peers", "127.0.0.1:" + port, "--servers", ps.address().toString(),
                    "--no-progress");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("shadowsync: note: with one trainer, s-ma has nobody to synchronize with"), r.err());
            JsonNode s = r.json();
            assertEquals(2000, s.get("examples").asLong());
            assertEquals(2, s.get("processes").asInt());
            assertTrue(ps.awaitTermination(Duration.ofSeconds(10)), "trainer 0 stops the server");
        }
    }
}
