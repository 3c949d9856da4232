package io.shadowsync.engine.feed;

import static io.shadowsync.engine.feed.FeederResumeTest.B;
import static io.shadowsync.engine.feed.FeederResumeTest.EPOCHS;
import static io.shadowsync.engine.feed.FeederResumeTest.N;
import static io.shadowsync.engine.feed.FeederResumeTest.W;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.ArraySource;
import io.shadowsync.data.CachedSource;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.SplittableSource;
import io.shadowsync.engine.JobState;
import io.shadowsync.engine.TrainerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link CachedFeeder}: the first pass is dealt by the split, every later one is each worker's contiguous shard in file
 * order (no reader thread); every pass hands out each example exactly once; a checkpoint taken with workers on both
 * sides of the switch resumes to exactly the batches of an uninterrupted run; a copy past its bound streams as a plain
 * {@link BatchFeeder}.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class CachedFeederTest {

    /** Example ids as a splittable source (part k of n: every n-th example). */
    record Ids(DataSource data) implements SplittableSource {
        @Override
        public DataSource share(int index, int count) {
            return new Ids(new EveryNthSource(data, count, index));
        }

        @Override
        public DataSchema schema() {
            return data.schema();
        }

        @Override
        public ExampleReader open() throws IOException {
            return data.open();
        }

        @Override
        public String describe() {
            return "ids";
        }

        @Override
        public String fingerprint() throws IOException {
            return data.fingerprint();
        }
    }

    /** Example ids 0..n−1, kept in memory up to maxBytes. */
    static CachedSource kept(int n, long maxBytes) {
        return new CachedSource(new Ids(ArraySource.counting(n, 3)), maxBytes);
    }

    static CachedSource kept(long maxBytes) {
        return kept(N, maxBytes);
    }

    static CachedFeeder feeder(CachedSource source, DataSplit split, long budget) {
        // queues deep enough for a whole pass: a worker that stops taking early must not hold back the others
        return new CachedFeeder(source, W, B, budget, EPOCHS, split, 5, 16);
    }

    static List<List<List<Integer>>> run(BatchSupply f, int[] max) throws InterruptedException {
        Thread reader = new Thread(f.readerTask());
        reader.start();
        List<List<List<Integer>>> seen = FeederResumeTest.drain(f, max);
        if (max != null) f.stop(); // the checkpoint's process ends here
        reader.join();
        return seen;
    }

    static List<Integer> flat(List<List<Integer>> batches) {
        List<Integer> out = new ArrayList<>();
        for (List<Integer> b : batches) out.addAll(b);
        return out;
    }

    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void laterPassesAreEachWorkersShardAndEveryPassHasEveryExampleOnce(DataSplit split) throws Exception {
        CachedSource source = kept(1 << 20);
        CachedFeeder f = feeder(source, split, 0);
        List<List<List<Integer>>> seen = run(f, null);
        assertTrue(source.cached());
        assertNull(f.failure());
        int[] firstPass = new int[N];
        for (int w = 0; w < W; w++) {
            List<Integer> mine = flat(seen.get(w));
            int lo = N * w / W, hi = N * (w + 1) / W;
            List<Integer> shard = new ArrayList<>();
            for (int i = lo; i < hi; i++) shard.add(i);
            int streamed = mine.size() - (EPOCHS - 1) * shard.size();
            // after the first pass: the shard, in file order, once a pass
            for (int e = 1; e < EPOCHS; e++) {
                int from = streamed + (e - 1) * shard.size();
                assertEquals(shard, mine.subList(from, from + shard.size()), split + ": worker " + w + ", pass " + (e + 1));
            }
            for (int id : mine.subList(0, streamed)) firstPass[id]++;
        }
        for (int i = 0; i < N; i++) assertEquals(1, firstPass[i], split + ": example " + i + " in the first pass");
        assertEquals(EPOCHS, f.epochsStarted());
    }

    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void aResumeOnEitherSideOfTheSwitchDealsTheSameBatches(DataSplit split) throws Exception {
        List<List<List<Integer>>> whole = run(feeder(kept(1 << 20), split, 0), null);
        // a pass is 4-5 batches a worker: worker 0 still in the first pass, worker 1 in its shard, worker 2 in the third pass
        for (int[] cut : new int[][] {{3, 7, 11}, {6, 6, 6}, {1, 12, 0}}) {
            CachedFeeder first = feeder(kept(1 << 20), split, 0);
            List<List<List<Integer>>> before = run(first, cut);
            JobState.StreamPosition pos = assertInstanceOf(JobState.StreamPosition.class, first.position());
            long taken = 0;
            for (int w = 0; w < W; w++) taken += flat(before.get(w)).size();
            assertEquals(taken, pos.examples());

            // a new process: the copy is filled again by re-reading the data
            CachedFeeder second = feeder(kept(1 << 20), split, 0);
            second.restore(pos);
            List<List<List<Integer>>> after = run(second, null);
            for (int w = 0; w < W; w++) {
                List<List<Integer>> joined = new ArrayList<>(before.get(w));
                joined.addAll(after.get(w));
                assertEquals(whole.get(w), joined, split + ", cut " + java.util.Arrays.toString(cut) + ": worker " + w + "'s batches");
            }
            assertEquals(EPOCHS, second.epochsStarted());
        }
    }

    @Test
    void theExampleBudgetSpansTheSwitchAndAResume() throws Exception {
        List<List<List<Integer>>> whole = run(feeder(kept(1 << 20), DataSplit.RANDOM, 250), null);
        long all = 0;
        for (List<List<Integer>> w : whole) all += flat(w).size();
        assertEquals(250, all);
        CachedFeeder first = feeder(kept(1 << 20), DataSplit.RANDOM, 250);
        List<List<List<Integer>>> before = run(first, new int[] {2, 8, 5});
        CachedFeeder second = feeder(kept(1 << 20), DataSplit.RANDOM, 250);
        second.restore(first.position());
        List<List<List<Integer>>> after = run(second, null);
        for (int w = 0; w < W; w++) {
            List<List<Integer>> joined = new ArrayList<>(before.get(w));
            joined.addAll(after.get(w));
            assertEquals(whole.get(w), joined, "worker " + w + "'s batches");
        }
    }

    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void aCopyPastItsBoundStreamsAsABatchFeederDoes(DataSplit split) throws Exception {
        // the bound is checked every 4,096 examples
        CachedSource tooSmall = kept(5000, 1000);
        List<List<List<Integer>>> seen = run(feeder(tooSmall, split, 0), null);
        assertFalse(tooSmall.cached());
        assertTrue(tooSmall.abandoned());
        BatchFeeder plain = new BatchFeeder(ArraySource.counting(5000, 3), W, B, 0, EPOCHS, split, 5, 16);
        assertEquals(run(plain, null), seen);
    }

    @Test
    void ofTrainerReplaysKeptDataInShards() {
        TrainerConfig c = new TrainerConfig(W, B, 0, EPOCHS, DataSplit.ROUND_ROBIN, 1, 4, 1000, false, 0, 1);
        assertInstanceOf(CachedFeeder.class, BatchSupply.ofTrainer(kept(1 << 20), c, 0, 1));
        assertInstanceOf(CachedFeeder.class, BatchSupply.ofTrainer(kept(1 << 20), c, 1, 2), "a trainer's input split, kept");
    }
}
