package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {
    @TempDir
    Path dir;

    private Path write(String name) throws Exception {
        float[] dense = {1.5f, -2f, 3.25f, Float.MIN_VALUE};
        // 5000 rows: more than one 4096-row chunk
        LocalEmbeddingStore tables = new LocalEmbeddingStore(new long[][] {{5000, 3}, {7, 1}}, new float[] {0.1f, 0.2f}, 42, new EmbeddingOptimizerSpec("sgd", 0.1));
        Map<String, String> spec = new LinkedHashMap<>(Map.of("kind", "test", "width", "4"));
        Map<String, String> prov = new LinkedHashMap<>(Map.of("command", "shadowsync train ü"));
        Path f = dir.resolve(name);
        ModelFile.write(f, spec, prov, dense, tables);
        return f;
    }

    @Test
    void roundTripsEverything() throws Exception {
        Path f = write("m.model");
        ModelFile.Contents c = ModelFile.read(f);
        assertEquals("test", c.spec().get("kind"));
        assertEquals("shadowsync train ü", c.provenance().get("command"));
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f, Float.MIN_VALUE}, c.dense());
        LocalEmbeddingStore expected = new LocalEmbeddingStore(new long[][] {{5000, 3}, {7, 1}}, new float[] {0.1f, 0.2f}, 42, new EmbeddingOptimizerSpec("sgd", 0.1));
        assertArrayEquals(new long[] {5000, 3}, c.tableShapes()[0]);
        assertArrayEquals(expected.table(0), c.tables()[0]);
        assertArrayEquals(expected.table(1), c.tables()[1]);
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file is left behind");
        }
    }

    @Test
    void truncatedFileIsRefused() throws Exception {
        Path f = write("t.model");
        byte[] all = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.model");
        Files.write(cut, Arrays.copyOf(all, all.length - 100));
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.read(cut));
        assertTrue(e.getMessage().contains("cut.model") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void flippedByteFailsTheChecksum() throws Exception {
        Path f = write("c.model");
        byte[] all = Files.readAllBytes(f);
        all[all.length / 3] ^= 1;
        Files.write(f, all);
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.read(f));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void unknownVersionIsRefusedEvenWithAValidChecksum() throws Exception {
        Path f = write("v.model");
        byte[] all = Files.readAllBytes(f);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 99);
        // recompute the checksum so that only the version is wrong
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(all, 0, all.length - 12);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(all.length - 12, (int) crc.getValue());
        Files.write(f, all);
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.read(f));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
    }

    @Test
    void missingAndForeignFilesAreNamed() throws Exception {
        ModelFileException missing = assertThrows(ModelFileException.class, () -> ModelFile.read(dir.resolve("none.model")));
        assertTrue(missing.getMessage().contains("no such file"));
        Path junk = dir.resolve("junk.model");
        Files.writeString(junk, "this is not a model file at all, just text");
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.read(junk));
        assertTrue(e.getMessage().contains("junk.model"), e.getMessage());
        // a directory is bad input too (it was an IOException, "Is a directory", and exit 1)
        ModelFileException d = assertThrows(ModelFileException.class, () -> ModelFile.read(dir));
        assertTrue(d.getMessage().contains("is a directory"), d.getMessage());
    }

    @Test
    void atomicWriteKeepsTheOldFileWhenTheWriterFails() throws Exception {
        Path f = dir.resolve("keep.txt");
        AtomicFiles.writeString(f, "old");
        assertThrows(java.io.IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap("half".getBytes()));
            throw new java.io.IOException("disk full (simulated)");
        }));
        assertEquals("old", Files.readString(f));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "the temporary file is removed");
        }
    }
}
