package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --emulate-slow-trainer I:MS[:spin]}: a job with a straggler trains; bad values are refused with the flag named. */
class SlowTrainerFlagTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "2000", "--eval-rows", "100", "--seed", "5");
        assertEquals(0, r.code(), r.err());
    }

    static CliTest.Run train(String slow) {
        return CliTest.run("train", "--model", "lr", "--hash-bits", "10", "--train", dir.resolve("ctr/train.tsv").toString(), "--trainers", "2",
                "--sync", "s-ma", "--sync-interval-ms", "2", "--batch", "64", "--no-progress", "--emulate-slow-trainer", slow);
    }

    @Test
    void aJobWithAStragglerTrainsAndItsPeersNeverWait() throws Exception {
        for (String slow : new String[] {"1:2", "0:1:spin"}) {
            CliTest.Run r = train(slow);
            assertEquals(0, r.code(), r.err());
            assertEquals(2000, r.json().get("examples").asLong());
            double wait = r.json().get("worker_wait_fraction").asDouble(); // who waits how long: SlowTrainerTest, WorkerWaitTest
            assertTrue(wait >= 0 && wait < 1, "a share of the workers' time: " + wait);
        }
    }

    @Test
    void badValuesAreRefused() {
        CliTest.Run r = train("2:5");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--emulate-slow-trainer names trainer 2, but the job's trainers are 0..1"), r.err());
        r = train("1:0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("sleeps at least 1 ms per batch, got 0"), r.err());
        for (String bad : new String[] {"1", "a:5", "1:5:fast", "-1:5"}) {
            r = train(bad);
            assertEquals(2, r.code(), bad + ": " + r.err());
            assertTrue(r.err().contains("--emulate-slow-trainer takes I:MS"), bad + ": " + r.err());
        }
    }
}
