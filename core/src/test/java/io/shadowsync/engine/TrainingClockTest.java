package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.engine.feed.BatchSupply;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.step.HogwildStep;
import io.shadowsync.optim.Sgd;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A trainer's training time (the summary's {@code seconds}, and so its examples/s) ends when its workers have taken
 * their last batch, not when its reader thread ends: a reader held back after the last batch (finishing a kept copy,
 * closing its files) is not counted — and {@link Trainer#run} still returns only after the reader has ended, leaving
 * no thread of the trainer running.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrainingClockTest {
    static final long HOLD_NANOS = 2_000_000_000L;

    /** supply, whose reader task, once done, waits for release before it ends (marking ended). */
    static BatchSupply heldReader(BatchSupply supply, CountDownLatch release, AtomicBoolean ended) {
        return new BatchSupply() {
            @Override
            public Batch take(int worker) throws InterruptedException {
                return supply.take(worker);
            }

            @Override
            public void recycle(int worker, Batch b) {
                supply.recycle(worker, b);
            }

            @Override
            public void stop() {
                supply.stop();
            }

            @Override
            public Throwable failure() {
                return supply.failure();
            }

            @Override
            public long skippedLines() {
                return supply.skippedLines();
            }

            @Override
            public int epochsStarted() {
                return supply.epochsStarted();
            }

            @Override
            public Runnable readerTask() {
                Runnable inner = supply.readerTask();
                return () -> {
                    inner.run();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ended.set(true);
                };
            }

            @Override
            public JobState.DataPosition position() {
                return supply.position();
            }

            @Override
            public void restore(JobState.DataPosition position) {
                supply.restore(position);
            }
        };
    }

    @Test
    void theClockStopsAtTheLastBatchAndTheReaderHasEndedWhenRunReturns() throws Exception {
        int n = 64 * NonFiniteGuardTest.BATCH;
        NonFiniteGuardTest.Setup s = NonFiniteGuardTest.Setup.of(NonFiniteGuardTest.SPEC.build());
        TrainerConfig c = new TrainerConfig(1, NonFiniteGuardTest.BATCH, 0, 1, DataSplit.ROUND_ROBIN, 3, 2, 1000, false);
        BatchSupply streamed = BatchSupply.ofTrainer(NonFiniteGuardTest.source(NonFiniteGuardTest.examples(n, 7)), c, 0, 1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean ended = new AtomicBoolean();
        Trainer t = new Trainer(0, s.model(), null, s.store(), new HogwildStep(new Sgd(s.model().dense().size(), 0.05)),
                heldReader(streamed, release, ended), c, null, null, 0, 1, new SyncStats(), new FailureSignal());
        long[] releasedAt = new long[1];
        Thread releaser = new Thread(() -> {
            try {
                while (t.progress().examples() < n) Thread.sleep(5); // every batch trained
                Thread.sleep(HOLD_NANOS / 1_000_000);
                releasedAt[0] = System.nanoTime();
                release.countDown();
            } catch (InterruptedException e) {
                release.countDown();
            }
        });
        releaser.start();
        long before = System.nanoTime();
        TrainResult r = t.run();
        releaser.join();
        assertTrue(ended.get(), "run() returned while the reader thread was still running");
        assertEquals(n, r.examples());
        double wall = (releasedAt[0] - before) / 1e9;
        // counted to the reader's end, the time would be about wall; counted to the last batch, at most wall − 2 s
        // (plus the workers' last step and join, well under a second)
        assertTrue(r.seconds() < wall - HOLD_NANOS / 2e9, "training time " + r.seconds() + " s includes the reader held "
                + HOLD_NANOS / 1e9 + " s after the last batch (released " + wall + " s after run() began)");
    }
}
