package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Atomic writes and what is at the target: a regular file is replaced, a symbolic link followed (the link stays), a
 * special file written in place (never turned into a regular file), a directory or a dangling link refused; the
 * temporary file of a write in flight is known to the signal clean-up, and forgotten after.
 */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void regularFileIsReplacedAndNoTempFileStays() throws IOException {
        Path f = dir.resolve("a.txt");
        Files.writeString(f, "old");
        AtomicFiles.writeString(f, "new");
        assertEquals("new", Files.readString(f));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void symbolicLinkIsFollowedAndStaysALink() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real")).resolve("summary.json");
        Files.writeString(real, "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), real);
        AtomicFiles.writeString(link, "new");
        assertTrue(Files.isSymbolicLink(link), "the link is not replaced by a regular file");
        assertEquals("new", Files.readString(real));
        assertEquals(real.toRealPath(), AtomicFiles.destination(link).file());
    }

    @Test
    void danglingLinkAndDirectoryAreRefused() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere/x"));
        FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicFiles.writeString(link, "x"));
        assertTrue(e.getReason().contains("does not exist"), e.getMessage());
        assertTrue(Files.isSymbolicLink(link));
        Path d = Files.createDirectory(dir.resolve("empty-dir"));
        e = assertThrows(FileSystemException.class, () -> AtomicFiles.writeString(d, "x"));
        assertEquals("is a directory", e.getReason());
        assertTrue(Files.isDirectory(d), "an empty directory is not replaced by a file");
    }

    @Test
    void specialFilesAreWrittenInPlace() throws Exception {
        assertTrue(AtomicFiles.destination(Path.of("/dev/null")).special(), "/dev/null is written in place, never replaced");
        if (Files.exists(Path.of("/dev/stdout"))) assertTrue(AtomicFiles.destination(Path.of("/dev/stdout")).special());
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.readString(fifo);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        AtomicFiles.writeString(fifo, "through the pipe\n");
        assertEquals("through the pipe\n", read.get(10, TimeUnit.SECONDS));
        assertFalse(Files.isRegularFile(fifo), "the FIFO is still a FIFO");
        assertTrue(Files.exists(fifo));
    }

    @Test
    void writesInFlightAreKnownToTheSignalCleanUpAndForgottenAfter() throws IOException {
        Path f = dir.resolve("m.bin");
        Path[] seen = new Path[1];
        AtomicFiles.write(f, ch -> {
            for (Path p : AtomicFiles.inFlight()) if (p.getParent().equals(dir.toAbsolutePath())) seen[0] = p;
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
        });
        assertTrue(seen[0] != null && seen[0].getFileName().toString().startsWith("m.bin.tmp-"), "registered: " + seen[0]);
        assertFalse(AtomicFiles.inFlight().contains(seen[0]), "forgotten once renamed");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            throw new IOException("disk full");
        }));
        for (Path p : AtomicFiles.inFlight()) assertFalse(p.getParent().equals(dir.toAbsolutePath()), "forgotten after a failure: " + p);
        assertEquals(3, Files.size(f), "a failed write leaves the old file");
    }
    @Test
    void aFileCreatedInPlaceIsDeletedByASignalMidWriteAndItsWriterToldSo() throws IOException {
        Path part = dir.resolve("emb-shard-0.bin");
        String entry = AtomicFiles.createCleanedOnSignal(part, f -> {
            assertTrue(AtomicFiles.inFlight().contains(f.toAbsolutePath()), "known to the clean-up while written");
            Files.writeString(f, "rows");
            return "entry";
        });
        assertEquals("entry", entry);
        assertFalse(AtomicFiles.inFlight().contains(part.toAbsolutePath()), "forgotten once complete");
        AtomicFiles.deleteInFlight(); // a signal after it was complete: kept
        assertEquals("rows", Files.readString(part));

        // the signal comes while the file is written: deleted, and the writer does not count it as written
        Path cut = dir.resolve("emb-shard-1.bin");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.createCleanedOnSignal(cut, f -> {
            Files.writeString(f, "half of the ro");
            AtomicFiles.deleteInFlight();
            return "entry";
        }));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("signal"), e.getMessage());
        assertFalse(Files.exists(cut), "the unfinished file is gone");

        // a write that fails by itself is forgotten too (its checkpoint is discarded as a whole)
        assertThrows(IOException.class, () -> AtomicFiles.createCleanedOnSignal(dir.resolve("x.bin"), f -> {
            throw new IOException("disk full");
        }));
        assertFalse(AtomicFiles.inFlight().contains(dir.resolve("x.bin").toAbsolutePath()));
    }
}
