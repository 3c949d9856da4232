package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.engine.JobState;
import io.shadowsync.testing.LogCapture;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint directory: files round-trip exactly; a truncated or bit-flipped file, a corrupt manifest or a
 * missing one is detected, named in a warning and skipped for the previous good checkpoint; only the newest K are
 * kept, and only once a newer one is complete.
 */
class CheckpointDirTest {
    /** A small state with every part: two trainers (stream and in-memory positions), two shards, a server. */
    static JobState state(float mark) {
        JobState.Totals totals = new JobState.Totals(new long[] {64, 32}, 90, 61.5, 40, 1, 1000, 200, 30, 1.5, 7, 3.5, 4096, 96, 60.25, 41);
        JobState.TrainerState t0 = new JobState.TrainerState(0, new float[] {mark, 2, 3}, new float[][] {{0.5f, 0.25f, 0.125f}, {1, 1, 1}},
                42, new float[][] {{9, 8, 7}, {6, 5, 4}},
                new JobState.StreamPosition(1, 150, 120, 2, new long[] {40, 30}, new int[256], new long[] {64, 32}), totals, false);
        JobState.TrainerState t1 = new JobState.TrainerState(1, new float[] {mark, -2, -3}, new float[0][], 0, new float[0][],
                new JobState.ShardPosition(new long[] {64, 32}), totals, true);
        JobState.ShardState s0 = new JobState.ShardState(0, new float[][] {{1, 2, 3, 4}, {mark}}, new float[][] {{0.1f, 0.2f}, null});
        JobState.ShardState s1 = new JobState.ShardState(1, new float[][] {{5, 6}, {}}, new float[][] {{0.3f}, null});
        JobState.ServerState server = new JobState.ServerState(new float[] {mark, 1, 2}, new float[][][] {{{1, 2}}, {{3}}}, new long[] {5, 6});
        return new JobState(192, List.of(t0, t1), List.of(s0, s1), server);
    }

    /** The warnings of the last {@link #newest} call: what CheckpointDir logged at WARNING (a checkpoint skipped, and why). */
    static List<String> warnings = new ArrayList<>();

    static Optional<CheckpointDir.Loaded> newest(CheckpointDir d) throws IOException {
        warnings.clear();
        try (LogCapture logs = LogCapture.of(CheckpointDir.class.getName())) {
            try {
                return d.newest();
            } finally {
                warnings.addAll(logs.messages(Level.WARNING));
            }
        }
    }

    static void flipByte(Path f, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
            ch.write(b, at);
        }
    }

    static TreeSet<String> names(Path dir) throws IOException {
        TreeSet<String> s = new TreeSet<>();
        try (var list = Files.list(dir)) {
            list.forEach(p -> s.add(p.getFileName().toString()));
        }
        return s;
    }

    @Test
    void everyPartRoundTripsExactly(@TempDir Path dir) throws Exception {
        CheckpointDir d = new CheckpointDir(dir.resolve("ck"), 3);
        Path ck = d.write(state(1), Map.of("optimizer.lr", "0.5", "path", "/a b/c"));
        assertEquals(dir.resolve("ck/ckpt-1"), ck);
        assertEquals(new TreeSet<>(List.of("MANIFEST", "dense-server.bin", "emb-shard-0.bin", "emb-shard-1.bin", "trainer-0.bin", "trainer-1.bin")), names(ck));
        CheckpointDir.Loaded l = newest(d).orElseThrow();
        assertEquals(List.of(), warnings);
        assertEquals(Map.of("optimizer.lr", "0.5", "path", "/a b/c"), l.manifest().settings());
        assertEquals(192, l.manifest().examples());
        JobState a = state(1), b = l.state();
        assertEquals(a.examples(), b.examples());
        for (int i = 0; i < 2; i++) {
            JobState.TrainerState x = a.trainers().get(i), y = b.trainers().get(i);
            assertEquals(x.rank(), y.rank());
            assertArrayEquals(x.params(), y.params());
            assertArrayEquals(x.optimizer(), y.optimizer());
            assertEquals(x.optimizerSteps(), y.optimizerSteps());
            assertArrayEquals(x.sync(), y.sync());
            assertEquals(x.pendingRound(), y.pendingRound());
            assertArrayEquals(x.position().perWorker(), y.position().perWorker());
            assertEquals(x.position().getClass(), y.position().getClass());
            assertArrayEquals(x.totals().workerExamples(), y.totals().workerExamples());
            assertEquals(x.totals().lossSum(), y.totals().lossSum());
            assertEquals(x.totals().windowLoss(), y.totals().windowLoss());
            assertEquals(x.totals().syncBytes(), y.totals().syncBytes());
            assertEquals(x.totals().seconds(), y.totals().seconds());
        }
        JobState.StreamPosition p = (JobState.StreamPosition) b.trainers().get(0).position();
        assertEquals(1, p.epoch());
        assertEquals(150, p.index());
        assertEquals(120, p.read());
        assertEquals(2, p.skippedLines());
        assertArrayEquals(new long[] {40, 30}, p.assigned());
        for (int s = 0; s < 2; s++) {
            assertArrayEquals(a.embeddingShards().get(s).tables(), b.embeddingShards().get(s).tables());
            assertArrayEquals(a.embeddingShards().get(s).rowState(), b.embeddingShards().get(s).rowState());
        }
        assertArrayEquals(a.server().values(), b.server().values());
        assertArrayEquals(a.server().optimizer(), b.server().optimizer());
        assertArrayEquals(a.server().optimizerSteps(), b.server().optimizerSteps());
    }

    @Test
    void damagedCheckpointsAreNamedAndSkippedForThePreviousGoodOne(@TempDir Path dir) throws Exception {
        CheckpointDir d = new CheckpointDir(dir, 10);
        for (int i = 1; i <= 4; i++) d.write(state(i), Map.of());
        assertEquals(4f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);

        // ckpt-4: a shard file cut short
        Path shard = dir.resolve("ckpt-4/emb-shard-1.bin");
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 3);
        }
        assertEquals(3f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("ckpt-4") && warnings.get(0).contains("emb-shard-1.bin") && warnings.get(0).contains("truncated"), warnings.get(0));

        // ckpt-3: one bit flipped inside the trainer file's parameters
        flipByte(dir.resolve("ckpt-3/trainer-0.bin"), 20);
        assertEquals(2f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(1).contains("ckpt-3") && warnings.get(1).contains("trainer-0.bin") && warnings.get(1).contains("checksum mismatch"), warnings.get(1));

        // ckpt-2: a bit flipped in the manifest (say, in a file's size)
        Path manifest = dir.resolve("ckpt-2/MANIFEST");
        flipByte(manifest, Files.readString(manifest).indexOf("file trainer-0.bin") + 20);
        assertEquals(1f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);
        assertTrue(warnings.get(2).contains("ckpt-2") && warnings.get(2).contains("MANIFEST") && warnings.get(2).contains("corrupt"), warnings.get(2));

        // ckpt-1: its manifest gone (as after a crash before the manifest was written): nothing good is left
        Files.delete(dir.resolve("ckpt-1/MANIFEST"));
        ModelFileException e = assertThrows(ModelFileException.class, () -> newest(d));
        assertTrue(e.getMessage().contains("no good checkpoint") && e.getMessage().contains("ckpt-1 (no MANIFEST (incomplete"), e.getMessage());
        assertEquals(4, warnings.size());
    }

    @Test
    void aManifestOfAnotherFormatIsSkippedWithItsVersion(@TempDir Path dir) throws Exception {
        CheckpointDir d = new CheckpointDir(dir, 10);
        d.write(state(1), Map.of());
        Path ck2 = d.write(state(2), Map.of());
        Manifest m = Manifest.read(ck2);
        new Manifest(2, m.seq(), m.created(), m.examples(), m.settings(), m.files()).write(ck2);
        assertEquals(1f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);
        assertTrue(warnings.get(0).contains("format version 2; this build reads version 1"), warnings.get(0));
    }

    @Test
    void anEmptyDirectoryHasNoCheckpoint(@TempDir Path dir) throws Exception {
        assertEquals(Optional.empty(), newest(new CheckpointDir(dir.resolve("none"), 3)));
        assertEquals(Optional.empty(), newest(new CheckpointDir(dir, 3)));
    }

    @Test
    void onlyTheNewestKAreKeptOnceANewerOneIsComplete(@TempDir Path dir) throws Exception {
        CheckpointDir d = new CheckpointDir(dir, 2);
        d.write(state(1), Map.of());
        d.write(state(2), Map.of());
        assertEquals(new TreeSet<>(List.of("ckpt-1", "ckpt-2")), names(dir));
        d.write(state(3), Map.of());
        assertEquals(new TreeSet<>(List.of("ckpt-2", "ckpt-3")), names(dir));
        // a crash left ckpt-4 without its manifest: the next is ckpt-5, and the incomplete one goes once it is old
        Files.createDirectory(dir.resolve("ckpt-4"));
        Files.writeString(dir.resolve("ckpt-4/trainer-0.bin"), "half");
        d.write(state(5), Map.of());
        assertEquals(new TreeSet<>(List.of("ckpt-3", "ckpt-4", "ckpt-5")), names(dir));
        d.write(state(6), Map.of());
        assertEquals(new TreeSet<>(List.of("ckpt-5", "ckpt-6")), names(dir));
        assertEquals(6f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);
    }

    @Test
    void onlyWritesCutShortBeforeTheirManifestAreNoCheckpoint(@TempDir Path dir) throws Exception {
        // a process killed while writing its first checkpoint: nothing was saved, resuming starts over
        Files.createDirectories(dir.resolve("ckpt-1"));
        Files.writeString(dir.resolve("ckpt-1/trainer-0.bin"), "half");
        Files.writeString(dir.resolve("ckpt-1/MANIFEST.tmp-12-34"), "shadowsync-checkpoint 1\n");
        CheckpointDir d = new CheckpointDir(dir, 2);
        assertEquals(Optional.empty(), newest(d));
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("ckpt-1: no MANIFEST (incomplete"), warnings.get(0));
        // the next run's first checkpoint is ckpt-2, and it is taken
        d.write(state(2), Map.of());
        assertEquals(2f, newest(d).orElseThrow().state().trainers().get(0).params()[0]);
    }

    @Test
    void verifyChecksOneCheckpointAsNewestWouldTakeIt(@TempDir Path dir) throws Exception {
        CheckpointDir d = new CheckpointDir(dir, 3);
        Path good = d.write(state(1), Map.of("k", "v"));
        CheckpointDir.Loaded l = CheckpointDir.verify(good);
        assertEquals(192, l.manifest().examples());
        assertEquals(1f, l.state().trainers().get(0).params()[0]);
        flipByte(good.resolve("emb-shard-1.bin"), 12);
        ModelFileException e = assertThrows(ModelFileException.class, () -> CheckpointDir.verify(good));
        assertTrue(e.getMessage().contains("emb-shard-1.bin: checksum mismatch"), e.getMessage());
        e = assertThrows(ModelFileException.class, () -> CheckpointDir.verify(dir.resolve("ckpt-9")));
        assertTrue(e.getMessage().contains("no MANIFEST"), e.getMessage());
    }

    @Test
    void keepMustBePositive(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CheckpointDir(dir, 0));
        assertTrue(e.getMessage().contains("--keep must be at least 1"), e.getMessage());
    }
}
