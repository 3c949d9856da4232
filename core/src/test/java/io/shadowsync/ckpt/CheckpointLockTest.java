package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per checkpoint directory: a second lock is refused naming the holder's pid and host; closing releases
 * it; a lock file left by a process that is gone blocks nobody. And the data fingerprint setting, which checkpoints
 * written before it existed lack.
 */
class CheckpointLockTest {
    @TempDir
    Path dir;

    @Test
    void secondWriterIsRefusedNamingTheHolderUntilTheFirstReleases() throws IOException {
        CheckpointDir d = new CheckpointDir(dir.resolve("ck"), 3);
        long pid = ProcessHandle.current().pid();
        try (CheckpointDir.Lock held = d.lock()) {
            assertNotNull(held);
            CheckpointDir.LockedException e = assertThrows(CheckpointDir.LockedException.class, () -> new CheckpointDir(dir.resolve("ck"), 3).lock());
            assertTrue(e.getMessage().contains("pid " + pid + " on host "), e.getMessage());
            assertTrue(e.getMessage().contains("--checkpoint-dir"), e.getMessage());
            // and through another spelling of the same directory
            assertThrows(CheckpointDir.LockedException.class, () -> new CheckpointDir(dir.resolve("ck/./"), 3).lock());
        }
        try (CheckpointDir.Lock again = d.lock()) {
            assertNotNull(again);
            assertTrue(Files.readString(dir.resolve("ck/LOCK")).startsWith("pid " + pid + " "));
        }
    }

    @Test
    void checkFreeRefusesABusyDirectoryAndKeepsNothing() throws IOException {
        CheckpointDir d = new CheckpointDir(dir.resolve("ck"), 3);
        d.checkFree();
        try (CheckpointDir.Lock held = d.lock()) { // free again right after the check: a launcher's child takes it
            assertNotNull(held);
            CheckpointDir.LockedException e = assertThrows(CheckpointDir.LockedException.class, () -> new CheckpointDir(dir.resolve("ck"), 3).checkFree());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid() + " on host "), e.getMessage());
        }
    }

    @Test
    void staleLockFileOfADeadProcessBlocksNobody() throws IOException {
        Path ck = Files.createDirectories(dir.resolve("stale"));
        Files.writeString(ck.resolve(CheckpointDir.LOCK_NAME), "pid 999999 on host elsewhere since 2020-01-01T00:00:00Z\n");
        try (CheckpointDir.Lock l = new CheckpointDir(ck, 3).lock()) {
            assertNotNull(l);
            assertTrue(Files.readString(ck.resolve(CheckpointDir.LOCK_NAME)).startsWith("pid " + ProcessHandle.current().pid()));
        }
    }

    @Test
    void lockFileIsNoCheckpoint() throws Exception {
        CheckpointDir d = new CheckpointDir(dir.resolve("ck2"), 3);
        try (CheckpointDir.Lock l = d.lock()) {
            assertNotNull(l);
            d.write(CheckpointDirTest.state(1f), Map.of());
            assertEquals(dir.resolve("ck2/ckpt-1"), CheckpointDirTest.newest(d).orElseThrow().path());
            assertEquals(List.of(), CheckpointDirTest.warnings);
        }
    }

    @Test
    void dataFingerprintMissingFromAnOldCheckpointIsNoDifferenceButAnotherOneIs() {
        String key = CheckpointDir.DATA_FINGERPRINT;
        assertEquals(List.of(), CheckpointDir.differences(Map.of("seed", "1"), Map.of("seed", "1", key, "size=10")));
        assertEquals(List.of(key + " is size=10, the checkpoint has size=11"),
                CheckpointDir.differences(Map.of("seed", "1", key, "size=11"), Map.of("seed", "1", key, "size=10")));
        assertEquals(List.of("seed is 1, the checkpoint has none"), CheckpointDir.differences(Map.of(), Map.of("seed", "1")));
    }
}
