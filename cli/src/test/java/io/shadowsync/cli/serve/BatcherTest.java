package io.shadowsync.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shadowsync.api.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class BatcherTest {
    /**
     * Five examples queued before a batch closes make one call, and the i-th score goes back to the i-th submitter
     * (a batcher that answered in another order, or dropped the last partial batch, fails it).
     */
    @Test
    void gathersUpToMaxBatchAndRoutesEachScoreBack() throws Exception {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        // the score of an example is its first feature times 10: each answer says which example it belongs to
        Batcher b = new Batcher(xs -> {
            sizes.add(xs.size());
            float[][] out = new float[xs.size()][];
            for (int i = 0; i < out.length; i++) out[i] = new float[] {xs.get(i).dense()[0] * 10};
            return out;
        }, 4, 1_000_000_000L, 1);
        List<CompletableFuture<float[]>> fs = new ArrayList<>();
        for (int i = 0; i < 6; i++) fs.add(b.submit(Example.ofDense(i)));
        for (int i = 0; i < 6; i++) assertEquals(i * 10f, fs.get(i).get()[0]);
        b.stop();
        // 6 examples, batches of at most 4: the first closes full at 4; the rest (2) close after the wait
        assertEquals(List.of(4, 2), sizes);
        assertEquals(2, b.forwardCalls());
        assertEquals(6, b.examples());
    }

    @Test
    void aFailingForwardFailsEveryRequestOfItsBatch() throws Exception {
        Batcher b = new Batcher(xs -> {
            throw new IllegalArgumentException("boom");
        }, 4, 0, 1);
        CompletableFuture<float[]> f = b.submit(Example.ofDense(1));
        assertEquals("boom", org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class, f::get).getCause().getMessage());
        b.stop();
    }
}
