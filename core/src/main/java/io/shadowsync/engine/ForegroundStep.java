package io.shadowsync.engine;

import io.shadowsync.sync.SyncAlgorithm;
import java.util.concurrent.Phaser;

/**
 * Foreground synchronization: Hogwild steps, and every {@code syncEvery} steps each worker of the trainer stops at
 * a phaser; when all of them have arrived, the last one runs one round of the sync algorithm on the replica while
 * the others wait. A worker that runs out of data leaves the phaser, so the rest never wait for it.
 */
final class ForegroundStep implements StepRule {
    private final HogwildStep hogwild;
    private final int syncEvery;
    private final long[] steps;
    private final Phaser phaser;

    ForegroundStep(HogwildStep hogwild, int syncEvery, int workers, SyncAlgorithm algorithm, float[] params, SyncStats stats) {
        this.hogwild = hogwild;
        this.syncEvery = syncEvery;
        this.steps = new long[workers];
        this.phaser = new Phaser(workers) {
            @Override
            protected boolean onAdvance(int phase, int registeredParties) {
                if (registeredParties == 0) return true; // every worker has left: the trainer is done
                long t0 = System.nanoTime();
                try {
                    algorithm.round(params, true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
                stats.recordRound(System.nanoTime() - t0, algorithm.bytesSent());
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
        phaser.awaitAdvanceInterruptibly(phase);
        return System.nanoTime() - t0;
    }

    @Override
    public long finish(int worker) {
        phaser.arriveAndDeregister();
        return 0;
    }
}
