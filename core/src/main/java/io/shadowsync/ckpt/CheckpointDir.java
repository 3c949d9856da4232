package io.shadowsync.ckpt;

import io.shadowsync.engine.JobState;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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
 * <p>Every file is read and written through a {@link CheckpointStore}: a local directory ({@link LocalCheckpointStore},
 * the {@code Path} constructor) or any other store (the {@code spark} module's over Hadoop's file systems). A
 * single-process job's checkpoints ({@link #write}, {@link #newest}) are local; a multi-process job's ({@link #create},
 * {@link #commit}, {@link #newestVerified}) may be in any store.
 *
 * <p>Not thread-safe: one writer per directory (the {@link Checkpointer} serializes its writes; {@link #lock} keeps a
 * second job out).
 */
public final class CheckpointDir {
    private static final System.Logger LOG = System.getLogger(CheckpointDir.class.getName());

    private static final String PREFIX = "ckpt-";

    private final CheckpointStore store;
    private final int keep;

    /**
     * @param dir  the directory on a local file system (created on the first write)
     * @param keep how many complete checkpoints to keep, at least 1
     */
    public CheckpointDir(Path dir, int keep) {
        this(new LocalCheckpointStore(dir), keep);
    }

    /**
     * @param store where the checkpoints go (the directory is created on the first write)
     * @param keep  how many complete checkpoints to keep, at least 1
     */
    public CheckpointDir(CheckpointStore store, int keep) {
        if (store == null) throw new IllegalArgumentException("a checkpoint directory is required");
        if (keep < 1) throw new IllegalArgumentException("--keep must be at least 1 (the newest checkpoint), got " + keep);
        this.store = store;
        this.keep = keep;
    }

    /** The directory as messages name it. */
    public String location() {
        return store.location();
    }

    public CheckpointStore store() {
        return store;
    }

    /** The lock file of a directory that a job writes checkpoints into. */
    public static final String LOCK_NAME = "LOCK";

    /** A held lock on the directory ({@link #lock}). Closing releases it; the lock file (if any) stays. */
    public static final class Lock implements AutoCloseable {
        private final AutoCloseable held;

        private Lock(AutoCloseable held) {
            this.held = held;
        }

        @Override
        public void close() throws IOException {
            try {
                held.close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e.getMessage(), e);
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
     * would interleave sequence numbers and prune each other's checkpoints). How is the store's
     * ({@link CheckpointStore#lock}): on a local file system an OS file lock on {@code DIR/LOCK} whose content says
     * "pid P on host H since T".
     *
     * @throws LockedException when another process (or another job in this JVM) holds it, naming the holder
     */
    public Lock lock() throws IOException {
        return new Lock(store.lock());
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

    /** A checkpoint read back: its directory, manifest and the state to {@code Job.restore}. */
    public record Loaded(Path path, Manifest manifest, JobState state) {}

    /**
     * Writes state as the next checkpoint: every file on its own thread, then the manifest (with settings, the run's
     * settings that a resumed run must match), then deletes the oldest beyond {@code keep}. The state's live arrays
     * must hold still until this returns (the job paused). Returns the new checkpoint's directory. (A single-process
     * job's checkpoints: a local directory.)
     */
    public Path write(JobState state, Map<String, String> settings) throws IOException, InterruptedException {
        store.makeDirectories("");
        long seq = nextSeq();
        String ck = name(seq);
        store.createDirectory(ck); // fails if it exists: a checkpoint directory is written once
        List<Part> parts = new ArrayList<>();
        for (JobState.TrainerState t : state.trainers()) {
            parts.add(new Part(StateFiles.trainerFile(t.rank()), f -> StateFiles.writeTrainer(store, f, t)));
        }
        for (JobState.ShardState s : state.embeddingShards()) {
            parts.add(new Part(StateFiles.shardFile(s.shard()), f -> StateFiles.writeShard(store, f, s)));
        }
        if (state.server() != null) parts.add(new Part(StateFiles.SERVER_FILE, f -> StateFiles.writeServer(store, f, state.server())));
        Manifest.Entry[] entries = new Manifest.Entry[parts.size()];
        Throwable[] failures = new Throwable[parts.size()];
        Thread[] threads = new Thread[parts.size()];
        for (int i = 0; i < threads.length; i++) {
            int ii = i;
            Part p = parts.get(i);
            threads[i] = new Thread(() -> {
                try {
                    entries[ii] = p.writer.write(Manifest.inside(ck, p.name));
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
                throw new InterruptedIOException("interrupted while writing checkpoint " + store.where(ck));
            }
            for (int i = 0; i < failures.length; i++) {
                Throwable f = failures[i];
                if (f instanceof IOException e) throw new IOException("writing " + store.where(Manifest.inside(ck, parts.get(i).name)) + ": " + Checkpointer.reason(e), e);
                if (f instanceof RuntimeException e) throw e;
                if (f instanceof Error e) throw e;
            }
            new Manifest(Manifest.FORMAT, seq, Instant.now().toString(), state.examples(), settings, List.of(entries)).write(store, ck);
        } catch (IOException | RuntimeException | Error e) {
            try {
                deleteTree(ck); // without its manifest it is no checkpoint; leave no debris
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        store.syncDirectory("");
        prune(seq);
        return local(ck);
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

    /** The name of checkpoint seq's directory in the store ({@code ckpt-<seq>}). */
    public static String name(long seq) {
        return PREFIX + seq;
    }

    /** Checkpoint seq's directory as messages name it (it may not exist). */
    public String location(long seq) {
        return store.where(name(seq));
    }

    /**
     * Creates the empty directory of checkpoint seq, for a multi-process job whose processes each write their own files
     * into it; {@link #commit} or {@link #discard} finishes it. Returns its location.
     *
     * @throws java.nio.file.FileAlreadyExistsException when it exists: a checkpoint directory is written once
     */
    public String create(long seq) throws IOException {
        store.makeDirectories("");
        store.createDirectory(name(seq));
        store.syncDirectory("");
        return location(seq);
    }

    /**
     * Completes checkpoint seq, whose files are written: writes its manifest (the files' entries as their writers
     * returned them, the examples trained and the run's settings), then deletes the oldest beyond {@code keep}.
     * Returns its location.
     */
    public String commit(long seq, long examples, Map<String, String> settings, List<Manifest.Entry> files) throws IOException {
        new Manifest(Manifest.FORMAT, seq, Instant.now().toString(), examples, settings, List.copyOf(files)).write(store, name(seq));
        store.syncDirectory("");
        prune(seq);
        return location(seq);
    }

    /** Removes checkpoint seq, which could not be completed (without its manifest it is no checkpoint). */
    public void discard(long seq) throws IOException {
        if (store.exists(name(seq))) deleteTree(name(seq));
    }

    /** A checkpoint whose manifest and every listed file check out (not read into memory): its location and manifest. */
    public record Verified(String location, Manifest manifest) {}

    /**
     * The newest checkpoint whose manifest is valid and whose files all match it, without reading the state: for a
     * multi-process job, whose processes each read their own files of it. Each newer one that does not check out is
     * skipped with a warning naming the file and why. Empty when the directory holds no checkpoint at all.
     *
     * @throws ModelFileException when it holds checkpoints but none is good (resuming would silently start over)
     */
    public Optional<Verified> newestVerified() throws IOException {
        List<Long> seqs = sequences();
        seqs.sort(Comparator.reverseOrder());
        List<String> why = new ArrayList<>();
        for (long seq : seqs) {
            String ck = name(seq);
            try {
                Manifest m = Manifest.read(store, ck);
                m.verifyFiles(store, ck);
                return Optional.of(new Verified(store.where(ck), m));
            } catch (ModelFileException e) {
                LOG.log(Level.WARNING, "skipping checkpoint " + store.where(ck) + ": " + reason(e, store.where(ck)));
                why.add(ck + " (" + reason(e, store.where(ck)) + ")");
            }
        }
        if (seqs.isEmpty()) return Optional.empty();
        throw new ModelFileException(store.location(), "no good checkpoint: " + String.join("; ", why));
    }

    /**
     * The settings of the newest checkpoint whose manifest reads, without checking its files (cheap: what a run asks
     * before deciding how to read its data, ahead of {@link #newest}'s full check); empty when there is none.
     */
    public Optional<Map<String, String>> newestSettings() throws IOException {
        List<Long> seqs = sequences();
        seqs.sort(Comparator.reverseOrder());
        for (long seq : seqs) {
            try {
                return Optional.of(Manifest.read(store, name(seq)).settings());
            } catch (ModelFileException | IOException unreadable) {
                // an older one, then: the full check names what is wrong with this one
            }
        }
        return Optional.empty();
    }

    private record Part(String name, PartWriter writer) {}

    @FunctionalInterface
    private interface PartWriter {
        Manifest.Entry write(String file) throws IOException;
    }

    /** Deletes every checkpoint older than the {@code keep} newest complete ones (those with a manifest) up to newest. */
    private void prune(long newest) throws IOException {
        List<Long> seqs = sequences();
        seqs.sort(Comparator.reverseOrder());
        int complete = 0;
        for (long s : seqs) {
            if (s > newest) continue;
            String ck = name(s);
            if (complete >= keep) {
                deleteTree(ck);
            } else if (store.exists(Manifest.inside(ck, Manifest.NAME))) {
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
    private void deleteTree(String ck) throws IOException {
        if (store.delete(Manifest.inside(ck, Manifest.NAME))) store.syncDirectory(ck);
        store.deleteTree(ck);
    }

    /** Sequence numbers of the {@code ckpt-<seq>} directories, in no particular order. */
    List<Long> sequences() throws IOException {
        List<Long> out = new ArrayList<>();
        if (!store.isDirectory("")) return out;
        for (String f : store.list("")) {
            if (!f.startsWith(PREFIX)) continue;
            String n = f.substring(PREFIX.length());
            if (n.isEmpty() || n.length() > 18 || !n.chars().allMatch(Character::isDigit) || !store.isDirectory(f)) continue;
            out.add(Long.parseLong(n));
        }
        return out;
    }

    /**
     * The newest checkpoint whose manifest is valid and whose files match it, read back. Each newer one that does not
     * check out is skipped with a warning naming it and why. Empty when the directory holds no complete checkpoint:
     * none at all, or only writes cut short before their manifest (a process killed during its first checkpoint):
     * nothing was saved, so starting over loses nothing. (A single-process job's checkpoints: a local directory.)
     *
     * @throws ModelFileException when it holds a checkpoint with a manifest but none is good (resuming would silently
     *                            start over, throwing away what was saved)
     */
    public Optional<Loaded> newest() throws IOException {
        List<Long> seqs = sequences();
        seqs.sort(Comparator.reverseOrder());
        List<String> why = new ArrayList<>();
        boolean anyManifest = false;
        for (long seq : seqs) {
            String ck = name(seq);
            anyManifest |= store.exists(Manifest.inside(ck, Manifest.NAME));
            try {
                return Optional.of(verify(store, ck));
            } catch (ModelFileException e) {
                LOG.log(Level.WARNING, "skipping checkpoint " + store.where(ck) + ": " + reason(e, store.where(ck)));
                why.add(ck + " (" + reason(e, store.where(ck)) + ")");
            }
        }
        if (!anyManifest) return Optional.empty();
        throw new ModelFileException(store.location(), "no good checkpoint: " + String.join("; ", why));
    }

    /**
     * Reads and checks one checkpoint as {@link #newest} would take it: its manifest valid, every file it lists of the
     * size and CRC32C it gives, and every file parsed back into a state. For tools and tests that audit a directory.
     *
     * @throws ModelFileException naming what does not check out
     */
    public static Loaded verify(Path checkpoint) throws IOException {
        return verify(new LocalCheckpointStore(checkpoint), "");
    }

    private static Loaded verify(CheckpointStore store, String ck) throws IOException {
        Manifest m = Manifest.read(store, ck);
        m.verifyFiles(store, ck);
        return new Loaded(local(store, ck), m, read(store, ck, m));
    }

    /** A checkpoint of a local directory as a path (a single-process job's checkpoints are local). */
    private Path local(String ck) {
        return local(store, ck);
    }

    private static Path local(CheckpointStore store, String ck) {
        if (store instanceof LocalCheckpointStore l) return l.path(ck);
        throw new IllegalStateException(store.where(ck) + ": a single-process job's checkpoints are read and written in a local directory");
    }

    /** The exception's sentence, with paths inside the checkpoint shortened to their file names. */
    private static String reason(ModelFileException e, String ck) {
        String m = e.getMessage();
        if (m.startsWith(ck + ": ")) return m.substring(ck.length() + 2);
        return m.replace(ck + "/", "");
    }

    /** Reads the state files a verified manifest lists. */
    private static JobState read(CheckpointStore store, String ck, Manifest m) throws IOException {
        TreeMap<Integer, JobState.TrainerState> trainers = new TreeMap<>();
        TreeMap<Integer, JobState.ShardState> shards = new TreeMap<>();
        JobState.ServerState server = null;
        for (Manifest.Entry e : m.files()) {
            String f = Manifest.inside(ck, e.name());
            String n = e.name();
            if (n.startsWith("trainer-")) {
                JobState.TrainerState t = StateFiles.readTrainer(store, f);
                if (!n.equals(StateFiles.trainerFile(t.rank()))) throw new ModelFileException(store.where(f), "holds trainer " + t.rank());
                trainers.put(t.rank(), t);
            } else if (n.startsWith("emb-shard-")) {
                JobState.ShardState s = StateFiles.readShard(store, f);
                if (!n.equals(StateFiles.shardFile(s.shard()))) throw new ModelFileException(store.where(f), "holds embedding shard " + s.shard());
                shards.put(s.shard(), s);
            } else if (n.equals(StateFiles.SERVER_FILE)) {
                server = StateFiles.readServer(store, f);
            } else {
                throw new ModelFileException(store.where(f), "is not a file this build knows in a checkpoint");
            }
        }
        String where = store.where(ck);
        if (trainers.isEmpty()) throw new ModelFileException(where, "holds no trainer file");
        int i = 0;
        for (int r : trainers.keySet()) if (r != i++) throw new ModelFileException(where, "lacks the file of trainer " + (i - 1));
        i = 0;
        for (int s : shards.keySet()) if (s != i++) throw new ModelFileException(where, "lacks the file of embedding shard " + (i - 1));
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
}
