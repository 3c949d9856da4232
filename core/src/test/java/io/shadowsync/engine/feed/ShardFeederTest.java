package io.shadowsync.engine.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.shadowsync.data.ArraySource;
import io.shadowsync.data.Batch;
import io.shadowsync.data.InMemorySource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardFeederTest {
    private static List<Integer> drain(ShardFeeder f, int w) {
        List<Integer> seen = new ArrayList<>();
        for (Batch b = f.take(w); b != BatchSupply.END; b = f.take(w)) {
            for (int i = 0; i < b.size; i++) seen.add((int) b.dense[i]);
            f.recycle(w, b);
        }
        return seen;
    }

    @Test
    void workersReadContiguousShardsForEveryEpoch() throws Exception {
        InMemorySource mem = InMemorySource.load(ArraySource.counting(10, 2));
        ShardFeeder f = new ShardFeeder(mem, 2, 3, 0, 2);
        assertEquals(List.of(0, 1, 2, 3, 4, 0, 1, 2, 3, 4), drain(f, 0));
        assertEquals(List.of(5, 6, 7, 8, 9, 5, 6, 7, 8, 9), drain(f, 1));
        assertEquals(2, f.epochsStarted());
    }

    @Test
    void exampleBudgetIsSplitEvenly() throws Exception {
        InMemorySource mem = InMemorySource.load(ArraySource.counting(100, 2));
        ShardFeeder f = new ShardFeeder(mem, 3, 8, 101, 0);
        assertEquals(34, drain(f, 0).size());
        assertEquals(34, drain(f, 1).size());
        assertEquals(33, drain(f, 2).size());
    }

    @Test
    void stopEndsAtOnce() throws Exception {
        ShardFeeder f = new ShardFeeder(InMemorySource.load(ArraySource.counting(100, 2)), 1, 8, 0, 5);
        f.take(0);
        f.stop();
        assertSame(BatchSupply.END, f.take(0));
    }

    @Test
    void inMemoryCopyMatchesTheStreamingReader() throws Exception {
        ArraySource src = ArraySource.counting(37, 3);
        InMemorySource mem = InMemorySource.load(src);
        Batch a = new Batch(37, src.schema()), b = new Batch(37, src.schema());
        try (var r = src.open()) {
            while (r.readInto(a)) {
                // all
            }
        }
        mem.copyInto(0, 37, b);
        assertEquals(37, b.size);
        for (int i = 0; i < 37; i++) {
            assertEquals(a.labels[i], b.labels[i]);
            assertEquals(a.dense[i], b.dense[i]);
        }
    }
}
