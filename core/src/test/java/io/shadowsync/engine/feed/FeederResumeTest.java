package io.shadowsync.engine.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shadowsync.data.ArraySource;
import io.shadowsync.data.Batch;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.JobState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A feeder stopped after each worker took some batches, and a new feeder restored from its position, together hand
 * every worker exactly the batches (the same examples, in the same order, with the same boundaries) that one
 * uninterrupted feeder hands it — across epoch boundaries, for every split, streamed and in memory.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class FeederResumeTest {
    static final int N = 103, W = 3, B = 8, EPOCHS = 3;

    /** Worker w's batches, as lists of example ids, up to max batches (all when max < 0). */
    static List<List<Integer>> batches(BatchSupply f, int w, int max) throws InterruptedException {
        List<List<Integer>> out = new ArrayList<>();
        while (max < 0 || out.size() < max) {
            Batch b = f.take(w);
            if (b == BatchSupply.END) break;
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < b.size; i++) ids.add((int) b.dense[i]);
            out.add(ids);
            f.recycle(w, b);
        }
        return out;
    }

    /** Every worker's batches, each worker on its own thread (a streamed feeder's queues are bounded). */
    static List<List<List<Integer>>> drain(BatchSupply f, int[] max) throws InterruptedException {
        List<List<List<Integer>>> seen = new ArrayList<>();
        Thread[] threads = new Thread[W];
        for (int w = 0; w < W; w++) {
            List<List<Integer>> mine = new ArrayList<>();
            seen.add(mine);
            int ww = w;
            threads[w] = new Thread(() -> {
                try {
                    mine.addAll(batches(f, ww, max == null ? -1 : max[ww]));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads[w].start();
        }
        for (Thread t : threads) t.join();
        return seen;
    }

    static BatchFeeder streamed(DataSplit split, long budget) {
        // queues deep enough for every batch: a worker that stops taking early must not hold back the others
        return new BatchFeeder(ArraySource.counting(N, 3), W, B, budget, EPOCHS, split, 5, 16);
    }

    static List<List<List<Integer>>> run(BatchFeeder f, int[] max) throws InterruptedException {
        Thread reader = new Thread(f);
        reader.start();
        List<List<List<Integer>>> seen = drain(f, max);
        if (max != null) f.stop(); // the checkpoint's process ends here
        reader.join();
        return seen;
    }

    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void streamedResumeDealsTheSameBatches(DataSplit split) throws Exception {
        List<List<List<Integer>>> whole = run(streamed(split, 0), null);
        // workers at different places: worker 2 already in the second epoch, worker 0 still in the first
        int[] cut = {3, 5, 6};
        BatchFeeder first = streamed(split, 0);
        List<List<List<Integer>>> before = run(first, cut);
        JobState.StreamPosition pos = assertInstanceOf(JobState.StreamPosition.class, first.position());
        long taken = 0; // batches are short at an epoch's end
        for (List<List<Integer>> w : before) for (List<Integer> b : w) taken += b.size();
        assertEquals(taken, pos.examples());

        BatchFeeder second = streamed(split, 0);
        second.restore(pos);
        List<List<List<Integer>>> after = run(second, null);
        for (int w = 0; w < W; w++) {
            List<List<Integer>> joined = new ArrayList<>(before.get(w));
            joined.addAll(after.get(w));
            assertEquals(whole.get(w), joined, split + ": worker " + w + "'s batches");
        }
        assertEquals((long) N * EPOCHS, second.examplesRead());
        assertEquals(EPOCHS, second.epochsStarted());
    }

    @Test
    void streamedResumeHonoursTheExampleBudget() throws Exception {
        BatchFeeder first = streamed(DataSplit.ROUND_ROBIN, 250);
        run(first, new int[] {2, 2, 2});
        BatchFeeder second = streamed(DataSplit.ROUND_ROBIN, 250);
        second.restore(first.position());
        List<List<List<Integer>>> after = run(second, null);
        long rest = 0;
        for (List<List<Integer>> w : after) for (List<Integer> b : w) rest += b.size();
        assertEquals(250 - 6 * B, rest);
    }

    @Test
    void aPositionOfTheOtherKindIsRefused() {
        BatchFeeder f = streamed(DataSplit.ROUND_ROBIN, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.restore(new JobState.ShardPosition(new long[W])));
        assertEquals(true, e.getMessage().contains("in memory"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void inMemoryResumeDealsTheSameBatches(boolean shuffle) throws Exception {
        InMemorySource mem = InMemorySource.load(ArraySource.counting(N, 2));
        List<List<List<Integer>>> whole = drain(new ShardFeeder(mem, 0, N, W, B, 0, EPOCHS, shuffle, 9), null);
        ShardFeeder first = new ShardFeeder(mem, 0, N, W, B, 0, EPOCHS, shuffle, 9);
        int[] cut = {1, 6, 9};
        List<List<List<Integer>>> before = drain(first, cut);
        JobState.DataPosition pos = first.position();
        ShardFeeder second = new ShardFeeder(mem, 0, N, W, B, 0, EPOCHS, shuffle, 9);
        second.restore(pos);
        List<List<List<Integer>>> after = drain(second, null);
        for (int w = 0; w < W; w++) {
            List<List<Integer>> joined = new ArrayList<>(before.get(w));
            joined.addAll(after.get(w));
            assertEquals(whole.get(w), joined, "shuffle " + shuffle + ": worker " + w + "'s batches");
        }
        assertEquals(first.epochsStarted() <= second.epochsStarted(), true);
        assertEquals(EPOCHS, second.epochsStarted());
    }
}
