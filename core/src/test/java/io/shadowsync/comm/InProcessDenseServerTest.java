package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.optim.OptimizerSpec;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InProcessDenseServerTest {
    private static float[] iota(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i;
        return x;
    }

    @Test
    void pullCopiesAndDeltasAdd() throws InterruptedException {
        InProcessDenseServer s = new InProcessDenseServer(iota(10), 3, LinkModel.NONE);
        assertEquals(10, s.size());
        assertEquals(3, s.numShards());
        assertEquals(0, s.shardStart(0));
        assertEquals(3, s.shardStart(1));
        assertEquals(10, s.shardStart(3));
        float[] d = new float[10];
        d[0] = 1;
        d[9] = -2;
        s.pushDelta(d);
        float[] got = new float[10];
        s.pull(got);
        float[] want = iota(10);
        want[0] += 1;
        want[9] -= 2;
        assertArrayEquals(want, got);
        assertEquals(2 * 40, s.bytes());
        assertNull(s.optimizer(0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.pushGradient(new float[10]));
        assertTrue(e.getMessage().contains("without an optimizer"), e.getMessage());
    }

    @Test
    void gradientsGoThroughThePerShardOptimizer() throws InterruptedException {
        InProcessDenseServer s = new InProcessDenseServer(iota(7), 2, OptimizerSpec.of("sgd", 0.5), LinkModel.NONE);
        float[] g = new float[7];
        for (int i = 0; i < 7; i++) g[i] = 2 * i;
        s.pushGradient(g);
        float[] got = new float[7];
        s.pull(got);
        for (int i = 0; i < 7; i++) assertEquals(i - 0.5f * 2 * i, got[i]);
        // momentum state lives per shard and persists across pushes
        InProcessDenseServer m = new InProcessDenseServer(new float[5], 2, OptimizerSpec.of("sgd", 1).withMomentum(0.5),
                LinkModel.NONE);
        float[] ones = {1, 1, 1, 1, 1};
        m.pushGradient(ones);
        m.pushGradient(ones);
        m.pull(got);
        for (int i = 0; i < 5; i++) assertEquals(-1 - 1.5f, got[i]);
        assertEquals(1, m.optimizer(1).state().length);
    }

    @Test
    void concurrentPushesAreNeverLost() throws Exception {
        InProcessDenseServer s = new InProcessDenseServer(new float[10], 3, LinkModel.NONE);
        int threads = 4, pushes = 250;
        float[] ones = new float[10];
        java.util.Arrays.fill(ones, 1f);
        Ranks.runAll(threads, r -> {
            DenseParameterServer c = s.client(EmulatedLink.ideal());
            float[] seen = new float[10];
            for (int k = 0; k < pushes; k++) {
                c.pushDelta(ones);
                c.pull(seen);
            }
            if (c.bytes() != 2L * pushes * 40) throw new AssertionError("client bytes " + c.bytes());
        });
        float[] got = new float[10];
        s.pull(got);
        for (float v : got) assertEquals(threads * pushes, v);
    }

    @Test
    void clientsChargeTheirTrainersLink() throws InterruptedException {
        InProcessDenseServer s = new InProcessDenseServer(new float[8], 2, LinkModel.NONE);
        EmulatedLink trainer = EmulatedLink.ideal();
        DenseParameterServer c = s.client(trainer);
        c.pull(new float[8]);
        assertEquals(32, trainer.bytes());
        assertEquals(4, trainer.messages()); // request and reply to each of 2 shards
        assertEquals(16, s.shardLink(0).bytes());
        assertEquals(32, c.bytes());

        InProcessDenseServer slow = new InProcessDenseServer(new float[8], 2, LinkModel.parse("inf", "5ms"));
        long t0 = System.nanoTime();
        slow.client(EmulatedLink.ideal()).pushDelta(new float[8]);
        long took = System.nanoTime() - t0;
        assertTrue(took >= 10_000_000 && took < 2_000_000_000L, "a round trip of 2 × 5 ms took " + took / 1e6 + " ms");
    }

    @Test
    void loadAndBadArguments() throws InterruptedException {
        InProcessDenseServer s = new InProcessDenseServer(new float[4], 4, LinkModel.NONE);
        s.load(iota(4));
        float[] got = new float[4];
        s.pull(got);
        assertArrayEquals(iota(4), got);
        assertThrows(IllegalArgumentException.class, () -> s.pull(new float[3]));
        assertThrows(IllegalArgumentException.class, () -> s.pushDelta(null));
        assertThrows(IllegalArgumentException.class, () -> new InProcessDenseServer(new float[4], 5, LinkModel.NONE));
        assertThrows(IllegalArgumentException.class, () -> new InProcessDenseServer(new float[0], 1, LinkModel.NONE));
        assertThrows(IllegalArgumentException.class, () -> s.client(null));
    }
}
