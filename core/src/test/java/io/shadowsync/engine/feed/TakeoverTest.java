package io.shadowsync.engine.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.ArraySource;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.JobState;
import io.shadowsync.engine.TrainerConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The re-shard rule of elastic trainers ({@link Takeover}), in one JVM: trainer d of 3 trains part of its share and
 * leaves at its progress mark; the survivors' takes of the rest, together with what d trained, are d's whole share,
 * every example exactly as often as d alone would have trained it — for every split, streamed and in memory, with the
 * mark a batch behind what a worker had taken (its batch in hand) and across an epoch boundary; and when a survivor
 * leaves during its take, the others' takes of that take make it whole again.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TakeoverTest {
    static final int N = 211, TRAINERS = 3, W = 2, B = 8, EPOCHS = 2;

    static TrainerConfig config(DataSplit split, boolean shuffle) {
        return new TrainerConfig(W, B, 0, EPOCHS, split, 5, 16, 100, shuffle);
    }

    /** Every example id a supply hands out over all workers (each worker on its own thread), sorted. */
    static List<Integer> drain(BatchSupply s) throws InterruptedException {
        Runnable reader = s.readerTask();
        Thread r = reader == null ? null : new Thread(reader);
        if (r != null) r.start();
        List<Integer> all = Collections.synchronizedList(new ArrayList<>());
        Thread[] threads = new Thread[W];
        for (int w = 0; w < W; w++) {
            int ww = w;
            threads[w] = new Thread(() -> {
                try {
                    while (true) {
                        Batch b = s.take(ww);
                        if (b == BatchSupply.END) return;
                        for (int i = 0; i < b.size; i++) all.add((int) b.dense[i]);
                        s.recycle(ww, b);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads[w].start();
        }
        for (Thread t : threads) t.join();
        if (r != null) r.join();
        List<Integer> sorted = new ArrayList<>(all);
        Collections.sort(sorted);
        return sorted;
    }

    /**
     * Trainer d trains worker w's first taken[w] batches but applies only applied[w] of them (the rest were in hand
     * when it left), and leaves: its progress mark, through the bytes the coordinator keeps; what it applied is added
     * to trained.
     */
    static JobState.DataPosition leave(DataSource data, TrainerConfig c, int d, int[] taken, int[] applied, List<Integer> trained)
            throws InterruptedException {
        BatchSupply s = BatchSupply.ofTrainer(data, c, d, TRAINERS);
        Runnable reader = s.readerTask();
        Thread r = reader == null ? null : new Thread(reader);
        if (r != null) r.start();
        long[] counts = new long[W];
        for (int w = 0; w < W; w++) {
            for (int k = 0; k < taken[w]; k++) {
                Batch b = s.take(w);
                assertTrue(b != BatchSupply.END, "trainer " + d + " worker " + w + " ran out before batch " + k);
                if (k < applied[w]) {
                    counts[w] += b.size;
                    for (int i = 0; i < b.size; i++) trained.add((int) b.dense[i]);
                }
                s.recycle(w, b);
            }
        }
        JobState.DataPosition mark = s.positionAt(counts);
        s.stop();
        if (r != null) {
            // let a reader blocked on a full queue see the stop
            for (int w = 0; w < W; w++) while (s.take(w) != BatchSupply.END) { }
            r.join();
        }
        byte[] bytes = Takeover.encode(mark);
        JobState.DataPosition back = Takeover.decode(bytes);
        assertEquals(mark.examples(), back.examples());
        return back;
    }

    static void check(DataSource data, TrainerConfig c) throws InterruptedException {
        int d = 1;
        List<Integer> whole = drain(BatchSupply.ofTrainer(data, c, d, TRAINERS));
        // worker 0 is deep into the second epoch with a batch in hand, worker 1 early in the first
        int perWorkerBatches = (int) Math.ceil(N / (double) TRAINERS / W / B);
        List<Integer> got = new ArrayList<>();
        JobState.DataPosition mark = leave(data, c, d, new int[] {perWorkerBatches + 2, 2}, new int[] {perWorkerBatches + 1, 1}, got);
        Takeover.Part rest = new Takeover.Part(d, mark, List.of());
        int survivors = 2;
        for (int j = 0; j < survivors; j++) got.addAll(drain(Takeover.supply(data, c, TRAINERS, List.of(rest), survivors, j)));
        Collections.sort(got);
        assertEquals(whole, got, "what trainer " + d + " trained and its survivors took over is its share, each example as often");
        assertTrue(whole.size() >= EPOCHS * (N / TRAINERS), "share of " + whole.size());

        // survivor 1 of 2 leaves during its take: survivors 0 and 2 (now 2 of 2) take it over again
        List<Integer> again = new ArrayList<>(drain(Takeover.supply(data, c, TRAINERS, List.of(rest), 2, 0)));
        List<Takeover.Part> left = List.of(rest.take(2, 1));
        for (int j = 0; j < 2; j++) again.addAll(drain(Takeover.supply(data, c, TRAINERS, left, 2, j)));
        List<Integer> restOnly = new ArrayList<>();
        for (int j = 0; j < survivors; j++) restOnly.addAll(drain(Takeover.supply(data, c, TRAINERS, List.of(rest), survivors, j)));
        Collections.sort(again);
        Collections.sort(restOnly);
        assertEquals(restOnly, again, "a survivor's take taken over again is that take, once");
    }

    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void streamedSharesAreTakenOverExactly(DataSplit split) throws Exception {
        check(ArraySource.counting(N, 3), config(split, false));
    }

    /** Data kept in memory after its first pass (the default): the mark may fall in the streamed pass or the replay. */
    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void keptSharesAreTakenOverExactly(DataSplit split) throws Exception {
        check(new io.shadowsync.data.CachedSource(new CachedFeederTest.Ids(ArraySource.counting(N, 3)), 1L << 30), config(split, false));
    }

    @Test
    void inMemorySharesAreTakenOverExactly() throws Exception {
        InMemorySource mem = InMemorySource.load(ArraySource.counting(N, 2));
        check(mem, config(DataSplit.ROUND_ROBIN, false));
        check(mem, config(DataSplit.ROUND_ROBIN, true)); // shuffled every epoch: the takers replay the shuffles
    }

    /**
     * A worker holds the batch it trains while it takes the next one ahead (the look-ahead of remote rows); a survivor's
     * filter skips another survivor's batch in between. Catches skipping by taking from a supply that hands out its own
     * two buffers in turn (in memory; kept data after its first pass): the second take overwrote the batch in hand,
     * which then trained another batch's examples — and a short last batch, counted in its place, lost the difference.
     */
    @Test
    void skippedBatchesLeaveTheBatchInHandAlone() throws Exception {
        // in memory (kept data replays through the same shards after its first pass: ElasticTakeoverProcessTest)
        InMemorySource mem = InMemorySource.load(ArraySource.counting(N, 2));
        for (DataSource data : List.of(mem)) {
            for (int pick = 0; pick < 2; pick++) {
                BatchSupply s = Takeover.supply(data, config(DataSplit.ROUND_ROBIN, false), TRAINERS,
                        List.of(new Takeover.Part(1, null, List.of())), 2, pick);
                Runnable reader = s.readerTask();
                Thread r = reader == null ? null : new Thread(reader);
                if (r != null) r.start();
                Batch held = s.take(0);
                List<Integer> before = ids(held);
                Batch ahead = s.take(0);
                assertTrue(ahead != BatchSupply.END);
                assertEquals(before, ids(held), "survivor " + pick + " of 2: the batch in hand changed under the worker");
                s.stop();
                if (r != null) {
                    for (int w = 0; w < W; w++) while (s.take(w) != BatchSupply.END) { }
                    r.join();
                }
            }
        }
    }

    private static List<Integer> ids(Batch b) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < b.size; i++) out.add((int) b.dense[i]);
        return out;
    }

    @Test
    void aTrainerThatLeftBeforeItsFirstMarkIsTakenOverWhole() throws Exception {
        DataSource data = ArraySource.counting(N, 3);
        TrainerConfig c = config(DataSplit.RANDOM, false);
        List<Integer> whole = drain(BatchSupply.ofTrainer(data, c, 2, TRAINERS));
        List<Integer> got = new ArrayList<>();
        Takeover.Part all = new Takeover.Part(2, Takeover.decode(Takeover.encode(null)), List.of());
        assertNull(all.from());
        for (int j = 0; j < 3; j++) got.addAll(drain(Takeover.supply(data, c, TRAINERS, List.of(all), 3, j)));
        Collections.sort(got);
        assertEquals(whole, got);
    }

    @Test
    void anExampleBudgetIsTakenOverToItsEnd() throws Exception {
        DataSource data = ArraySource.counting(N, 3);
        TrainerConfig c = new TrainerConfig(W, B, 500, 1, DataSplit.ROUND_ROBIN, 5, 16, 100, false);
        List<Integer> whole = drain(BatchSupply.ofTrainer(data, c, 0, TRAINERS));
        assertEquals(167, whole.size()); // 500 over 3 trainers: 167, 167, 166
        List<Integer> got = new ArrayList<>();
        JobState.DataPosition mark = leave(data, c, 0, new int[] {3, 4}, new int[] {3, 3}, got);
        for (int j = 0; j < 2; j++) got.addAll(drain(Takeover.supply(data, c, TRAINERS, List.of(new Takeover.Part(0, mark, List.of())), 2, j)));
        Collections.sort(got);
        assertEquals(whole, got);
    }

    @Test
    void badMarksAndFiltersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Takeover.decode(new byte[] {9}));
        assertThrows(IllegalArgumentException.class, () -> Takeover.decode(new byte[] {2, 0, 0}));
        byte[] good = Takeover.encode(new JobState.ShardPosition(new long[] {4, 5}));
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThrows(IllegalArgumentException.class, () -> Takeover.decode(longer));
        assertThrows(IllegalArgumentException.class, () -> new Takeover.Filter(2, 2));
        assertThrows(IllegalArgumentException.class, () -> new Takeover.Filter(0, 0));
    }
}
