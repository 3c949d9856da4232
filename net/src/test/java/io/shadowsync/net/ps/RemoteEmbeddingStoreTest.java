package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemoteEmbeddingStoreTest {
    /** Dims 3 and 8 (the SIMD row update) and a table with fewer rows than some shard counts. */
    private static final long[][] SHAPES = {{50, 3}, {23, 8}, {2, 4}};
    private static final float[] STDS = {0.1f, 0.2f, 0.5f};
    private static final Transport LOOPBACK = new Transport(NetConfig.LOOPBACK);

    private static PsShardSpec spec(EmbeddingOptimizerSpec opt, int shards) {
        return new PsShardSpec(SHAPES, STDS, 42, opt, null, null, 0, shards);
    }

    /** Shard counts to compare, and a row cap per request: 4 splits pulls, pushes and export pages into chunks. */
    private static final int[][] LAYOUTS = {{1, PsShardSpec.DEFAULT_MAX_ROWS_PER_REQUEST}, {2, PsShardSpec.DEFAULT_MAX_ROWS_PER_REQUEST},
            {3, PsShardSpec.DEFAULT_MAX_ROWS_PER_REQUEST}, {2, 4}};

    @Test
    void pullsAndPushesGiveTheLocalStoresBitsForAnyShardCount() throws Exception {
        for (String name : new String[] {"sgd", "rowwise-adagrad"}) {
            for (int[] layout : LAYOUTS) {
                int shards = layout[0];
                EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec(name, 0.3);
                LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 42, opt);
                PsShardSpec spec = new PsShardSpec(SHAPES, STDS, 42, opt, null, null, 0, shards, layout[1]);
                try (Nodes nodes = new Nodes(LOOPBACK, spec);
                     RemoteEmbeddingStore remote = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
                    assertEquals(3, remote.numTables());
                    assertEquals(23, remote.rows(1));
                    assertEquals(8, remote.dim(1));
                    float[][] initial = remote.exportTables();
                    for (int t = 0; t < SHAPES.length; t++) {
                        assertArrayEquals(local.table(t), initial[t], name + " S=" + shards + "/cap " + layout[1] + " initial table " + t);
                    }
                    SplittableRandom rng = new SplittableRandom(shards);
                    for (int step = 0; step < 16; step++) {
                        boolean batched = step % 2 == 1;
                        if (batched) {
                            local.beginStep();
                            remote.beginStep();
                        }
                        for (int t = 0; t < SHAPES.length; t++) {
                            int dim = local.dim(t), n = 1 + rng.nextInt(7);
                            int[] ids = new int[n + 2];
                            for (int j = 0; j < ids.length; j++) ids[j] = rng.nextInt((int) local.rows(t));
                            ids[n + 1] = ids[1]; // a duplicate: pulled twice, pushed twice one after the other
                            float[] a = new float[1 + (n + 1) * dim], b = new float[1 + (n + 1) * dim];
                            local.pull(t, ids, 1, n + 1, a, 1);
                            remote.pull(t, ids, 1, n + 1, b, 1);
                            assertArrayEquals(a, b, name + " S=" + shards + "/cap " + layout[1] + " step " + step + " pull of table " + t);
                            float[] grads = new float[3 + (n + 1) * dim];
                            for (int j = 0; j < grads.length; j++) grads[j] = (float) rng.nextGaussian();
                            local.push(t, ids, 1, n + 1, grads, 3);
                            remote.push(t, ids, 1, n + 1, grads, 3);
                        }
                        if (batched) {
                            local.endStep();
                            remote.endStep();
                        }
                    }
                    float[][] all = remote.exportTables();
                    for (int t = 0; t < SHAPES.length; t++) {
                        assertArrayEquals(local.table(t), all[t], name + " S=" + shards + "/cap " + layout[1] + " final table " + t);
                    }
                    long pushed = 0;
                    for (PsServer ps : nodes.servers) pushed += ps.rowsPushed();
                    assertEquals(remote.rowsPushed(), pushed);
                    assertTrue(pushed > 0);
                }
            }
        }
    }

    @Test
    void aStepSendsItsPrefetchedPullsAndItsPushesInOneRequestPerShard() throws Exception {
        EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec("rowwise-adagrad", 0.2);
        LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 42, opt);
        try (Nodes nodes = new Nodes(LOOPBACK, spec(opt, 2));
             RemoteEmbeddingStore remote = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            int[][] ids = {{0, 1, 2, 3, 1}, {4, 5, 22}, {0, 1}};
            SplittableRandom rng = new SplittableRandom(3);
            for (int step = 0; step < 3; step++) {
                long before = remote.requests();
                remote.beginStep();
                for (int t = 0; t < 3; t++) remote.prefetch(t, ids[t], 0, ids[t].length);
                assertEquals(before, remote.requests(), "announcing sends nothing");
                for (int t = 0; t < 3; t++) {
                    int dim = SHAPES[t][1] > 0 ? (int) SHAPES[t][1] : 0, n = ids[t].length;
                    float[] a = new float[n * dim], b = new float[n * dim];
                    local.pull(t, ids[t], 0, n, a, 0);
                    remote.pull(t, ids[t], 0, n, b, 0);
                    assertArrayEquals(a, b, "step " + step + " table " + t);
                }
                assertEquals(before + 2, remote.requests(), "three tables' pulls: one request to each of 2 shards");
                for (int t = 0; t < 3; t++) {
                    int dim = (int) SHAPES[t][1], n = ids[t].length;
                    float[] g = new float[n * dim];
                    for (int j = 0; j < g.length; j++) g[j] = (float) rng.nextGaussian();
                    local.push(t, ids[t], 0, n, g, 0);
                    remote.push(t, ids[t], 0, n, g, 0);
                }
                assertEquals(before + 2, remote.requests(), "pushes wait for the end of the step");
                remote.endStep();
                assertEquals(before + 4, remote.requests(), "three tables' pushes: one request to each of 2 shards");
            }
            float[][] all = remote.exportTables();
            for (int t = 0; t < 3; t++) assertArrayEquals(local.table(t), all[t], "table " + t);
            assertEquals(0, remote.nonFiniteRowsDropped());
        }
    }

    @Test
    void concurrentWorkersOnDisjointRowsEndWhereOneLocalStoreWould() throws Exception {
        EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec("sgd", 0.1);
        long[][] shapes = {{64, 8}};
        PsShardSpec spec = new PsShardSpec(shapes, new float[] {0.1f}, 9, opt, null, null, 0, 2);
        LocalEmbeddingStore local = new LocalEmbeddingStore(shapes, new float[] {0.1f}, 9, opt);
        int threads = 4, steps = 30;
        try (Nodes nodes = new Nodes(LOOPBACK, spec);
             RemoteEmbeddingStore shared = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses);
             RemoteEmbeddingStore other = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            Thread[] workers = new Thread[threads];
            Throwable[] failures = new Throwable[threads];
            for (int w = 0; w < threads; w++) {
                final int me = w;
                RemoteEmbeddingStore store = w % 2 == 0 ? shared : other; // two clients, two threads each
                workers[w] = new Thread(() -> {
                    try {
                        work(store, me, threads, steps);
                    } catch (Throwable e) {
                        failures[me] = e;
                    }
                }, "test-worker-" + w);
                workers[w].start();
            }
            for (Thread t : workers) t.join(30_000);
            for (int w = 0; w < threads; w++) {
                if (failures[w] != null) throw new AssertionError("worker " + w + " failed", failures[w]);
                work(local, w, threads, steps); // the same updates, one worker after the other
            }
            assertArrayEquals(local.table(0), shared.exportTables()[0]);
        }
    }

    /** Worker me's updates: rows ≡ me (mod workers), each row its own sequence of gradients. */
    private static void work(io.shadowsync.nn.EmbeddingStore store, int me, int workers, int steps) {
        SplittableRandom rng = new SplittableRandom(100 + me);
        int[] ids = new int[6];
        float[] rows = new float[6 * 8], grads = new float[6 * 8];
        for (int step = 0; step < steps; step++) {
            for (int j = 0; j < ids.length; j++) ids[j] = me + workers * rng.nextInt(64 / workers);
            store.beginStep();
            store.pull(0, ids, 0, ids.length, rows, 0);
            for (int k = 0; k < grads.length; k++) grads[k] = rows[k] * 0.5f + (float) rng.nextGaussian();
            store.push(0, ids, 0, ids.length, grads, 0);
            store.endStep();
        }
    }

    @Test
    void aStoppedShardIsReportedByNameWithinSeconds() throws Exception {
        EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec("sgd", 0.1);
        try (Nodes nodes = new Nodes(LOOPBACK, spec(opt, 2));
             RemoteEmbeddingStore remote = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            float[] out = new float[3 * 2];
            remote.pull(0, new int[] {0, 1}, 0, 2, out, 0);
            nodes.get(1).close();
            long t0 = System.nanoTime();
            ParameterServerException e = assertThrows(ParameterServerException.class,
                    () -> remote.pull(0, new int[] {0, 1}, 0, 2, out, 0));
            double seconds = (System.nanoTime() - t0) / 1e9;
            String expect = "parameter server shard 1 (" + nodes.addresses.get(1) + ") is unreachable";
            assertTrue(e.getMessage().startsWith(expect), e.getMessage());
            assertEquals(1, e.shard());
            assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.code());
            assertTrue(seconds < 10, "reported after " + seconds + " s");
            float[] g = new float[3];
            ParameterServerException p = assertThrows(ParameterServerException.class,
                    () -> remote.push(0, new int[] {3}, 0, 1, g, 0));
            assertTrue(p.getMessage().startsWith(expect), p.getMessage());
            remote.pull(0, new int[] {0, 2}, 0, 2, out, 0); // shard 0 still answers
        }
    }

    @Test
    void serversListedOutOfShardOrderAreRefusedAtConnection() throws Exception {
        EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec("sgd", 0.1);
        try (Nodes nodes = new Nodes(LOOPBACK, spec(opt, 2))) {
            java.util.List<io.shadowsync.net.HostPort> reversed = java.util.List.of(nodes.addresses.get(1), nodes.addresses.get(0));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> RemoteEmbeddingStore.connect(LOOPBACK, reversed));
            assertTrue(e.getMessage().contains("in shard order"), e.getMessage());
            IllegalStateException f = assertThrows(IllegalStateException.class,
                    () -> RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses.subList(0, 1)));
            assertTrue(f.getMessage().contains("is shard 0 of 2"), f.getMessage());
        }
    }

    @Test
    void theModelFileHoldsTheServersRows() throws Exception {
        EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec("sgd", 0.1);
        LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 42, opt);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("ps-model");
        try (Nodes nodes = new Nodes(LOOPBACK, spec(opt, 3));
             RemoteEmbeddingStore remote = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            float[] g = new float[8 * 2];
            java.util.Arrays.fill(g, 1f);
            local.push(1, new int[] {5, 7}, 0, 2, g, 0);
            remote.push(1, new int[] {5, 7}, 0, 2, g, 0);
            java.nio.file.Path viaSnapshot = dir.resolve("a.model"), viaPulls = dir.resolve("b.model");
            io.shadowsync.ckpt.ModelFile.write(viaSnapshot, java.util.Map.of(), java.util.Map.of(), new float[] {1f}, remote.snapshot());
            io.shadowsync.ckpt.ModelFile.write(viaPulls, java.util.Map.of(), java.util.Map.of(), new float[] {1f}, remote);
            for (java.nio.file.Path p : new java.nio.file.Path[] {viaSnapshot, viaPulls}) {
                io.shadowsync.ckpt.ModelFile.Contents c = io.shadowsync.ckpt.ModelFile.read(p);
                for (int t = 0; t < SHAPES.length; t++) {
                    assertArrayEquals(SHAPES[t], c.tableShapes()[t]);
                    assertArrayEquals(local.table(t), c.tables()[t], p + " table " + t);
                }
            }
            assertThrows(UnsupportedOperationException.class, () -> remote.snapshot().push(0, new int[] {0}, 0, 1, g, 0));
        } finally {
            try (var files = java.nio.file.Files.list(dir)) {
                for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) files::iterator) java.nio.file.Files.delete(p);
            }
            java.nio.file.Files.delete(dir);
        }
    }

    @Test
    void nonFiniteGradientRowsAreDroppedAndCounted() throws Exception {
        EmbeddingOptimizerSpec opt = new EmbeddingOptimizerSpec("sgd", 0.5);
        LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 42, opt);
        try (Nodes nodes = new Nodes(LOOPBACK, spec(opt, 2));
             RemoteEmbeddingStore remote = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            float[] g = {1, 2, 3, 4, Float.NaN, 6, 7, 8, 9};
            remote.push(0, new int[] {1, 2, 3}, 0, 3, g, 0);
            local.push(0, new int[] {1, 3}, 0, 2, new float[] {1, 2, 3, 7, 8, 9}, 0);
            assertEquals(1, remote.nonFiniteRowsDropped());
            // finite but beyond what the servers take: dropped too, instead of a refusal that would end the job
            remote.push(0, new int[] {4, 5}, 0, 2, new float[] {1, 1, 1, 0, 3e38f, 0}, 0);
            local.push(0, new int[] {4}, 0, 1, new float[] {1, 1, 1}, 0);
            assertEquals(2, remote.nonFiniteRowsDropped());
            assertArrayEquals(local.table(0), remote.exportTables()[0]);
            assertThrows(IllegalArgumentException.class, () -> remote.pull(0, new int[] {50}, 0, 1, new float[3], 0));
            assertThrows(IllegalArgumentException.class, () -> remote.push(3, new int[] {0}, 0, 1, new float[3], 0));
        }
    }
}
