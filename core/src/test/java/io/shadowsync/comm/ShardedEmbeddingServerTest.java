package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ShardedEmbeddingServerTest {
    private static final long[][] SHAPES = {{10, 3}, {7, 2}};
    private static final float[] STDS = {0.1f, 0.2f};

    private static float[] whole(ShardedEmbeddingServer s, int t) {
        float[] w = new float[(int) (s.rows(t) * s.dim(t))];
        s.copyTable(t, w);
        return w;
    }

    @Test
    void startsWithTheLocalStoresValuesForAnyShardCount() {
        LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 42, new EmbeddingOptimizerSpec("sgd", 0.1));
        for (int shards : new int[] {1, 3, 8}) {
            ShardedEmbeddingServer s = new ShardedEmbeddingServer(SHAPES, STDS, 42, new EmbeddingOptimizerSpec("sgd", 0.1),
                    shards, LinkModel.NONE);
            for (int t = 0; t < 2; t++) assertArrayEquals(local.table(t), whole(s, t), "shards " + shards + " table " + t);
        }
    }

    @Test
    void pullsAndPushesMatchTheLocalStoreRowForRow() {
        for (String opt : new String[] {"sgd", "rowwise-adagrad"}) {
            for (int shards : new int[] {1, 3}) {
                EmbeddingOptimizerSpec spec = new EmbeddingOptimizerSpec(opt, 0.3);
                LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 7, spec);
                ShardedEmbeddingServer server = new ShardedEmbeddingServer(SHAPES, STDS, 7, spec, shards, LinkModel.NONE);
                EmbeddingStore remote = server.client(EmulatedLink.ideal());
                assertEquals(2, remote.numTables());
                assertEquals(7, remote.rows(1));
                assertEquals(3, remote.dim(0));
                SplittableRandom rng = new SplittableRandom(shards);
                for (int step = 0; step < 50; step++) {
                    int t = step % 2, dim = local.dim(t), n = 1 + rng.nextInt(6);
                    int[] ids = new int[n + 1];
                    for (int j = 0; j < ids.length; j++) ids[j] = rng.nextInt((int) local.rows(t));
                    ids[n] = ids[1 % n]; // a duplicate, applied twice
                    float[] grads = new float[2 + (n + 1) * dim];
                    for (int j = 0; j < grads.length; j++) grads[j] = (float) rng.nextGaussian();
                    local.push(t, ids, 0, n + 1, grads, 2);
                    remote.push(t, ids, 0, n + 1, grads, 2);
                    float[] a = new float[1 + n * dim], b = new float[1 + n * dim];
                    local.pull(t, ids, 1, n, a, 1);
                    remote.pull(t, ids, 1, n, b, 1);
                    assertArrayEquals(a, b, opt + " shards " + shards + " step " + step);
                }
                for (int t = 0; t < 2; t++) assertArrayEquals(local.table(t), whole(server, t), opt + " shards " + shards);
            }
        }
    }

    @Test
    void rowsLiveOnShardRModS() {
        ShardedEmbeddingServer s = new ShardedEmbeddingServer(SHAPES, STDS, 1, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1),
                3, LinkModel.NONE);
        assertEquals(3, s.numShards());
        float[] w = whole(s, 0);
        assertEquals(4 * 3, s.slice(0, 0).length); // rows 0, 3, 6, 9
        assertEquals(3 * 3, s.slice(2, 0).length); // rows 2, 5, 8
        assertEquals(w[5 * 3 + 1], s.slice(2, 0)[3 + 1]); // row 5 is shard 2's local row 1
        assertEquals(4, s.optimizer(0, 0).state().length);
        ShardedEmbeddingServer wide = new ShardedEmbeddingServer(SHAPES, STDS, 1, new EmbeddingOptimizerSpec("sgd", 0.1),
                8, LinkModel.NONE);
        assertEquals(0, wide.slice(7, 1).length); // table 1 has 7 rows: shard 7 holds none of them
        assertNull(wide.optimizer(7, 1));
    }

    @Test
    void countsOneRoundTripPerShardTouched() {
        ShardedEmbeddingServer s = new ShardedEmbeddingServer(SHAPES, STDS, 1, new EmbeddingOptimizerSpec("sgd", 0.1),
                3, LinkModel.NONE);
        EmulatedLink trainer = EmulatedLink.ideal();
        EmbeddingStore c = s.client(trainer);
        c.pull(0, new int[] {0, 3, 4}, 0, 3, new float[9], 0); // shards 0, 0, 1
        assertEquals(3 * (4 + 12), trainer.bytes());
        assertEquals(4, trainer.messages()); // a request and a reply per shard touched
        assertEquals(2 * 16, s.shardLink(0).bytes());
        assertEquals(16, s.shardLink(1).bytes());
        assertEquals(0, s.shardLink(2).messages());
        c.push(1, new int[] {2}, 0, 1, new float[2], 0);
        assertEquals(3 * 16 + 4 + 8, trainer.bytes());
        assertEquals(3 * 16 + 12, s.bytes());
    }

    @Test
    void aRoundTripCostsTwoLatencies() {
        ShardedEmbeddingServer s = new ShardedEmbeddingServer(SHAPES, STDS, 1, new EmbeddingOptimizerSpec("sgd", 0.1),
                2, LinkModel.parse("inf", "5ms"));
        EmbeddingStore c = s.client(EmulatedLink.ideal());
        long t0 = System.nanoTime();
        c.pull(0, new int[] {0, 1, 2}, 0, 3, new float[9], 0);
        long took = System.nanoTime() - t0;
        assertTrue(took >= 10_000_000, "took " + took / 1e6 + " ms");
        assertTrue(took < 2_000_000_000L, "took " + took / 1e6 + " ms");
    }

    @Test
    void loadTableRoundTripsAndBadInputIsRefused() {
        ShardedEmbeddingServer s = new ShardedEmbeddingServer(SHAPES, STDS, 1, new EmbeddingOptimizerSpec("sgd", 0.1),
                3, LinkModel.NONE);
        float[] w = new float[14];
        for (int i = 0; i < w.length; i++) w[i] = i;
        s.loadTable(1, w);
        assertArrayEquals(w, whole(s, 1));
        EmbeddingStore c = s.client(EmulatedLink.ideal());
        assertThrows(IllegalArgumentException.class, () -> c.pull(0, new int[] {10}, 0, 1, new float[3], 0));
        assertThrows(IllegalArgumentException.class, () -> c.push(1, new int[] {-1}, 0, 1, new float[2], 0));
        assertThrows(IllegalArgumentException.class, () -> c.pull(2, new int[] {0}, 0, 1, new float[3], 0));
        assertThrows(IllegalArgumentException.class, () -> s.loadTable(0, new float[29]));
        assertThrows(IllegalArgumentException.class, () -> s.client(null));
        assertThrows(IllegalArgumentException.class, () -> new ShardedEmbeddingServer(SHAPES, STDS, 1,
                new EmbeddingOptimizerSpec("sgd", 0.1), 0, LinkModel.NONE));
        assertThrows(IllegalArgumentException.class, () -> new ShardedEmbeddingServer(new long[][] {{1L << 32, 1}},
                new float[] {0}, 1, new EmbeddingOptimizerSpec("sgd", 0.1), 4, LinkModel.NONE));
    }
}
