package io.shadowsync.engine.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.ArraySource;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class BatchFeederTest {
    /** Drains every worker's queue on its own thread; returns the example ids (dense[0]) each worker saw, in order. */
    static List<List<Integer>> drain(BatchFeeder f, int workers) throws InterruptedException {
        List<List<Integer>> seen = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            List<Integer> mine = new ArrayList<>();
            seen.add(mine);
            int ww = w;
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Batch b = f.take(ww);
                        if (b == BatchSupply.END) return;
                        for (int i = 0; i < b.size; i++) mine.add((int) b.dense[i]);
                        f.recycle(ww, b);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads.add(t);
            t.start();
        }
        Thread reader = new Thread(f);
        reader.start();
        for (Thread t : threads) t.join();
        reader.join();
        return seen;
    }

    @Test
    void roundRobinDeliversEveryExampleOnceInOrder() throws Exception {
        BatchFeeder f = new BatchFeeder(ArraySource.counting(1003, 2), 3, 16, 0, 1, DataSplit.ROUND_ROBIN, 1, 2);
        List<List<Integer>> seen = drain(f, 3);
        for (int w = 0; w < 3; w++) {
            List<Integer> s = seen.get(w);
            for (int i = 0; i < s.size(); i++) assertEquals(w + 3 * i, s.get(i));
        }
        assertEquals(1003, seen.get(0).size() + seen.get(1).size() + seen.get(2).size());
        assertEquals(1003, f.examplesRead());
    }

    @Test
    void exampleBudgetSpansEpochs() throws Exception {
        BatchFeeder f = new BatchFeeder(ArraySource.counting(100, 2), 1, 7, 250, 0, DataSplit.RANDOM, 1, 2);
        List<Integer> s = drain(f, 1).get(0);
        assertEquals(250, s.size());
        assertEquals(0, s.get(100));
        assertEquals(49, s.get(249));
        assertEquals(3, f.epochsStarted());
    }

    @Test
    void randomSplitIsSeededAndComplete() throws Exception {
        List<List<Integer>> a = drain(new BatchFeeder(ArraySource.counting(2000, 2), 2, 32, 0, 1, DataSplit.RANDOM, 9, 2), 2);
        List<List<Integer>> b = drain(new BatchFeeder(ArraySource.counting(2000, 2), 2, 32, 0, 1, DataSplit.RANDOM, 9, 2), 2);
        assertEquals(a, b);
        assertEquals(2000, a.get(0).size() + a.get(1).size());
        assertTrue(Math.abs(a.get(0).size() - 1000) < 150, "roughly even: " + a.get(0).size());
    }

    @Test
    void stratifiedSplitGivesEveryWorkerTheSameLabelMix() throws Exception {
        // labels: 1 for every 10th example, else 0 — round-robin over 2 workers would give all positives to worker 0
        float[][] d = new float[1000][1];
        float[] y = new float[1000];
        for (int i = 0; i < 1000; i++) {
            d[i][0] = i;
            y[i] = i % 10 == 0 ? 1 : 0;
        }
        List<List<Integer>> seen = drain(new BatchFeeder(new ArraySource(d, y, 2, -1), 2, 16, 0, 1, DataSplit.STRATIFIED, 1, 2), 2);
        for (int w = 0; w < 2; w++) {
            long pos = seen.get(w).stream().filter(i -> i % 10 == 0).count();
            assertEquals(50, pos, "worker " + w + " positives");
            assertEquals(500, seen.get(w).size());
        }
    }

    @Test
    void readerFailureEndsWorkersAndIsReported() throws Exception {
        float[][] d = new float[500][1];
        BatchFeeder f = new BatchFeeder(new ArraySource(d, new float[500], 2, 300), 2, 8, 0, 1, DataSplit.ROUND_ROBIN, 1, 2);
        drain(f, 2);
        assertNotNull(f.failure());
        assertInstanceOf(DataException.class, f.failure());
        assertTrue(f.failure().getMessage().contains("array:test:301"));
    }

    @Test
    void stopEndsEvenWhenWorkersAreSlow() throws Exception {
        BatchFeeder f = new BatchFeeder(ArraySource.counting(1_000_000, 2), 1, 4, 0, 1, DataSplit.ROUND_ROBIN, 1, 1);
        Thread reader = new Thread(f);
        reader.start();
        Batch b = f.take(0);
        assertTrue(b.size > 0);
        f.stop();
        reader.join(5000);
        assertTrue(!reader.isAlive(), "reader ended after stop()");
        Batch next;
        do {
            next = f.take(0);
        } while (next != BatchSupply.END);
    }
}
