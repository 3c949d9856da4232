package io.shadowsync.engine;

import io.shadowsync.engine.step.HogwildStep;
import io.shadowsync.engine.step.StepRule;
import io.shadowsync.sync.SyncAlgorithm;
import java.util.concurrent.Phaser;

/**
 * Foreground synchronization: Hogwild steps, and every {@code syncEvery} steps each worker of the trainer stops at
 * a phaser; when all of them have arrived, the last one runs one round of the sync algorithm on the replica while
 * the others wait. A worker that runs out of data leaves the phaser, so the rest never wait for it.
 *
 * <p>Failure: a round that throws fails the job ({@link FailureSignal}) and terminates the phaser instead of leaving
 * it (a {@link Phaser} whose {@code onAdvance} throws never advances, so the waiting workers would wait forever); a
 * failure elsewhere terminates it through {@link #abort()}. Either way every worker waiting at it, or arriving later,
 * ends its work with an {@link InterruptedException}.
 */
final class ForegroundStep implements StepRule {
    private final HogwildStep hogwild;
    private final int syncEvery;
    private final long[] steps;
    private final Phaser phaser;

    ForegroundStep(HogwildStep hogwild, int syncEvery, int workers, SyncAlgorithm algorithm, float[] params, SyncStats stats,
                   FailureSignal failures) {
        this.hogwild = hogwild;
        this.syncEvery = syncEvery;
        this.steps = new long[workers];
        this.phaser = new Phaser(workers) {
            @Override
            protected boolean onAdvance(int phase, int registeredParties) {
                if (registeredParties == 0) return true; // every worker has left: the trainer is done
                if (failures.failed()) return true;
                long t0 = System.nanoTime();
                try {
                    algorithm.round(params, true);
                } catch (InterruptedException e) {
                    failures.fail(e); // nobody interrupts a round but a failure elsewhere: then only its echo
                    Thread.currentThread().interrupt();
                    return true;
                } catch (Throwable t) {
                    failures.fail(t);
                    return true;
                }
                stats.recordRound(System.nanoTime() - t0, algorithm.bytesSent(), algorithm.rawBytesSent());
                return false;
            }
        };
    }

    @Override
    public long apply(int worker, float[] params, float[] grad, int examples) throws InterruptedException {
        hogwild.apply(worker, params, grad, examples);
        if (++steps[worker] % syncEvery != 0) return 0;
        long t0 = System.nanoTime();
        int phase = phaser.arrive();
        if (phase < 0 || phaser.awaitAdvanceInterruptibly(phase) < 0) {
            // terminated while workers still train: only a failure does that
            throw new InterruptedException("the trainer's foreground round was abandoned: the job failed");
        }
        return System.nanoTime() - t0;
    }

    @Override
    public long finish(int worker) {
        phaser.arriveAndDeregister();
        return 0;
    }

    @Override
    public void abort() {
        phaser.forceTermination();
    }
}
