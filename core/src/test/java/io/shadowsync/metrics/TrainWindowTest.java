package io.shadowsync.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TrainWindowTest {
    @Test
    void windowForgetsBatchesOlderThanTheLastNExamples() {
        TrainWindow w = new TrainWindow(1, 30, 10);
        for (int b = 0; b < 10; b++) w.record(0, b, 10, b % 2 == 0 ? 10 : 0); // batch b has loss b
        TrainWindow.Snapshot s = w.snapshot();
        assertEquals(30, s.examples());
        assertEquals(7 + 8 + 9, s.sumLoss(), 0);
        assertEquals(10, s.sumLabels(), 0); // only batch 8 was all positive
        assertEquals(100, w.totalExamples());
    }

    @Test
    void windowSpansWorkersInGlobalOrder() {
        TrainWindow w = new TrainWindow(3, 4, 2);
        w.record(0, 1, 2, 0); // examples 0-1: out of the window
        w.record(1, 2, 2, 1); // 2-3
        w.record(2, 4, 2, 1); // 4-5
        TrainWindow.Snapshot s = w.snapshot();
        assertEquals(4, s.examples());
        assertEquals(6, s.sumLoss(), 0);
        assertEquals(1.5, s.meanLoss(), 0);
        assertEquals(0.5, s.baseRate(), 0);
        assertEquals(1.5 / Math.log(2), s.ne(), 1e-12);
    }

    @Test
    void emptyWindowHasNaNMeans() {
        TrainWindow.Snapshot s = new TrainWindow(2, 100, 10).snapshot();
        assertEquals(0, s.examples());
        assertTrue(Double.isNaN(s.meanLoss()));
    }

    @Test
    void twoWritersSumCorrectlyWhileAReaderNeverSeesATornBatch() throws InterruptedException {
        final int batches = 20_000;
        TrainWindow w = new TrainWindow(2, 1_000_000, 1); // the window holds everything
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] writers = new Thread[2];
        for (int t = 0; t < 2; t++) {
            final int worker = t;
            writers[t] = new Thread(() -> {
                for (int b = 0; b < batches; b++) {
                    int count = 1 + b % 5;
                    w.record(worker, 2.0 * count, count, count); // loss 2 and label 1 per example
                }
            }, "test/worker-" + t);
        }
        Thread reader = new Thread(() -> {
            try {
                while (writers[0].isAlive() || writers[1].isAlive()) {
                    TrainWindow.Snapshot s = w.snapshot();
                    assertEquals(2.0 * s.examples(), s.sumLoss(), 0, "a torn batch mixes loss and count");
                    assertEquals(s.examples(), s.sumLabels(), 0);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "test/reader");
        for (Thread t : writers) t.start();
        reader.start();
        for (Thread t : writers) t.join(10_000);
        reader.join(10_000);
        assertFalse(writers[0].isAlive() || writers[1].isAlive() || reader.isAlive(), "threads did not finish");
        assertNull(failure.get());
        long expected = 2L * (batches / 5) * (1 + 2 + 3 + 4 + 5);
        TrainWindow.Snapshot s = w.snapshot();
        assertEquals(expected, w.totalExamples());
        assertEquals(expected, s.examples());
        assertEquals(2.0 * expected, s.sumLoss(), 0);
    }

    @Test
    void ringsThatWrapKeepOnlyTheWindowUnderConcurrentWriters() throws InterruptedException {
        TrainWindow w = new TrainWindow(2, 50, 5); // 11 entries per ring: wraps many times
        Thread[] writers = new Thread[2];
        for (int t = 0; t < 2; t++) {
            final int worker = t;
            writers[t] = new Thread(() -> {
                for (int b = 0; b < 5000; b++) w.record(worker, 5, 5, 0);
            }, "test/worker-" + t);
            writers[t].start();
        }
        for (Thread t : writers) t.join(10_000);
        assertFalse(writers[0].isAlive() || writers[1].isAlive(), "writers did not finish");
        TrainWindow.Snapshot s = w.snapshot();
        assertEquals(50, s.examples()); // batches of 5 align with the window
        assertEquals(50, s.sumLoss(), 0);
    }

    @Test
    void refusesBadArguments() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TrainWindow(0, 10, 1));
        assertEquals("a train window needs at least one worker, got 0", e.getMessage());
        TrainWindow w = new TrainWindow(2, 10, 1);
        e = assertThrows(IllegalArgumentException.class, () -> w.record(2, 1, 1, 0));
        assertEquals("worker 2 has no slot; this window has 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> w.record(0, 1, 0, 0));
        assertEquals("a recorded batch has at least one example, got 0", e.getMessage());
    }
}
