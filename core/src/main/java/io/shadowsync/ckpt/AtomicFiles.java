package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Atomic file replacement: write everything to a temporary file beside the target, fsync it, rename it over
 * the target, fsync the directory. A reader sees either the old file or the complete new one, never a
 * half-written one. A process that ends on a signal (SIGTERM, SIGINT: the JVM's shutdown hooks run) deletes the
 * temporary files of the writes in flight; a SIGKILL or a crash leaves at most a stray {@code .tmp-*} file.
 *
 * <p>What is at the target decides how it is written ({@link #destination}): a regular file, or nothing, is replaced
 * atomically; a symbolic link is followed, deliberately, and the file it leads to is replaced (the link stays); a
 * special file — a device such as {@code /dev/null}, a FIFO, a socket — and anything under {@code /dev} or
 * {@code /proc} ({@code /dev/stdout}) are written in place (appended to), never replaced by a regular file; a directory, and a link that leads nowhere, are refused.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Temporary files of writes in flight, deleted by a shutdown hook when the process ends on a signal. */
    private static final java.util.Set<Path> IN_FLIGHT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static final class CleanupHook {
        static {
            Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::deleteInFlight, "temp-file-cleanup"));
        }

        static void install() {}
    }

    /**
     * What the shutdown hook does: claims every file in flight (removes it from the set, so that its writer's
     * {@link #settled} then answers false) and deletes it.
     */
    static void deleteInFlight() {
        for (Path p : IN_FLIGHT) {
            if (!IN_FLIGHT.remove(p)) continue; // settled meanwhile: its writer keeps it
            try {
                Files.deleteIfExists(p);
            } catch (IOException | RuntimeException e) {
                // the process is ending; a stray temp file is all that is left
            }
        }
    }

    /**
     * Registers a temporary file that a signal ending the process should delete (its write is cut short); call
     * {@link #settled} once it is renamed or deleted.
     */
    public static void inFlight(Path tmp) {
        CleanupHook.install();
        IN_FLIGHT.add(tmp.toAbsolutePath());
    }

    /**
     * The file is complete (or renamed, or deleted): nothing left to clean up. Returns false when the signal clean-up
     * claimed it first: it is deleted, or about to be, and the writer must not count it as written. (Either this or
     * the clean-up claims a file, never both: a file the writer settled in time is never deleted under it.)
     */
    public static boolean settled(Path tmp) {
        return IN_FLIGHT.remove(tmp.toAbsolutePath());
    }

    /**
     * Writes a file that is not replaced atomically but created in place, as the parts of a multi-process checkpoint
     * are (the directory is no checkpoint until its manifest is written): while writer runs, a signal that ends the
     * process deletes the file. Returns writer's result.
     *
     * @throws IOException writer's, or one naming the file when the signal clean-up deleted it before it was complete
     */
    public static <T> T createCleanedOnSignal(Path file, FileWrite<T> writer) throws IOException {
        inFlight(file);
        T result;
        try {
            result = writer.write(file);
        } catch (IOException | RuntimeException | Error e) {
            settled(file);
            throw e;
        }
        if (!settled(file)) throw new IOException(file + ": deleted unfinished: the process is stopping on a signal");
        return result;
    }

    /** Writes one file, returning what its caller needs of it (a manifest entry). */
    @FunctionalInterface
    public interface FileWrite<T> {
        T write(Path file) throws IOException;
    }

    /** Temporary files of writes in flight now (for tests). */
    static java.util.Set<Path> inFlight() {
        return java.util.Set.copyOf(IN_FLIGHT);
    }

    /** Where a write to target goes: {@code file} is replaced atomically, or (special) target is written in place. */
    public record Destination(Path file, boolean special) {}

    /**
     * Where a write to target goes: the target itself when it is a regular file or absent; the file a symbolic link
     * leads to (followed through every link); or target itself, written in place, when it is a special file (device,
     * FIFO, socket).
     *
     * @throws java.nio.file.FileSystemException when target is a directory, or a symbolic link that leads to no file
     */
    public static Destination destination(Path target) throws IOException {
        if (Files.isDirectory(target)) throw new java.nio.file.FileSystemException(target.toString(), null, "is a directory");
        Path abs = target.toAbsolutePath().normalize();
        if ((abs.startsWith("/dev") || abs.startsWith("/proc")) && Files.exists(target)) {
            return new Destination(target, true); // /dev/stdout, /proc/self/fd/1: whatever they lead to, never replaced
        }
        if (Files.isSymbolicLink(target)) {
            if (!Files.exists(target)) {
                throw new java.nio.file.FileSystemException(target.toString(), null, "is a symbolic link to "
                        + Files.readSymbolicLink(target) + ", which does not exist (give the file's own path)");
            }
            if (!Files.isRegularFile(target)) return new Destination(target, true);
            return new Destination(target.toRealPath(), false);
        }
        if (Files.exists(target) && !Files.isRegularFile(target)) return new Destination(target, true);
        return new Destination(target, false);
    }

    /** Writes the content produced by writer to target: atomically, or in place for a special file ({@link #destination}). */
    public static void write(Path target, ChannelWriter writer) throws IOException {
        write(target, writer, true);
    }

    /**
     * As {@link #write(Path, ChannelWriter)}; cleanUpOnSignal false leaves the temporary file to a writer that a
     * shutdown hook itself drives (a checkpoint's manifest written as the process stops), which must not be removed
     * under it.
     */
    public static void write(Path target, ChannelWriter writer, boolean cleanUpOnSignal) throws IOException {
        Destination d = destination(target);
        if (d.special()) {
            // APPEND: a redirected stdout reached through /dev/stdout goes on at its end; devices and FIFOs ignore it
            try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                writer.write(ch);
            }
            return;
        }
        Path abs = d.file().toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        if (cleanUpOnSignal) inFlight(tmp);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writer.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + abs + " atomically on this file system", e);
            }
            if (dir != null) fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
            settled(tmp);
        }
    }

    /** Writes text (UTF-8) to target atomically. */
    public static void writeString(Path target, String text) throws IOException {
        writeString(target, text, true);
    }

    /** Writes text (UTF-8) to target; see {@link #write(Path, ChannelWriter, boolean)} for cleanUpOnSignal. */
    public static void writeString(Path target, String text, boolean cleanUpOnSignal) throws IOException {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        write(target, ch -> {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        }, cleanUpOnSignal);
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems refuse to open a directory; the rename is still atomic there
        }
    }

    /** Produces a file's content. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }
}
