package io.shadowsync.net.run;

import io.shadowsync.ckpt.CheckpointStore;
import io.shadowsync.ckpt.Checkpointer;
import io.shadowsync.ckpt.LocalCheckpointStore;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A multi-process job's checkpoints ({@link io.shadowsync.ckpt.MultiProcessCheckpointer}): the directory every process
 * sees at the same absolute path (or one store every process reaches), how many are kept, when one is written, when the job gives up on them, and whether
 * this run resumes from the newest good one.
 *
 * @param store         the checkpoint directory ({@code ckpt-<seq>/} each)
 * @param keep          checkpoints kept, the newest (at least 1)
 * @param everySeconds  seconds between periodic checkpoints by trainer 0's clock; 0: none by time
 * @param everyExamples examples (all trainers) between periodic checkpoints; 0: none by examples
 * @param maxFailures   periodic checkpoints that may fail in a row before the job stops; 0: never stop
 * @param resume        continue from the newest good checkpoint (none yet: start from the beginning, with a warning)
 */
public record CheckpointOptions(CheckpointStore store, int keep, double everySeconds, long everyExamples, int maxFailures, boolean resume) {
    public CheckpointOptions {
        Objects.requireNonNull(store, "the checkpoint directory");
        if (keep < 1) throw new IllegalArgumentException("--keep must be at least 1 (the newest checkpoint), got " + keep);
        if (!(everySeconds >= 0) || Double.isInfinite(everySeconds)) {
            throw new IllegalArgumentException("--checkpoint-every-sec must be zero (none) or positive, got " + everySeconds);
        }
        if (everyExamples < 0) throw new IllegalArgumentException("--checkpoint-every-examples must be zero (none) or positive, got " + everyExamples);
        if (maxFailures < 0) throw new IllegalArgumentException("--checkpoint-max-failures must be zero (never stop) or positive, got " + maxFailures);
    }

    /** Checkpoints in a local directory. */
    public CheckpointOptions(Path dir, int keep, double everySeconds, long everyExamples, int maxFailures, boolean resume) {
        this(new LocalCheckpointStore(dir), keep, everySeconds, everyExamples, maxFailures, resume);
    }

    /** Checkpoints in dir: the newest 3 kept, none periodic (only a final one on a stop), the default failure limit. */
    public static CheckpointOptions in(Path dir) {
        return in(new LocalCheckpointStore(dir));
    }

    /** As {@link #in(Path)}, in any store (the {@code spark} module's over Hadoop's file systems). */
    public static CheckpointOptions in(CheckpointStore store) {
        return new CheckpointOptions(store, 3, 0, 0, Checkpointer.DEFAULT_MAX_FAILURES, false);
    }

    public CheckpointOptions keep(int k) {
        return new CheckpointOptions(store, k, everySeconds, everyExamples, maxFailures, resume);
    }

    public CheckpointOptions everySeconds(double s) {
        return new CheckpointOptions(store, keep, s, everyExamples, maxFailures, resume);
    }

    public CheckpointOptions everyExamples(long e) {
        return new CheckpointOptions(store, keep, everySeconds, e, maxFailures, resume);
    }

    public CheckpointOptions maxFailures(int n) {
        return new CheckpointOptions(store, keep, everySeconds, everyExamples, n, resume);
    }

    public CheckpointOptions resume(boolean r) {
        return new CheckpointOptions(store, keep, everySeconds, everyExamples, maxFailures, r);
    }
}
