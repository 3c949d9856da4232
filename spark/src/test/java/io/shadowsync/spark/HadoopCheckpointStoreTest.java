package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.CheckpointStore;
import io.shadowsync.ckpt.Manifest;
import io.shadowsync.ckpt.StateFiles;
import io.shadowsync.engine.JobState;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-process checkpoints through Hadoop's file systems ({@link HadoopCheckpointStore}), the way the trainers and
 * servers of a Spark stage write and resume them: on the in-memory object store of the tests ({@code memtest:}, no
 * rename, a file visible only when closed) and on Hadoop's local file system through a {@code file:} URI (atomic
 * rename).
 */
class HadoopCheckpointStoreTest {
    /** A trainer's state whose parameters are all v. */
    private static JobState.TrainerState trainer(int rank, float v) {
        float[] params = new float[1000];
        java.util.Arrays.fill(params, v);
        JobState.Totals totals = new JobState.Totals(new long[] {10, 20}, 30, 1.5, 2.5, 0, 1, 2, 3, 4.0, 5, 6.0, 7, 8, 9.0, 10.0);
        return new JobState.TrainerState(rank, params, new float[][] {new float[1000]}, 3, new float[0][],
                new JobState.ShardPosition(new long[] {15, 15}), totals, false);
    }

    /** One checkpoint of two trainers as the multi-process checkpointer takes it: directory, files, manifest last. */
    private static long checkpoint(CheckpointDir dir, float v) throws Exception {
        long seq = dir.nextSeq();
        dir.create(seq);
        CheckpointStore store = dir.store();
        List<Manifest.Entry> files = List.of(
                StateFiles.writeTrainer(store, CheckpointDir.name(seq) + "/" + StateFiles.trainerFile(0), trainer(0, v)),
                StateFiles.writeTrainer(store, CheckpointDir.name(seq) + "/" + StateFiles.trainerFile(1), trainer(1, v)));
        dir.commit(seq, (long) (v * 100), Map.of("model.kind", "test"), files);
        return seq;
    }

    /** Writes, prunes, resumes and skips damaged checkpoints in store; returns nothing, asserts all. */
    private static void writesPrunesAndResumes(CheckpointStore store) throws Exception {
        CheckpointDir dir = new CheckpointDir(store, 2);
        assertTrue(dir.newestVerified().isEmpty(), "nothing yet");
        for (int i = 1; i <= 3; i++) checkpoint(dir, i);
        assertFalse(store.exists("ckpt-1"), "pruned beyond keep=2");
        CheckpointDir.Verified v = dir.newestVerified().orElseThrow();
        assertEquals(3, v.manifest().seq());
        assertEquals(store.where("ckpt-3"), v.location());
        JobState.TrainerState back = StateFiles.readTrainer(store, "ckpt-3/" + StateFiles.trainerFile(1));
        assertEquals(3f, back.params()[999]);
        assertEquals(1, back.rank());
        // a checkpoint file is written once
        assertThrows(FileAlreadyExistsException.class, () -> store.create("ckpt-3/" + StateFiles.trainerFile(1)));

        // a newer checkpoint whose manifest is torn (a writer that died part way) is skipped for the one before
        long seq = dir.nextSeq();
        dir.create(seq);
        StateFiles.writeTrainer(store, CheckpointDir.name(seq) + "/" + StateFiles.trainerFile(0), trainer(0, 9));
        store.publish(CheckpointDir.name(seq) + "/" + Manifest.NAME, "shadowsync-checkpoint 1\nseq 4\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(3, dir.newestVerified().orElseThrow().manifest().seq(), "the torn manifest's checkpoint is skipped");
        // a file that does not match its manifest entry is named, and the checkpoint skipped
        dir.discard(seq);
        assertFalse(store.exists(CheckpointDir.name(seq)));
        store.delete("ckpt-3/" + StateFiles.trainerFile(1));
        try (var out = store.create("ckpt-3/" + StateFiles.trainerFile(1))) {
            out.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        assertEquals(2, dir.newestVerified().orElseThrow().manifest().seq(), "a damaged newest one is skipped");
    }

    @Test
    void anObjectStoreWithoutRenameCommitsByWritingTheManifestLast() throws Exception {
        HadoopCheckpointStore store = new HadoopCheckpointStore("memtest:///objects/ck", MemTestFileSystem.configuration());
        assertFalse(store.atomicRename());
        assertEquals("memtest:/objects/ck", store.location());
        int renames = MemTestFileSystem.RENAMES.get();
        writesPrunesAndResumes(store);
        assertEquals(renames, MemTestFileSystem.RENAMES.get(), "nothing renamed on a store without rename");
        assertTrue(MemTestFileSystem.files("/objects/ck").contains("/objects/ck/ckpt-3/MANIFEST"), MemTestFileSystem.files("/objects/ck").toString());
    }

    @Test
    void hadoopsLocalFileSystemCommitsByRename(@TempDir Path tmp) throws Exception {
        HadoopCheckpointStore store = new HadoopCheckpointStore(tmp.resolve("ck").toUri().toString(), new Configuration());
        assertTrue(store.atomicRename());
        writesPrunesAndResumes(store);
        try (var s = Files.list(tmp.resolve("ck/ckpt-2"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
            assertEquals(List.of("MANIFEST", "trainer-0.bin", "trainer-1.bin"), names, "no temporary file left beside the manifest");
        }
    }

    @Test
    void aSchemeWithoutAFileSystemIsRefusedNamingTheDirectory() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TaskRun.store("nosuchfs://bucket/ck", HadoopCheckpointStore.serialize(new Configuration())));
        assertTrue(e.getMessage().contains("nosuchfs://bucket/ck"), e.getMessage());
    }

    @Test
    void theConfigurationTravelsToTheTasks() {
        Configuration c = MemTestFileSystem.configuration();
        c.set("fs.s3a.endpoint", "http://127.0.0.1:9000");
        Configuration back = HadoopCheckpointStore.configuration(HadoopCheckpointStore.serialize(c));
        assertEquals("http://127.0.0.1:9000", back.get("fs.s3a.endpoint"));
        assertEquals(MemTestFileSystem.class.getName(), back.get("fs.memtest.impl"));
    }
}
