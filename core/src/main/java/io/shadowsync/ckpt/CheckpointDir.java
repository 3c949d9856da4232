package io.shadowsync.ckpt;

import io.shadowsync.engine.JobState;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A directory of checkpoints, {@code ckpt-<seq>/} each, the newest with the highest sequence number:
 * <pre>
 * DIR/ckpt-12/trainer-0.bin … trainer-(N−1).bin   per trainer: replica, optimizer, sync state, data position, counters
 * DIR/ckpt-12/emb-shard-0.bin … emb-shard-(S−1).bin  per embedding shard: its rows of every table, row-optimizer state
 * DIR/ckpt-12/dense-server.bin                    the EASGD center or asynchronous SGD's parameters (when used)
 * DIR/ckpt-12/MANIFEST                            written last, atomically: format, settings, size and CRC32C of each file
 * </pre>
 * {@link #write} writes every file on its own thread, in parallel, then the manifest, then deletes the checkpoints
 * beyond the newest {@code keep} — only once the new one is complete, so a crash while writing always leaves the
 * previous one. {@link #newest} returns the newest checkpoint whose manifest and files check out, naming every newer
 * one it skips and why.
 *
 * <p>Not thread-safe: one writer per directory (the {@link Checkpointer} serializes its writes; {@link #lock} keeps a
 * second job out).
 */
public final class CheckpointDir {
    private static final System.Logger LOG = System.getLogger(CheckpointDir.class.getName());

    private static final String PREFIX = "ckpt-";

    private final Path dir;
    private final int keep;

    /**
     * @param dir  the directory (created on the first write)
     * @param keep how many complete checkpoints to keep, at least 1
     */
    public CheckpointDir(Path dir, int keep) {
        if (dir == null) throw new IllegalArgumentException("a checkpoint directory is required");
        if (keep < 1) throw new IllegalArgumentException("--keep must be at least 1 (the newest checkpoint), got " + keep);
        this.dir = dir;
        this.keep = keep;
    }

    public Path path() {
        return dir;
    }

    /** The lock file of a directory that a job writes checkpoints into. */
    public static final String LOCK_NAME = "LOCK";

    /**
     * A held lock on the directory ({@link #lock}): an OS file lock on {@code DIR/LOCK} (released by the OS when the
     * process dies, so a killed job's lock file never blocks the next one) whose content names the owner. Closing
     * releases it; the file stays.
     */
    public static final class Lock implements AutoCloseable {
        private final FileChannel channel;
        private final java.nio.channels.FileLock lock;

        private Lock(FileChannel channel, java.nio.channels.FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                if (lock.isValid()) lock.release();
            } finally {
                channel.close();
            }
        }
    }

    /** Another job holds the directory's lock; the message names its owner as the lock file records it. */
    public static final class LockedException extends IOException {
        private static final long serialVersionUID = 1L;

        LockedException(String message) {
            super(message);
        }
    }

    /**
     * Takes the directory for this process, creating it: one job at a time writes checkpoints into a directory (two
     * would interleave sequence numbers and prune each other's checkpoints). Writes "pid P on host H since T" into
     * the lock file.
     *
     * @throws LockedException when another process (or another job in this JVM) holds it, naming the holder
     */
    public Lock lock() throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(LOCK_NAME);
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
            throw new LockedException("checkpoint directory " + dir + " is in use by another job"
                    + (owner.isEmpty() ? "" : " (" + owner + ")") + "; one job at a time writes into a checkpoint directory: "
                    + "wait for it to end, stop it, or give another --checkpoint-dir");
        }
        try {
            String me = "pid " + ProcessHandle.current().pid() + " on host " + hostName() + " since " + Instant.now() + "\n";
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.wrap(me.getBytes(java.nio.charset.StandardCharsets.UTF_8)), 0);
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            l.release();
            ch.close();
            throw e;
        }
        return new Lock(ch, l);
    }

    /**
     * Checks, without keeping it, that the directory's lock is free: for a launcher whose child process takes the
     * lock, to refuse a busy directory before it starts anything. (The child's {@link #lock} still decides.)
     *
     * @throws LockedException naming the holder when another process holds it
     */
    public void checkFree() throws IOException {
        lock().close();
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

    /** A checkpoint read back: its directory, manifest and the state to {@code Job.restore}. */
    public record Loaded(Path path, Manifest manifest, JobState state) {}

    /**
     * Writes state as the next checkpoint: every file on its own thread, then the manifest (with settings, the run's
     * settings that a resumed run must match), then deletes the oldest beyond {@code keep}. The state's live arrays
     * must hold still until this returns (the job paused). Returns the new checkpoint's directory.
     */
    public Path write(JobState state, Map<String, String> settings) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        long seq = 1;
        for (long s : sequences()) seq = Math.max(seq, s + 1);
        Path ck = dir.resolve(PREFIX + seq);
        Files.createDirectory(ck); // fails if it exists: a checkpoint directory is written once
        List<Part> parts = new ArrayList<>();
        for (JobState.TrainerState t : state.trainers()) {
            parts.add(new Part(StateFiles.trainerFile(t.rank()), f -> StateFiles.writeTrainer(f, t)));
        }
        for (JobState.ShardState s : state.embeddingShards()) {
            parts.add(new Part(StateFiles.shardFile(s.shard()), f -> StateFiles.writeShard(f, s)));
        }
        if (state.server() != null) parts.add(new Part(StateFiles.SERVER_FILE, f -> StateFiles.writeServer(f, state.server())));
        Manifest.Entry[] entries = new Manifest.Entry[parts.size()];
        Throwable[] failures = new Throwable[parts.size()];
        Thread[] threads = new Thread[parts.size()];
        for (int i = 0; i < threads.length; i++) {
            int ii = i;
            Part p = parts.get(i);
            threads[i] = new Thread(() -> {
                try {
                    entries[ii] = p.writer.write(ck.resolve(p.name));
                } catch (Throwable t) {
                    failures[ii] = t;
                }
            }, "checkpoint-writer/" + p.name);
            threads[i].start();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join(); // the writers finish in any case: their files are removed below, not left half-written
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        try {
            if (interrupted) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while writing checkpoint " + ck);
            }
            for (int i = 0; i < failures.length; i++) {
                Throwable f = failures[i];
                if (f instanceof IOException e) throw new IOException("writing " + ck.resolve(parts.get(i).name) + ": " + Checkpointer.reason(e), e);
                if (f instanceof RuntimeException e) throw e;
                if (f instanceof Error e) throw e;
            }
            new Manifest(Manifest.FORMAT, seq, Instant.now().toString(), state.examples(), settings, List.of(entries)).write(ck);
        } catch (IOException | RuntimeException | Error e) {
            try {
                deleteTree(ck); // without its manifest it is no checkpoint; leave no debris
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        fsync(dir);
        prune(seq);
        return ck;
    }

    /**
     * The sequence number the next checkpoint takes: one past the highest {@code ckpt-<seq>} directory, complete or not
     * (a directory is written once, so a crashed writer's debris is never reused).
     */
    public long nextSeq() throws IOException {
        long seq = 1;
        for (long s : sequences()) seq = Math.max(seq, s + 1);
        return seq;
    }

    /** The directory of checkpoint seq (it may not exist). */
    public Path checkpoint(long seq) {
        return dir.resolve(PREFIX + seq);
    }

    /**
     * Creates the empty directory of checkpoint seq, for a multi-process job whose processes each write their own files
     * into it; {@link #commit} or {@link #discard} finishes it.
     *
     * @throws java.nio.file.FileAlreadyExistsException when it exists: a checkpoint directory is written once
     */
    public Path create(long seq) throws IOException {
        Files.createDirectories(dir);
        Path ck = checkpoint(seq);
        Files.createDirectory(ck);
        fsync(dir);
        return ck;
    }

    /**
     * Completes checkpoint seq, whose files are written: writes its manifest (the files' entries as their writers
     * returned them, the examples trained and the run's settings), then deletes the oldest beyond {@code keep}.
     */
    public Path commit(long seq, long examples, Map<String, String> settings, List<Manifest.Entry> files) throws IOException {
        Path ck = checkpoint(seq);
        new Manifest(Manifest.FORMAT, seq, Instant.now().toString(), examples, settings, List.copyOf(files)).write(ck);
        fsync(dir);
        prune(seq);
        return ck;
    }

    /** Removes checkpoint seq, which could not be completed (without its manifest it is no checkpoint). */
    public void discard(long seq) throws IOException {
        Path ck = checkpoint(seq);
        if (Files.exists(ck)) deleteTree(ck);
    }

    /** A checkpoint whose manifest and every listed file check out (not read into memory). */
    public record Verified(Path path, Manifest manifest) {}

    /**
     * The newest checkpoint whose manifest is valid and whose files all match it, without reading the state: for a
     * multi-process job, whose processes each read their own files of it. Each newer one that does not check out is
     * skipped with a warning naming the file and why. Empty when the directory holds no checkpoint at all.
     *
     * @throws ModelFileException when it holds checkpoints but none is good (resuming would silently start over)
     */
    public Optional<Verified> newestVerified() throws IOException {
        TreeMap<Long, Path> bySeq = new TreeMap<>(Comparator.reverseOrder());
        for (long s : sequences()) bySeq.put(s, checkpoint(s));
        List<String> why = new ArrayList<>();
        for (Path ck : bySeq.values()) {
            try {
                Manifest m = Manifest.read(ck);
                m.verifyFiles(ck);
                return Optional.of(new Verified(ck, m));
            } catch (ModelFileException e) {
                LOG.log(Level.WARNING, "skipping checkpoint " + ck + ": " + reason(e, ck));
                why.add(ck.getFileName() + " (" + reason(e, ck) + ")");
            }
        }
        if (bySeq.isEmpty()) return Optional.empty();
        throw new ModelFileException(dir, "no good checkpoint: " + String.join("; ", why));
    }

    private record Part(String name, PartWriter writer) {}

    @FunctionalInterface
    private interface PartWriter {
        Manifest.Entry write(Path file) throws IOException;
    }

    /** Deletes every checkpoint older than the {@code keep} newest complete ones (those with a manifest) up to newest. */
    private void prune(long newest) throws IOException {
        List<Long> seqs = sequences();
        seqs.sort(Comparator.reverseOrder());
        int complete = 0;
        for (long s : seqs) {
            if (s > newest) continue;
            Path ck = dir.resolve(PREFIX + s);
            if (complete >= keep) {
                deleteTree(ck);
            } else if (Files.exists(ck.resolve(Manifest.NAME))) {
                complete++;
            }
        }
    }

    /**
     * Deletes a checkpoint directory, its manifest first: a process killed part way through then leaves an incomplete
     * checkpoint (skipped, and pruned by a later write), never a manifest that lists files already gone. (A walk in
     * reverse name order would take {@code trainer-*} and {@code emb-shard-*} before {@code MANIFEST}; the chaos
     * harness checks that every checkpoint with a manifest verifies after any kill.)
     */
    private static void deleteTree(Path p) throws IOException {
        if (Files.deleteIfExists(p.resolve(Manifest.NAME))) fsync(p);
        try (Stream<Path> walk = Files.walk(p)) {
            List<Path> all = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path x : all) Files.deleteIfExists(x);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Sequence numbers of the {@code ckpt-<seq>} directories, in no particular order. */
    List<Long> sequences() throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*")) {
            for (Path p : ds) {
                String n = p.getFileName().toString().substring(PREFIX.length());
                if (!Files.isDirectory(p) || n.isEmpty() || n.length() > 18 || !n.chars().allMatch(Character::isDigit)) continue;
                out.add(Long.parseLong(n));
            }
        }
        return out;
    }

    /**
     * The newest checkpoint whose manifest is valid and whose files match it, read back. Each newer one that does not
     * check out is skipped with a warning naming it and why. Empty when the directory holds no complete checkpoint:
     * none at all, or only writes cut short before their manifest (a process killed during its first checkpoint):
     * nothing was saved, so starting over loses nothing.
     *
     * @throws ModelFileException when it holds a checkpoint with a manifest but none is good (resuming would silently
     *                            start over, throwing away what was saved)
     */
    public Optional<Loaded> newest() throws IOException {
        TreeMap<Long, Path> bySeq = new TreeMap<>(Comparator.reverseOrder());
        for (long s : sequences()) bySeq.put(s, dir.resolve(PREFIX + s));
        List<String> why = new ArrayList<>();
        boolean anyManifest = false;
        for (Path ck : bySeq.values()) {
            anyManifest |= Files.exists(ck.resolve(Manifest.NAME));
            try {
                return Optional.of(verify(ck));
            } catch (ModelFileException e) {
                LOG.log(Level.WARNING, "skipping checkpoint " + ck + ": " + reason(e, ck));
                why.add(ck.getFileName() + " (" + reason(e, ck) + ")");
            }
        }
        if (!anyManifest) return Optional.empty();
        throw new ModelFileException(dir, "no good checkpoint: " + String.join("; ", why));
    }

    /**
     * Reads and checks one checkpoint as {@link #newest} would take it: its manifest valid, every file it lists of the
     * size and CRC32C it gives, and every file parsed back into a state. For tools and tests that audit a directory.
     *
     * @throws ModelFileException naming what does not check out
     */
    public static Loaded verify(Path checkpoint) throws IOException {
        Manifest m = Manifest.read(checkpoint);
        m.verifyFiles(checkpoint);
        return new Loaded(checkpoint, m, read(checkpoint, m));
    }

    /** The exception's sentence, with paths inside the checkpoint shortened to their file names. */
    private static String reason(ModelFileException e, Path ck) {
        String m = e.getMessage();
        if (m.startsWith(ck + ": ")) return m.substring(ck.toString().length() + 2);
        return m.replace(ck + java.io.File.separator, "");
    }

    /** Reads the state files a verified manifest lists. */
    private static JobState read(Path ck, Manifest m) throws IOException {
        TreeMap<Integer, JobState.TrainerState> trainers = new TreeMap<>();
        TreeMap<Integer, JobState.ShardState> shards = new TreeMap<>();
        JobState.ServerState server = null;
        for (Manifest.Entry e : m.files()) {
            Path f = ck.resolve(e.name());
            String n = e.name();
            if (n.startsWith("trainer-")) {
                JobState.TrainerState t = StateFiles.readTrainer(f);
                if (!n.equals(StateFiles.trainerFile(t.rank()))) throw new ModelFileException(f, "holds trainer " + t.rank());
                trainers.put(t.rank(), t);
            } else if (n.startsWith("emb-shard-")) {
                JobState.ShardState s = StateFiles.readShard(f);
                if (!n.equals(StateFiles.shardFile(s.shard()))) throw new ModelFileException(f, "holds embedding shard " + s.shard());
                shards.put(s.shard(), s);
            } else if (n.equals(StateFiles.SERVER_FILE)) {
                server = StateFiles.readServer(f);
            } else {
                throw new ModelFileException(f, "is not a file this build knows in a checkpoint");
            }
        }
        if (trainers.isEmpty()) throw new ModelFileException(ck, "holds no trainer file");
        int i = 0;
        for (int r : trainers.keySet()) if (r != i++) throw new ModelFileException(ck, "lacks the file of trainer " + (i - 1));
        i = 0;
        for (int s : shards.keySet()) if (s != i++) throw new ModelFileException(ck, "lacks the file of embedding shard " + (i - 1));
        return new JobState(m.examples(), List.copyOf(trainers.values()), List.copyOf(shards.values()), server);
    }

    /**
     * The settings of a checkpoint that differ from this run's, one phrase each ("optimizer.lr is 0.1, the checkpoint
     * has 0.5"), in key order; empty when they agree.
     */
    public static List<String> differences(Map<String, String> checkpoint, Map<String, String> now) {
        return differences(checkpoint, now, java.util.Set.of(DATA_FINGERPRINT));
    }

    /**
     * The setting that records the training data's fingerprint (size and a checksum of its start): a resumed run on
     * another file is refused. Checkpoints written before it was recorded lack it and are not refused for that.
     */
    public static final String DATA_FINGERPRINT = "train-data";

    /** As {@link #differences(Map, Map)}; a key in optional that the checkpoint lacks is no difference. */
    public static List<String> differences(Map<String, String> checkpoint, Map<String, String> now, java.util.Set<String> optional) {
        TreeMap<String, String> keys = new TreeMap<>(checkpoint);
        for (String k : now.keySet()) keys.putIfAbsent(k, null);
        List<String> out = new ArrayList<>();
        for (String k : keys.keySet()) {
            String a = checkpoint.get(k), b = now.get(k);
            if (a == null && optional.contains(k)) continue;
            if (a == null) out.add(k + " is " + b + ", the checkpoint has none");
            else if (b == null) out.add(k + " is not set, the checkpoint has " + a);
            else if (!a.equals(b)) out.add(k + " is " + b + ", the checkpoint has " + a);
        }
        return out;
    }

    private static void fsync(Path d) {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems refuse to open a directory; the renames are still atomic there
        }
    }
}
