package io.shadowsync.engine;

import io.shadowsync.engine.feed.Takeover;
import io.shadowsync.sync.SyncAlgorithm;
import java.util.function.Supplier;

/**
 * An elastic trainer's progress mark: where its data stood (the batches its workers had applied) when its last
 * completed sync round took its snapshot. The survivors' model holds everything up to there, so a trainer that takes
 * over its share after it left ({@link Takeover}) starts from the mark. Wraps the trainer's sync algorithm: the
 * position is read just before each round, and becomes the mark when the round returns.
 *
 * <p>Sharing contract: the round's thread writes the mark, any thread reads it (volatile).
 */
final class ProgressMark implements SyncAlgorithm {
    private final SyncAlgorithm algorithm;
    private final Supplier<JobState.DataPosition> now;
    private volatile JobState.DataPosition mark;

    /** @param now the position now, counting applied batches only */
    ProgressMark(SyncAlgorithm algorithm, Supplier<JobState.DataPosition> now) {
        this.algorithm = algorithm;
        this.now = now;
    }

    @Override
    public String name() {
        return algorithm.name();
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        JobState.DataPosition before = now.get();
        int active = algorithm.round(w, training);
        mark = before;
        return active;
    }

    @Override
    public void prepare(float[] w) throws InterruptedException {
        algorithm.prepare(w);
    }

    @Override
    public long bytesSent() {
        return algorithm.bytesSent();
    }

    @Override
    public long rawBytesSent() {
        return algorithm.rawBytesSent();
    }

    /** The position before the last completed round, or null before the first. */
    JobState.DataPosition mark() {
        return mark;
    }
}
