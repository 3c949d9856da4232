package io.shadowsync.ckpt;

import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Takes a running job's checkpoints: periodically, every {@code everySeconds} of wall time and/or every
 * {@code everyExamples} examples trained (whichever comes first; a background thread named {@code checkpointer}), and
 * on demand ({@link #checkpoint()}, e.g. from a signal handler). Each checkpoint pauses the job at the end of its
 * current steps and rounds ({@link Job#pause}), writes it into a {@link CheckpointDir}, and lets the job go on.
 *
 * <p>Thread-safe: checkpoints are taken one at a time, in the order asked for.
 * <pre>
 *   Checkpointer c = new Checkpointer(job, new CheckpointDir(dir, 3), settings, 600, 0, Duration.ofMinutes(5), log);
 *   c.start();
 *   JobResult r = job.run();
 *   c.stop();
 * </pre>
 */
public final class Checkpointer {
    /** How often the thread looks at the example count when checkpoints are due every E examples. */
    private static final long POLL_MILLIS = 20;

    private final Job job;
    private final CheckpointDir dir;
    private final Map<String, String> settings;
    private final long everyNanos;
    private final long everyExamples;
    private final Duration pauseTimeout;
    private final Consumer<String> log;
    private volatile Thread thread;
    /** Wakes the periodic thread early (stop); guarded by itself. */
    private final Object wake = new Object();
    private boolean stopping;
    private volatile int written;
    private volatile Path last;
    private volatile long lastExamples;

    /**
     * @param settings      the run's settings, saved in every manifest (a resumed run must match them)
     * @param everySeconds  seconds between periodic checkpoints; 0 for none by time
     * @param everyExamples examples between periodic checkpoints; 0 for none by examples
     * @param pauseTimeout  how long a checkpoint waits for the job to come to rest before it gives up (and the job goes on)
     * @param log           receives one line per periodic checkpoint written or failed
     */
    public Checkpointer(Job job, CheckpointDir dir, Map<String, String> settings, double everySeconds, long everyExamples,
                        Duration pauseTimeout, Consumer<String> log) {
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
        this.log = log;
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
                    log.accept("wrote checkpoint " + p + " (" + lastExamples + " examples)");
                } catch (TimeoutException | IOException | IllegalStateException e) {
                    log.accept("could not write a checkpoint: " + e.getMessage());
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
        try (Job.Paused paused = job.pause(pauseTimeout)) {
            return write(paused);
        }
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
