package io.shadowsync.ckpt;

import io.shadowsync.comm.Collective;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobState;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * Checkpoints of a multi-process job, taken by its trainer processes together over their control collective (one
 * instance in each trainer process, over the job part it runs) with the parameter servers writing their shards in
 * parallel. The checkpoint directory must be the same for every process: one host, a shared file system, or one
 * store every process reaches ({@link CheckpointStore}: HDFS, an object store).
 *
 * <p><b>Protocol.</b> A thread named {@code checkpointer} in every trainer process polls every {@value #POLL_MILLIS} ms
 * with one small all-reduce of {want a checkpoint, want to stop, finished, examples trained}: trainer 0 wants one when
 * its timer is due, any trainer when it got a signal (stop), and all see the summed examples, so every process makes
 * the same decision in the same poll. A checkpoint then goes:
 * <ol>
 *   <li>every process raises its pause ({@link Job#beginPause}) and all-gathers, per lockstep group, the operations
 *       begun; each finishes up to the largest ({@link Job#finishPause}) and rests: no worker is mid-step, no sync
 *       round mid-way, nothing is in flight to a server;</li>
 *   <li>trainer 0 picks the sequence number and creates {@code ckpt-<seq>/}; all-gather of {at rest, seq};</li>
 *   <li>each trainer writes {@code trainer-<rank>.bin}; meanwhile trainer 0 asks every parameter server to write its
 *       {@code emb-shard-<s>.bin} (and {@code dense-block-<s>.bin}), in parallel; all-gather of {written, size, CRC32C,
 *       examples}: it returns on the others only once the servers are done, so nobody trains while they write;</li>
 *   <li>the trainers go on (or, for a stop, stay at rest for the process to exit); trainer 0 writes the manifest
 *       last, atomically, listing every file with its size and CRC32C, then deletes checkpoints beyond keep.</li>
 * </ol>
 * A failure anywhere (a process not at rest in time, a file not written) makes every process go on without the
 * checkpoint; trainer 0 removes its directory, and every process learns why (an all-gather of each trainer's reason:
 * which trainer, which file or server, why). After {@code maxFailures} periodic checkpoints in a row failed, trainer 0
 * says so in the next poll and every process stops its job ({@link Job#stop}: the workers end, as at the end of the
 * data; {@link #gaveUp}, {@link #jobStopped}); the newest good checkpoint stays. Once any trainer has finished its
 * part, polling stops: no checkpoint is taken while the job ends.
 *
 * <p>Resume ({@link #resume}): trainer 0 picks the newest checkpoint whose manifest and every file verify (a damaged
 * newer one is skipped with a warning naming the file), refuses one written with other settings, has the servers
 * restore their shards, and broadcasts its choice; every trainer then restores its own file.
 *
 * <p>Sharing contract: the checkpointer thread is the only user of the control collective between {@link #start}
 * and {@link #finish}; the process's main thread uses it before and after. {@link #requestStop} may be called from
 * any thread (a shutdown hook).
 */
public final class MultiProcessCheckpointer {
    private static final System.Logger LOG = System.getLogger(MultiProcessCheckpointer.class.getName());

    /** Milliseconds between polls of the trainers. */
    static final long POLL_MILLIS = 100;
    private static final int FRESH = 0, RESUME = 1, REFUSED = 2;

    /** The parameter servers of the job, as trainer 0 reaches them. */
    public interface Servers {
        /**
         * Every server writes its files of checkpoint seq into {@code ckpt-<seq>/} of the checkpoint directory
         * ({@link CheckpointStore#location}: the servers reach the same store), all in parallel; returns their entries
         * for the manifest.
         */
        List<Manifest.Entry> checkpoint(CheckpointStore checkpoints, long seq) throws IOException, InterruptedException;

        /** Every server loads its files of checkpoint seq (checking them against its manifest). */
        void restore(CheckpointStore checkpoints, long seq) throws IOException, InterruptedException;
    }

    private final Job job;
    private final Collective control;
    private final int rank;
    private final int n;
    private final CheckpointDir dir;
    private final Map<String, String> settings;
    private final Servers servers;
    private final long everyNanos;
    private final long everyExamples;
    private final Duration pauseTimeout;
    private final Object wake = new Object();
    private volatile boolean stopWanted;
    private volatile boolean finished;
    private volatile boolean stoppedHere;
    private volatile Thread thread;
    private volatile int written;
    private volatile String last;
    private volatile long lastExamples;
    private volatile String stopCheckpoint;
    /** The pause a stop checkpoint holds (the job at rest until the process exits or {@link #endAfterStop}). */
    private volatile Job.Paused held;
    private final int maxFailures;
    private volatile int failed;
    private volatile int consecutiveFailures;
    private volatile String lastError;
    /** Why the checkpoint being taken failed, as this process learned it (for {@link #lastError}). */
    private String failureNow;
    private volatile boolean gaveUp;
    private volatile boolean jobStopped;

    /**
     * @param job           this process's part of the job (one trainer)
     * @param control       the trainers' control collective
     * @param servers       the parameter servers (trainer 0 calls them)
     * @param settings      the run's settings, saved in every manifest (a resumed run must match them)
     * @param everySeconds  seconds between periodic checkpoints, by trainer 0's clock; 0 for none by time
     * @param everyExamples examples (all trainers) between periodic checkpoints; 0 for none by examples
     * @param pauseTimeout  how long a checkpoint waits for the job to come to rest before it gives up
     */
    public MultiProcessCheckpointer(Job job, Collective control, CheckpointDir dir, Servers servers, Map<String, String> settings,
                                    double everySeconds, long everyExamples, Duration pauseTimeout) {
        this(job, control, dir, servers, settings, everySeconds, everyExamples, pauseTimeout, Checkpointer.DEFAULT_MAX_FAILURES);
    }

    /**
     * @param maxFailures periodic checkpoints that may fail in a row before trainer 0 stops the job, every process of
     *                    it; 0: never, only log each failure (trainer 0's value decides)
     */
    public MultiProcessCheckpointer(Job job, Collective control, CheckpointDir dir, Servers servers, Map<String, String> settings,
                                    double everySeconds, long everyExamples, Duration pauseTimeout, int maxFailures) {
        if (maxFailures < 0) throw new IllegalArgumentException("--checkpoint-max-failures must be zero (never stop) or positive, got " + maxFailures);
        this.maxFailures = maxFailures;
        if (!(everySeconds >= 0) || Double.isInfinite(everySeconds)) {
            throw new IllegalArgumentException("--checkpoint-every-sec must be zero (none) or positive, got " + everySeconds);
        }
        if (everyExamples < 0) throw new IllegalArgumentException("--checkpoint-every-examples must be zero (none) or positive, got " + everyExamples);
        if (job.trainers() != 1) throw new IllegalArgumentException("a process of a multi-process job runs one trainer, this part runs " + job.trainers());
        this.job = job;
        this.control = control;
        this.rank = control.rank();
        this.n = control.size();
        if (job.ranks()[0] != rank) throw new IllegalArgumentException("trainer " + job.ranks()[0] + " is rank " + rank + " of the control group");
        this.dir = dir;
        this.servers = servers;
        this.settings = Map.copyOf(settings);
        this.everyNanos = (long) (everySeconds * 1e9);
        this.everyExamples = everyExamples;
        this.pauseTimeout = pauseTimeout;
    }

    /**
     * Before training, on every trainer together (it uses the control collective): trainer 0 picks the newest good
     * checkpoint, checks its settings and has the servers restore theirs; every trainer then restores its own part.
     * Returns the checkpoint's location, or null when there is none yet (the run starts from the beginning; trainer
     * 0 warns).
     *
     * @throws IllegalArgumentException when the checkpoint was written with other settings (named) or none is good
     */
    public String resume() throws IOException, InterruptedException {
        int status = FRESH;
        long seq = 0;
        RuntimeException refusal = null;
        if (rank == 0) {
            try {
                Optional<CheckpointDir.Verified> found = dir.newestVerified();
                if (found.isEmpty()) {
                    LOG.log(Level.WARNING, "--resume: no checkpoint in " + dir.location() + " yet; starting from the beginning");
                } else {
                    CheckpointDir.Verified v = found.get();
                    List<String> diff = CheckpointDir.differences(v.manifest().settings(), settings);
                    if (!diff.isEmpty()) {
                        throw new IllegalArgumentException("--resume: " + v.location() + " was written with other settings: " + String.join("; ", diff)
                                + ". Give the flags it was written with, or another --checkpoint-dir to start over");
                    }
                    seq = v.manifest().seq();
                    servers.restore(dir.store(), seq);
                    status = RESUME;
                }
            } catch (ModelFileException e) {
                refusal = new IllegalArgumentException("--resume: " + e.getMessage(), e);
                status = REFUSED;
            } catch (IOException | RuntimeException e) {
                refusal = e instanceof RuntimeException r ? r : new IllegalStateException("--resume: " + e.getMessage(), e);
                status = REFUSED;
            }
        }
        long[] msg = control.allGatherLongs(new long[] {status, seq}); // trainer 0's decision, at [0, 2)
        status = (int) msg[0];
        seq = msg[1];
        if (status == REFUSED) {
            if (refusal != null) throw refusal;
            throw new IllegalStateException("trainer 0 could not resume from " + dir.location() + " (its log says why)");
        }
        if (status == FRESH) return null;
        CheckpointStore store = dir.store();
        String ck = CheckpointDir.name(seq);
        Manifest m = Manifest.read(store, ck);
        Manifest.Entry e = m.entry(StateFiles.trainerFile(rank));
        if (e == null) throw new ModelFileException(store.where(ck), "lists no file of trainer " + rank);
        Manifest.verify(store, ck, e);
        String file = Manifest.inside(ck, e.name());
        JobState.TrainerState t = StateFiles.readTrainer(store, file);
        if (t.rank() != rank) throw new ModelFileException(store.where(file), "holds trainer " + t.rank());
        job.restore(new JobState(m.examples(), List.of(t), List.of(), null));
        return store.where(ck);
    }

    /** Starts the polling thread (a daemon); every trainer process starts one, periodic checkpoints or not. */
    public void start() {
        Thread t = new Thread(this::loop, "checkpointer");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * This process's part has finished (or failed): tells the others at the next poll, after which nobody takes a
     * checkpoint, and waits for the thread to end (so that the control collective is free again).
     */
    public void finish() throws InterruptedException {
        finished = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        Thread t = thread;
        if (t != null) t.join();
    }

    /**
     * A signal: asks every trainer to write a final checkpoint and stay at rest (the processes exit next). Returns at
     * once; {@link #awaitStop} waits for the outcome.
     */
    public void requestStop() {
        stopWanted = true;
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /**
     * Waits until the thread has ended (a stop checkpoint written, or the job finished first) or the timeout passes;
     * returns the stop checkpoint's location on trainer 0, or null (none written, or another trainer).
     */
    public String awaitStop(Duration timeout) throws InterruptedException {
        Thread t = thread;
        if (t != null) t.join(Math.max(1, timeout.toMillis()));
        return stopCheckpoint;
    }

    /**
     * After a stop ({@link #stopped}), for a process that does not exit: ends this process's part of the job as at the
     * end of its data ({@link Job#stop}) and lets its threads go, so that {@link Job#run} returns. Every process of the
     * job came to rest for the same stop and calls this: the trainers' last synchronization finds them all. The model
     * goes on changing after the stop checkpoint only by that last round; the checkpoint is what a resumed run starts
     * from.
     */
    public void endAfterStop() {
        if (!stoppedHere) throw new IllegalStateException("the job was not stopped for a final checkpoint");
        job.stop();
        Job.Paused p = held;
        held = null;
        if (p != null) p.close();
    }

    /** Whether this process came to rest for a stop asked by some trainer (the process should exit, not go on). */
    public boolean stopped() {
        return stoppedHere;
    }

    private void loop() {
        long nextTime = everyNanos > 0 ? System.nanoTime() + everyNanos : Long.MAX_VALUE;
        long nextExamples = -1;
        long[] poll = new long[5];
        try {
            while (true) {
                synchronized (wake) {
                    if (!finished && !stopWanted) wake.wait(POLL_MILLIS);
                }
                poll[0] = rank == 0 && System.nanoTime() >= nextTime ? 1 : 0;
                poll[1] = stopWanted ? 1 : 0;
                poll[2] = finished ? 1 : 0;
                poll[3] = job.progress().examples();
                poll[4] = rank == 0 && gaveUp ? 1 : 0;
                control.allReduceLongs(poll, 0, poll.length);
                long examples = poll[3];
                if (poll[4] > 0) { // trainer 0 gave up on checkpoints: every process stops its job in this same poll
                    jobStopped = true;
                    if (rank != 0) LOG.log(Level.ERROR, "stopping: trainer 0 stops the job, its checkpoints could not be written (" + lastError + ")");
                    job.stop();
                    return;
                }
                if (everyExamples > 0 && nextExamples < 0) nextExamples = (examples / everyExamples + 1) * everyExamples;
                if (poll[2] > 0) {
                    if (poll[1] > 0 && rank == 0) LOG.log(Level.INFO, "no final checkpoint: the job was finishing");
                    return;
                }
                boolean stop = poll[1] > 0;
                if (!stop && poll[0] == 0 && (nextExamples < 0 || examples < nextExamples)) continue;
                failureNow = null;
                String p = checkpoint(stop);
                if (stop) {
                    stoppedHere = true;
                    stopCheckpoint = p;
                    return;
                }
                if (p != null) {
                    consecutiveFailures = 0;
                } else {
                    countFailure();
                }
                if (everyNanos > 0) nextTime = System.nanoTime() + everyNanos;
                if (everyExamples > 0) nextExamples = (Math.max(examples, lastExamples) / everyExamples + 1) * everyExamples;
            }
        } catch (InterruptedException e) {
            // the process is going down
        } catch (RuntimeException e) {
            // a peer went away or the job failed: the job's own failure says why; no more checkpoints
            if (!finished) LOG.log(Level.ERROR, "no more checkpoints: " + e.getMessage(), e);
        }
    }

    /** One checkpoint, every trainer together (see the class comment); null when it could not be written. */
    private String checkpoint(boolean hold) throws InterruptedException {
        long[] begun = null;
        String failure = null;
        try {
            begun = job.beginPause();
        } catch (IllegalStateException e) {
            failure = e.getMessage();
        }
        // 1. agree on how far each lockstep group goes before it rests
        long[] mine = {begun != null ? 1 : 0, begun != null ? begun[0] : 0, begun != null ? begun[1] : 0};
        long[] all;
        try {
            all = control.allGatherLongs(mine);
        } catch (RuntimeException | InterruptedException e) {
            if (begun != null) job.cancelPause();
            throw e;
        }
        long[] agreed = new long[2];
        int notReady = -1;
        for (int r = 0; r < n; r++) {
            int o = r * mine.length;
            if (all[o] == 0 && notReady < 0) notReady = r;
            agreed[0] = Math.max(agreed[0], all[o + 1]);
            agreed[1] = Math.max(agreed[1], all[o + 2]);
        }
        if (notReady >= 0) {
            if (begun != null) job.cancelPause();
            String why = reasons(begun != null ? "" : failure != null ? failure : "could not pause");
            fail(why, "could not write a checkpoint: " + why);
            return null;
        }
        Job.Paused paused = null;
        try {
            paused = job.finishPause(agreed, pauseTimeout);
        } catch (TimeoutException | IllegalStateException e) {
            failure = e.getMessage();
        }
        if (hold && paused != null) held = paused;
        try {
            return write(paused, failure, hold);
        } finally {
            if (paused != null && !hold) paused.close();
        }
    }

    /** Steps 2 to 4 of a checkpoint, with this process at rest (paused non-null) or not. */
    private String write(Job.Paused paused, String failure, boolean hold) throws InterruptedException {
        long seq = 0;
        boolean created = false;
        if (rank == 0 && paused != null) {
            try {
                seq = dir.nextSeq();
                dir.create(seq);
                created = true;
            } catch (IOException e) {
                failure = "cannot create the checkpoint's directory in " + dir.location() + ": " + Checkpointer.reason(e);
                paused.close();
                paused = null;
            }
        }
        long[] a = {paused != null ? 1 : 0, seq};
        long[] allA = control.allGatherLongs(a);
        seq = allA[1]; // trainer 0's
        for (int r = 0; r < n; r++) {
            if (allA[r * a.length] == 0) {
                if (rank == 0 && created) discardQuietly(seq); // never what was there before (a file where it goes)
                String why = reasons(paused != null ? "" : failure != null ? failure : "did not come to rest");
                fail(why, "could not write a checkpoint: " + why);
                return null;
            }
        }
        String ck = dir.location(seq);
        JobState state = paused.state();
        // trainer 0 has the servers write theirs while it writes its own file
        List<Manifest.Entry> serverEntries = new ArrayList<>();
        String[] serverFailure = new String[1];
        final long seqF = seq;
        Thread serverCall = null;
        if (rank == 0) {
            serverCall = new Thread(() -> {
                try {
                    serverEntries.addAll(servers.checkpoint(dir.store(), seqF));
                } catch (IOException | RuntimeException e) {
                    serverFailure[0] = e.getMessage();
                } catch (InterruptedException e) {
                    serverFailure[0] = "interrupted";
                }
            }, "checkpointer/servers");
            serverCall.start();
        }
        Manifest.Entry own = null;
        try {
            own = StateFiles.writeTrainer(dir.store(), Manifest.inside(CheckpointDir.name(seq), StateFiles.trainerFile(rank)), state.trainers().get(0));
        } catch (IOException | RuntimeException e) {
            String why = Checkpointer.reason(e);
            String f = ck + "/" + StateFiles.trainerFile(rank);
            failure = why.contains(f) ? why : "writing " + f + ": " + why;
        }
        if (serverCall != null) {
            serverCall.join(); // the servers' calls carry their own deadline
            if (serverFailure[0] != null && failure == null) failure = serverFailure[0];
        }
        long[] b = {own != null && failure == null ? 1 : 0, own != null ? own.size() : 0,
                own != null ? own.crc() & 0xFFFF_FFFFL : 0, state.examples()};
        long[] allB = control.allGatherLongs(b);
        long examples = 0;
        List<Manifest.Entry> entries = new ArrayList<>(n + serverEntries.size());
        int bad = -1;
        for (int r = 0; r < n; r++) {
            int o = r * b.length;
            if (allB[o] == 0 && bad < 0) bad = r;
            entries.add(new Manifest.Entry(StateFiles.trainerFile(r), allB[o + 1], (int) allB[o + 2]));
            examples += allB[o + 3];
        }
        if (bad >= 0) {
            if (rank == 0) discardQuietly(seq);
            String why = reasons(b[0] == 1 ? "" : failure != null ? failure : "could not write " + StateFiles.trainerFile(rank));
            fail(why, "could not write checkpoint " + ck + ": " + why);
            return null;
        }
        if (!hold) paused.close(); // the files are written: training goes on while trainer 0 writes the manifest
        if (rank != 0) {
            written++;
            lastExamples = examples;
            return ck;
        }
        entries.addAll(serverEntries);
        try {
            dir.commit(seq, examples, settings, entries);
        } catch (IOException | RuntimeException e) {
            discardQuietly(seq);
            String why = "trainer 0: writing " + ck + "/" + Manifest.NAME + ": " + Checkpointer.reason(e);
            fail(why, "could not write the manifest of " + ck + ": " + why);
            return null;
        }
        written++;
        last = ck;
        lastExamples = examples;
        LOG.log(Level.INFO, "wrote checkpoint " + ck + " (" + String.format(java.util.Locale.ROOT, "%,d", examples) + " examples)");
        return ck;
    }

    /** Counts the periodic checkpoint that just failed; trainer 0 gives up after maxFailures in a row. */
    private void countFailure() {
        failed++;
        consecutiveFailures++;
        if (failureNow != null) lastError = failureNow;
        if (rank != 0 || maxFailures == 0) return;
        LOG.log(Level.INFO, consecutiveFailures + " of " + maxFailures + " failures in a row allowed (--checkpoint-max-failures)");
        if (consecutiveFailures >= maxFailures) {
            gaveUp = true;
            LOG.log(Level.ERROR, "stopping the job, every process: " + consecutiveFailures + " checkpoints in a row could not be written");
        }
    }

    /** Logs why the checkpoint being taken failed and keeps it for {@link #lastError}. */
    private void fail(String why, String logLine) {
        failureNow = why;
        LOG.log(Level.ERROR, logLine);
    }

    /**
     * Every trainer's reason for a failed step, gathered (all call this together, with "" when they have none): "trainer
     * 1: writing .../trainer-1.bin: No space left on device; trainer 0: ...".
     */
    private String reasons(String mine) throws InterruptedException {
        return reasons(control, mine);
    }

    /** {@link #reasons(String)} over a given group: each reason travels as UTF-8 bytes on the typed channel. */
    static String reasons(Collective control, String mine) throws InterruptedException {
        byte[][] all = control.allGatherBytes(cut(mine == null ? "" : mine).getBytes(StandardCharsets.UTF_8));
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < all.length; r++) {
            String why = new String(all[r], StandardCharsets.UTF_8);
            if (!why.isEmpty()) b.append(b.isEmpty() ? "" : "; ").append("trainer ").append(r).append(": ").append(why);
        }
        return b.toString();
    }

    /** Characters of a reason that travel to the other trainers (a longer one is cut, with "..."), to keep logs short. */
    static final int REASON_CHARS = 400;

    /** s, or its first {@value #REASON_CHARS} − 3 chars and "..." (never half a surrogate pair). */
    static String cut(String s) {
        if (s.length() <= REASON_CHARS) return s;
        int end = REASON_CHARS - 3;
        if (Character.isHighSurrogate(s.charAt(end - 1))) end--;
        return s.substring(0, end) + "...";
    }

    /** Periodic checkpoints that could not be written, in all (as this process saw them). */
    public int failed() {
        return failed;
    }

    /** Why the most recent failed checkpoint failed (which trainer, which file or server, why), or null. */
    public String lastError() {
        return lastError;
    }

    /** Trainer 0: whether it stopped the job after {@code maxFailures} checkpoints in a row failed. */
    public boolean gaveUp() {
        return gaveUp;
    }

    /** Whether this process stopped its job because trainer 0 gave up on checkpoints (it ends its part early). */
    public boolean jobStopped() {
        return jobStopped;
    }

    private void discardQuietly(long seq) {
        if (seq <= 0) return;
        try {
            dir.discard(seq);
        } catch (IOException e) {
            LOG.log(Level.ERROR, "could not remove the incomplete checkpoint " + dir.location(seq) + ": " + e.getMessage());
        }
    }

    /** Checkpoints this process took part in. */
    public int written() {
        return written;
    }

    /** Trainer 0: the newest checkpoint written (its location), or null. */
    public String last() {
        return last;
    }

    /** Examples trained, all trainers, when the newest checkpoint was taken. */
    public long lastExamples() {
        return lastExamples;
    }
}
