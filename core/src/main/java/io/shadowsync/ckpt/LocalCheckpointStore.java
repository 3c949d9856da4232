package io.shadowsync.ckpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A checkpoint directory on a local (or NFS-mounted) file system through {@code java.nio}: files created with
 * {@code CREATE_NEW} and forced to disk, the manifest published by {@link AtomicFiles} (temporary file, fsync, atomic
 * rename, fsync of the directory), files being written deleted when the process ends on a signal, and the lock an OS
 * file lock on {@code DIR/LOCK} (the OS releases it when the process dies).
 */
public final class LocalCheckpointStore implements CheckpointStore {
    private final Path root;

    public LocalCheckpointStore(Path root) {
        if (root == null) throw new IllegalArgumentException("a checkpoint directory is required");
        this.root = root;
    }

    /** The directory. */
    public Path root() {
        return root;
    }

    /** A file or directory inside. */
    public Path path(String name) {
        return name.isEmpty() ? root : root.resolve(name);
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public String sharedLocation() {
        return root.toAbsolutePath().normalize().toString();
    }

    /** Another process's view of the same directory: an absolute path that normalizes to this one. */
    @Override
    public boolean isLocation(String location) {
        try {
            Path p = Path.of(location);
            return !location.isEmpty() && p.isAbsolute() && p.normalize().equals(root.toAbsolutePath().normalize());
        } catch (InvalidPathException e) {
            return false;
        }
    }

    @Override
    public boolean atomicRename() {
        return true;
    }

    @Override
    public void makeDirectories(String name) throws IOException {
        Files.createDirectories(path(name));
    }

    @Override
    public void createDirectory(String name) throws IOException {
        Files.createDirectory(path(name));
    }

    @Override
    public boolean isDirectory(String name) {
        return Files.isDirectory(path(name));
    }

    @Override
    public boolean exists(String name) {
        return Files.exists(path(name));
    }

    @Override
    public List<String> list(String dir) throws IOException {
        List<String> out = new ArrayList<>();
        Path d = path(dir);
        if (!Files.isDirectory(d)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) out.add(p.getFileName().toString());
        }
        return out;
    }

    @Override
    public long size(String name) throws IOException {
        return Files.size(path(name));
    }

    @Override
    public ReadableByteChannel read(String name) throws IOException {
        return FileChannel.open(path(name));
    }

    @Override
    public Output create(String name) throws IOException {
        FileChannel ch = FileChannel.open(path(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new Output() {
            @Override
            public int write(ByteBuffer src) throws IOException {
                return ch.write(src);
            }

            @Override
            public boolean isOpen() {
                return ch.isOpen();
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }

            @Override
            public void finish() throws IOException {
                ch.force(true);
                ch.close();
            }
        };
    }

    @Override
    public <T> T createCleanedOnSignal(String name, Write<T> writer) throws IOException {
        return AtomicFiles.createCleanedOnSignal(path(name), f -> writer.write());
    }

    /** Atomically; not cleaned up on a signal: the final checkpoint's manifest is written from a shutdown hook. */
    @Override
    public void publish(String name, byte[] content) throws IOException {
        AtomicFiles.write(path(name), ch -> {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) ch.write(buf);
        }, false);
    }

    @Override
    public boolean delete(String name) throws IOException {
        return Files.deleteIfExists(path(name));
    }

    @Override
    public void deleteTree(String name) throws IOException {
        Path p = path(name);
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            List<Path> all = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path x : all) Files.deleteIfExists(x);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void syncDirectory(String dir) {
        try (FileChannel ch = FileChannel.open(path(dir), StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems refuse to open a directory; the renames are still atomic there
        }
    }

    /**
     * An OS file lock on {@code DIR/LOCK} (released by the OS when the process dies, so a killed job's lock file never
     * blocks the next one) whose content names the owner: "pid P on host H since T". Closing releases it; the file
     * stays.
     */
    @Override
    public AutoCloseable lock() throws IOException {
        Files.createDirectories(root);
        Path file = root.resolve(CheckpointDir.LOCK_NAME);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        java.nio.channels.FileLock l;
        try {
            l = ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException sameJvm) {
            l = null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            String owner;
            try {
                owner = Files.readString(file).strip();
            } catch (IOException e) {
                owner = "";
            } finally {
                ch.close();
            }
            throw new CheckpointDir.LockedException("checkpoint directory " + root + " is in use by another job"
                    + (owner.isEmpty() ? "" : " (" + owner + ")") + "; one job at a time writes into a checkpoint directory: "
                    + "wait for it to end, stop it, or give another --checkpoint-dir");
        }
        try {
            String me = "pid " + ProcessHandle.current().pid() + " on host " + hostName() + " since " + Instant.now() + "\n";
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me.getBytes(java.nio.charset.StandardCharsets.UTF_8)), 0);
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            l.release();
            ch.close();
            throw e;
        }
        java.nio.channels.FileLock held = l;
        return () -> {
            try {
                if (held.isValid()) held.release();
            } finally {
                ch.close();
            }
        };
    }

    /** This host's name, without a DNS lookup where the kernel says it. */
    private static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!h.isEmpty()) return h;
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String toString() {
        return location();
    }
}
