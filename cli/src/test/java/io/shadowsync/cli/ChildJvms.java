package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the tests that start JVMs share: their synthetic data, and the check that no process outlives a test. */
final class ChildJvms {
    private ChildJvms() {}

    /** Synthetic CTR data in dir/ctr (train.tsv, eval.tsv): 2,000-id vocabulary, seed 11. */
    static void generateCtr(Path dir, int rows, int evalRows) {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", Integer.toString(rows), "--eval-rows",
                Integer.toString(evalRows), "--vocab", "2000", "--seed", "11");
        assertEquals(0, r.code(), r.err());
    }

    /**
     * Waits (at most 10 s) for this JVM's child processes to end; any still alive then is killed, with its own
     * children, and fails the test naming it.
     */
    static void assertNoneLeftBehind() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ProcessHandle.current().children().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) Thread.sleep(50);
        List<String> alive = new ArrayList<>();
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).forEach(p -> {
            alive.add(p.pid() + " " + p.info().commandLine().orElse("?"));
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        assertTrue(alive.isEmpty(), "processes left behind: " + alive);
    }
}
