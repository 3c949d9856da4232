package io.shadowsync.ckpt;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.List;

/**
 * Where a job's checkpoints are kept: a directory on some file system, its files named relative to it with {@code /}
 * ({@code "ckpt-3"}, {@code "ckpt-3/trainer-0.bin"}; {@code ""} is the directory itself). {@link CheckpointDir},
 * {@link MultiProcessCheckpointer} and the parameter servers' checkpoint service read and write checkpoints only
 * through it. {@link LocalCheckpointStore} is a local (or NFS-mounted) directory; the {@code spark} module adds one over
 * Hadoop's {@code FileSystem} (HDFS, S3A, ...).
 *
 * <p>What a checkpoint needs of a store, and what each operation promises:
 * <ul>
 *   <li>{@link #create}: a new file (never one that exists: a checkpoint is written once), whose bytes are durable
 *       once {@link Output#finish} returns. A file cut short by a crash is harmless: a checkpoint is no checkpoint
 *       until its manifest, written last, lists every file with its size and CRC32C.</li>
 *   <li>{@link #publish}: a small file (the manifest) that a reader sees whole or not at all. Where the store renames
 *       atomically ({@link #atomicRename}) it is written to a temporary file, made durable and renamed into place;
 *       an object store, whose rename is a copy, writes the object once (an object becomes visible whole when its
 *       write completes). Either way the manifest carries its own checksum, so a torn one is refused as
 *       incomplete, never trusted.</li>
 *   <li>{@link #lock}: keeps a second job out of the directory while the first runs. Only a local file system has a
 *       lock that its holder's death releases; other stores take none (see the implementation).</li>
 * </ul>
 * Implementations are safe for use by several threads at once (a checkpoint's files are written in parallel).
 */
public interface CheckpointStore {
    /** The directory as messages name it and as a job's processes give it to each other. */
    String location();

    /** A file or directory inside, as messages name it. */
    default String where(String name) {
        return name.isEmpty() ? location() : location() + "/" + name;
    }

    /**
     * The directory as the other processes of a job are told it (a parameter server checks it against its own,
     * {@link #isLocation}): {@link #location}, or, on a local file system, the absolute path.
     */
    default String sharedLocation() {
        return location();
    }

    /** Whether location names this store's directory (a parameter server checks the directory trainer 0 asks it to use). */
    default boolean isLocation(String location) {
        return location().equals(location);
    }

    /** Whether a file renamed here appears at once, whole, at its new name (a local file system, HDFS), or not (object stores). */
    boolean atomicRename();

    /** Creates directory name and its parents; nothing when it exists. */
    void makeDirectories(String name) throws IOException;

    /**
     * Creates directory name, its parent existing.
     *
     * @throws java.nio.file.FileAlreadyExistsException when it exists: a checkpoint's directory is written once
     */
    void createDirectory(String name) throws IOException;

    boolean isDirectory(String name) throws IOException;

    boolean exists(String name) throws IOException;

    /** The names of what directory dir holds (not paths), in no particular order; empty when dir does not exist. */
    List<String> list(String dir) throws IOException;

    /**
     * @throws java.nio.file.NoSuchFileException when it does not exist
     */
    long size(String name) throws IOException;

    /**
     * Reads a file from its start.
     *
     * @throws java.nio.file.NoSuchFileException when it does not exist
     */
    ReadableByteChannel read(String name) throws IOException;

    /**
     * Creates a new file for writing.
     *
     * @throws java.nio.file.FileAlreadyExistsException when it exists
     */
    Output create(String name) throws IOException;

    /**
     * As {@link #create} then writer: where the process can end on a signal part way (a local process with shutdown
     * hooks), the file is deleted then, and the write fails naming it. Returns writer's result.
     */
    default <T> T createCleanedOnSignal(String name, Write<T> writer) throws IOException {
        return writer.write();
    }

    /** Writes content to name so that a reader sees the whole of it or nothing (see the class comment). */
    void publish(String name, byte[] content) throws IOException;

    /** Deletes a file or an empty directory; false when there was none. */
    boolean delete(String name) throws IOException;

    /** Deletes directory name and everything in it; nothing when it does not exist. */
    void deleteTree(String name) throws IOException;

    /** Makes the entries of directory dir durable, where the store needs that said (a local fsync); else nothing. */
    void syncDirectory(String dir);

    /**
     * Takes the directory for this job: a second job asking while this one holds it gets a
     * {@link CheckpointDir.LockedException} naming the holder. The returned lock is released by closing it.
     */
    AutoCloseable lock() throws IOException;

    /** A file being written: its bytes, then {@link #finish} (durable, closed) or {@link #close} (given up). */
    interface Output extends WritableByteChannel {
        /** Forces the bytes to durable storage and closes the file. */
        void finish() throws IOException;
    }

    /** A write into a file {@link #createCleanedOnSignal} created. */
    @FunctionalInterface
    interface Write<T> {
        T write() throws IOException;
    }
}
