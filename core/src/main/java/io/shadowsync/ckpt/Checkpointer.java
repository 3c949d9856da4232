package io.shadowsync.ckpt;

import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobState;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Takes a running job's checkpoints: periodically, every {@code everySeconds} of wall time and/or every
 * {@code everyExamples} examples trained (whichever comes first; a background thread named {@code checkpointer}), and
 * on demand ({@link #checkpoint()}, e.g. from a signal handler). Each checkpoint pauses the job at the end of its
 * current steps and rounds ({@link Job#pause}), writes it into a {@link CheckpointDir}, and lets the job go on.
 *
 * <p>Thread-safe: checkpoints are taken one at a time, in the order asked for.
 * <pre>
 *   Checkpointer c = new Checkpointer(job, new CheckpointDir(dir, 3), settings, 600, 0, Duration.ofMinutes(5));
 *   c.start();
 *   JobResult r = job.run();
 *   c.stop();
 * </pre>
 */
public final class Checkpointer {
    private static final System.Logger LOG = System.getLogger(Checkpointer.class.getName());

    /** How often the thread looks at the example count when checkpoints are due every E examples. */
    private static final long POLL_MILLIS = 20;

    private final Job job;
    private final CheckpointDir dir;
    private final Map<String, String> settings;
    private final long everyNanos;
    private final long everyExamples;
    private final Duration pauseTimeout;
    private volatile Thread thread;
    /** Wakes the periodic thread early (stop); guarded by itself. */
    private final Object wake = new Object();
    private boolean stopping;
    private final int maxFailures;
    private volatile int written;
    private volatile int failed;
    private volatile int consecutiveFailures;
    private volatile String lastError;
    private volatile boolean gaveUp;
    private volatile Path last;
    private volatile long lastExamples;

    /**
     * @param settings      the run's settings, saved in every manifest (a resumed run must match them)
     * @param everySeconds  seconds between periodic checkpoints; 0 for none by time
     * @param everyExamples examples between periodic checkpoints; 0 for none by examples
     * @param pauseTimeout  how long a checkpoint waits for the job to come to rest before it gives up (and the job goes on)
     */
    public Checkpointer(Job job, CheckpointDir dir, Map<String, String> settings, double everySeconds, long everyExamples,
                        Duration pauseTimeout) {
        this(job, dir, settings, everySeconds, everyExamples, pauseTimeout, DEFAULT_MAX_FAILURES);
    }

    /** Periodic checkpoints that fail this many times in a row stop the job, unless told otherwise. */
    public static final int DEFAULT_MAX_FAILURES = 3;

    /**
     * @param maxFailures periodic checkpoints that may fail in a row before the checkpointer gives up and stops the job
     *                    ({@link Job#stop}; {@link #gaveUp()} then says so); 0: never give up, only log each failure
     */
    public Checkpointer(Job job, CheckpointDir dir, Map<String, String> settings, double everySeconds, long everyExamples,
                        Duration pauseTimeout, int maxFailures) {
        if (maxFailures < 0) throw new IllegalArgumentException("--checkpoint-max-failures must be zero (never stop) or positive, got " + maxFailures);
        this.maxFailures = maxFailures;
        if (!(everySeconds >= 0) || Double.isInfinite(everySeconds)) {
            throw new IllegalArgumentException("--checkpoint-every-sec must be zero (none) or positive, got " + everySeconds);
        }
        if (everyExamples < 0) throw new IllegalArgumentException("--checkpoint-every-examples must be zero (none) or positive, got " + everyExamples);
        this.job = job;
        this.dir = dir;
        this.settings = Map.copyOf(settings);
        this.everyNanos = (long) (everySeconds * 1e9);
        this.everyExamples = everyExamples;
        this.pauseTimeout = pauseTimeout;
    }

    /** Starts the periodic thread (a daemon); nothing when neither period is set. */
    public void start() {
        if (everyNanos <= 0 && everyExamples <= 0) return;
        Thread t = new Thread(this::loop, "checkpointer");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Stops the periodic thread, letting a checkpoint being written finish first. */
    public void stop() throws InterruptedException {
        synchronized (wake) {
            stopping = true;
            wake.notifyAll();
        }
        Thread t = thread;
        if (t != null) t.join();
    }

    private void loop() {
        long nextTime = everyNanos > 0 ? System.nanoTime() + everyNanos : Long.MAX_VALUE;
        long nextExamples = everyExamples > 0 ? (job.progress().examples() / everyExamples + 1) * everyExamples : Long.MAX_VALUE;
        while (true) {
            try {
                long wait = Math.max(1, (nextTime - System.nanoTime()) / 1_000_000);
                synchronized (wake) {
                    if (stopping) return;
                    wake.wait(everyExamples > 0 ? Math.min(POLL_MILLIS, wait) : wait);
                    if (stopping) return;
                }
                long ex = job.progress().examples();
                if (System.nanoTime() < nextTime && ex < nextExamples) continue;
                try {
                    Path p = checkpoint();
                    consecutiveFailures = 0;
                    LOG.log(Level.INFO, "wrote checkpoint " + p + " (" + lastExamples + " examples)");
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    failed++;
                    consecutiveFailures++;
                    lastError = reason(e);
                    boolean giveUp = maxFailures > 0 && consecutiveFailures >= maxFailures;
                    LOG.log(Level.ERROR, "could not write a checkpoint into " + dir.location() + ": " + lastError
                            + (maxFailures > 0 ? " (" + consecutiveFailures + " of " + maxFailures + " failures in a row allowed)" : ""), e);
                    if (giveUp) {
                        gaveUp = true;
                        LOG.log(Level.ERROR, "stopping the job: " + consecutiveFailures + " checkpoints in a row could not be written");
                        job.stop();
                        return;
                    }
                }
                if (everyNanos > 0) nextTime = System.nanoTime() + everyNanos;
                if (everyExamples > 0) nextExamples = (lastExamples / everyExamples + 1) * everyExamples;
            } catch (InterruptedException e) {
                return; // the process is going down
            }
        }
    }

    /** Pauses the job, writes a checkpoint, lets the job go on; returns the checkpoint's directory. */
    public synchronized Path checkpoint() throws IOException, InterruptedException, TimeoutException {
        long t0 = System.nanoTime();
        try (Job.Paused paused = job.pause(pauseTimeout)) {
            long t1 = System.nanoTime();
            Path p = write(paused);
            logTimes(p, t0, t1);
            return p;
        }
    }

    /** At DEBUG: how long the job took to come to rest (from t0 to t1) and the checkpoint to be written (until now). */
    private static void logTimes(Path p, long t0, long t1) {
        long t2 = System.nanoTime();
        LOG.log(Level.DEBUG, () -> "checkpoint " + p + ": the job came to rest in " + (t1 - t0) / 1_000_000 + " ms, written in "
                + (t2 - t1) / 1_000_000 + " ms");
    }

    /**
     * Pauses the job and writes a checkpoint, and leaves the job at rest: for a process that exits next (a signal).
     * Returns the checkpoint's directory.
     */
    public synchronized Path checkpointAndHold() throws IOException, InterruptedException, TimeoutException {
        Job.Paused paused = job.pause(pauseTimeout);
        try {
            return write(paused);
        } catch (IOException | RuntimeException e) {
            paused.close();
            throw e;
        }
    }

    private Path write(Job.Paused paused) throws IOException, InterruptedException {
        JobState state = paused.state();
        for (JobState.TrainerState t : state.trainers()) {
            int bad = io.shadowsync.sync.NonFiniteException.firstNonFinite(t.params(), t.params().length);
            if (bad >= 0) {
                throw new IllegalStateException("trainer " + t.rank() + "'s replica went non-finite (parameter " + bad + " is "
                        + t.params()[bad] + "): no checkpoint of it is written" + (last == null ? "" : "; the last good one is " + last));
            }
        }
        Path p = dir.write(state, settings);
        lastExamples = state.examples();
        last = p;
        written++;
        return p;
    }

    /**
     * Why e happened, in one phrase with its reason: file-system errors name the file and the reason
     * ({@code "ckpt/ckpt-3/trainer-0.bin: No space left on device"}), others their message or, without one, their kind.
     */
    public static String reason(Throwable e) {
        if (e instanceof java.nio.file.NoSuchFileException f) return f.getFile() + ": no such file or directory";
        if (e instanceof java.nio.file.AccessDeniedException f) return f.getFile() + ": permission denied";
        if (e instanceof java.nio.file.FileAlreadyExistsException f) return f.getFile() + ": already exists";
        if (e instanceof java.nio.file.NotDirectoryException f) return f.getFile() + ": not a directory";
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            Throwable c = e.getCause();
            return c != null && c != e ? reason(c) : e.getClass().getSimpleName();
        }
        return m;
    }

    /** Periodic checkpoints that could not be written, in all. */
    public int failed() {
        return failed;
    }

    /** Why the most recent failed checkpoint failed, or null. */
    public String lastError() {
        return lastError;
    }

    /** Whether the checkpointer stopped the job after {@code maxFailures} failures in a row. */
    public boolean gaveUp() {
        return gaveUp;
    }

    /** Checkpoints written so far. */
    public int written() {
        return written;
    }

    /** The newest checkpoint written, or null. */
    public Path last() {
        return last;
    }

    /** Examples trained when the newest checkpoint was taken. */
    public long lastExamples() {
        return lastExamples;
    }
}
