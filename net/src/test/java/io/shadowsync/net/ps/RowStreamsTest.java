package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The streamed data plane of {@link RemoteEmbeddingStore}: the staleness that looking a step ahead allows (exactly one
 * step), pushes sent without waiting yet bounded and flushed, order on a lane's stream, and failover of pushes still
 * in flight when a primary dies.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RowStreamsTest {
    /** One table of 8 rows × 2, zeros, SGD at lr 1: a push of −g adds g. Row r on shard r mod S. */
    private static final long[][] SHAPES = {{8, 2}};
    private static final Transport LOOPBACK = new Transport(NetConfig.LOOPBACK.withCallDeadline(Duration.ofSeconds(5)));

    private static PsShardSpec spec(int shards) {
        return new PsShardSpec(SHAPES, new float[] {0f}, 7, new EmbeddingOptimizerSpec("sgd", 1.0), new float[4], null, 0, shards);
    }

    /** S nodes with R replicas each; peers connected only when {@code connect} (a primary's first push waits for it). */
    private static List<PsServer> start(int shards, int replicas, boolean connect, List<HostPort> addresses) throws IOException {
        List<PsServer> nodes = new ArrayList<>();
        try {
            for (int s = 0; s < shards; s++) {
                PsServer ps = PsServer.start(LOOPBACK, 0, spec(shards).forShard(s), replicas);
                nodes.add(ps);
                addresses.add(new HostPort("127.0.0.1", ps.port()));
            }
            if (connect) for (PsServer ps : nodes) ps.connectReplicas(addresses);
            return nodes;
        } catch (IOException | RuntimeException e) {
            for (PsServer ps : nodes) ps.crash();
            throw e;
        }
    }

    private static void stop(List<PsServer> nodes) {
        for (PsServer ps : nodes) ps.crash();
    }

    /**
     * Step k pulls row 5 (announced for it during step k−1, as a worker announces its next batch) and pushes 2^k to
     * it. The value it pulls must be the sum of the pushes of steps 0 .. k−2: every push up to the step before last
     * (so the staleness never exceeds one step), and not step k−1's, which went out after the rows were requested.
     * Each push is a distinct bit, so the value names exactly which pushes a pull saw. Every mode, and the streams'
     * modes with the nodes in this JVM ({@link DirectWire}: a direct path that read the rows when they are pulled
     * instead of when they were requested would see step k−1's push too).
     */
    @Test
    void rowsAnnouncedAStepAheadHoldEveryPushButThePreviousSteps() throws Exception {
        for (RemoteEmbeddingStore.Calls mode : RemoteEmbeddingStore.Calls.values()) for (boolean inJvm : new boolean[] {false, true}) {
            if (inJvm && mode == RemoteEmbeddingStore.Calls.UNARY) continue; // unary calls always leave the JVM
            String what = mode + (inJvm ? " to nodes in this JVM (DirectWire)" : "");
            List<HostPort> addresses = new ArrayList<>();
            List<PsServer> nodes = start(2, 1, false, addresses);
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, addresses, false, mode, RowCodec.FLOAT32,
                    inJvm ? nodes : List.of())) {
                assertEquals(inJvm ? List.of(0, 1) : List.of(), store.nodesInJvm(), what);
                int[] ids = {5, 2}; // both shards
                float[] rows = new float[4];
                long requestsBefore = 0;
                for (int k = 0; k < 12; k++) {
                    store.beginStep();
                    store.prefetchNext(0, ids, 0, 2);
                    if (k > 0) store.prefetch(0, ids, 0, 2); // the model announces its own step's rows again
                    if (k > 1) requestsBefore = store.requests();
                    store.pull(0, ids, 0, 2, rows, 0);
                    float expect = k < 2 ? 0f : (1 << (k - 1)) - 1; // 2^0 + ... + 2^(k-2)
                    assertEquals(expect, rows[0], what + " step " + k + ": row 5 holds the pushes of steps 0.." + (k - 2));
                    assertEquals(expect, rows[2], what + " step " + k + ": row 2 (the other shard) likewise");
                    if (k > 1) {
                        assertEquals(requestsBefore + 2, store.requests(), what + " step " + k
                                + ": the pull is served from the rows requested a step ahead; only the next step's go out");
                    }
                    float g = -(float) (1 << k);
                    store.push(0, ids, 0, 2, new float[] {g, g, g, g}, 0);
                    store.endStep();
                }
                store.flush();
                float[] now = new float[2];
                store.pull(0, new int[] {5}, 0, 1, now, 0);
                assertEquals((1 << 12) - 1, now[0], what + ": after the flush every push is applied");
                if (inJvm) assertEquals(0, nodes.get(0).lane().connections() + nodes.get(1).lane().connections(), what + ": no lane was opened");
            } finally {
                stop(nodes);
            }
        }
    }

    /**
     * A replicated push is acknowledged only once the backup has it, and a primary that does not know its peers yet
     * holds its answer back (bounded): so the push of a step is in flight after endStep. endStep must not wait for it;
     * flush must, and once it returns the backup has it.
     */
    @Test
    void endStepDoesNotWaitButTheNextStepAndFlushDo() throws Exception {
        List<HostPort> addresses = new ArrayList<>();
        List<PsServer> nodes = start(2, 2, false, addresses);
        try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, addresses)) {
            store.beginStep();
            store.push(0, new int[] {1}, 0, 1, new float[] {-3f, -3f}, 0); // shard 1: primary node 1, backup node 0
            long t0 = System.nanoTime();
            store.endStep();
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "endStep waited for the acknowledgement");
            Replica primary = nodes.get(1).replicaAt(0);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (primary.applied.sum() == 0 && System.nanoTime() < until) Thread.onSpinWait();
            assertEquals(1, primary.applied.sum(), "the primary has applied it");
            assertEquals(0, store.rowsPushed(), "not acknowledged yet: the primary waits for its peers");

            CompletableFuture<Void> flushed = CompletableFuture.runAsync(store::flush);
            Thread.sleep(300);
            assertFalse(flushed.isDone(), "flush returned before the backup had the push");
            for (PsServer ps : nodes) ps.connectReplicas(addresses);
            flushed.get(20, TimeUnit.SECONDS);
            assertEquals(1, store.rowsPushed());
            Replica backup = nodes.get(0).replicaAt(1);
            assertEquals(1, backup.applied.sum(), "the backup of shard 1 has the push once flush returned");
        } finally {
            stop(nodes);
        }
    }

    /**
     * After endStep of step k, every push of steps before k is acknowledged: at most one step's pushes are in flight.
     * And a pull right after endStep, on the same thread, sees the step's push though it may not be acknowledged yet:
     * the lane's pulls and pushes to a shard share one ordered stream.
     */
    @Test
    void atMostOneStepOfPushesIsInFlightPerThread() throws Exception {
        List<HostPort> addresses = new ArrayList<>();
        List<PsServer> nodes = start(2, 1, false, addresses);
        try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, addresses)) {
            float[] sum = new float[8];
            float[] row = new float[2];
            for (int k = 0; k < 20; k++) {
                int[] ids = {k % 8, (k + 3) % 8, (k + 4) % 8};
                store.beginStep();
                store.push(0, ids, 0, 3, new float[] {-1f, -1f, -1f, -1f, -1f, -1f}, 0);
                store.endStep();
                for (int id : ids) sum[id] += 1f;
                assertTrue(store.rowsPushed() >= 3L * k, "step " + k + ": " + store.rowsPushed()
                        + " rows acknowledged, but the " + 3 * k + " of the steps before must be");
                store.pull(0, ids, 0, 1, row, 0);
                assertEquals(sum[ids[0]], row[0], "step " + k + ": the pull after the push sees it");
            }
            store.flush();
            assertEquals(60, store.rowsPushed());
            assertEquals(60, nodes.get(0).rowsPushed() + nodes.get(1).rowsPushed());
        } finally {
            stop(nodes);
        }
    }

    /**
     * Hogwild threads push steps (never waiting for their acknowledgements) while the primary of shard 1 is killed
     * mid-stream: every push is applied exactly once on the surviving copy once flush returns, as each row's sum
     * shows (a push lost or applied twice would change it).
     */
    @Test
    void aPrimaryKilledMidStreamLosesNoPushInFlightAndAppliesNoneTwice() throws Exception {
        List<HostPort> addresses = new ArrayList<>();
        List<PsServer> nodes = start(3, 2, true, addresses);
        try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, addresses)) {
            final int threads = 3, steps = 150;
            AtomicInteger done = new AtomicInteger();
            List<Thread> workers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int w = 0; w < threads; w++) {
                int me = w;
                Thread t = new Thread(() -> {
                    try {
                        float[] row = new float[2];
                        for (int k = 0; k < steps; k++) {
                            store.beginStep();
                            store.pull(0, new int[] {me, me + 3}, 0, 2, new float[4], 0);
                            store.push(0, new int[] {me, me + 3}, 0, 2, new float[] {-1f, -1f, -1f, -1f}, 0);
                            store.endStep();
                            done.incrementAndGet();
                        }
                        store.pull(0, new int[] {me}, 0, 1, row, 0);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "test/worker-" + w);
                workers.add(t);
                t.start();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (done.get() < threads * steps / 3 && System.nanoTime() < deadline) Thread.onSpinWait();
            nodes.get(1).crash(); // shard 1's primary (rows 1, 4, 7), shard 0's backup
            for (Thread t : workers) t.join(TimeUnit.SECONDS.toMillis(60));
            assertEquals(List.of(), failures);
            store.flush();
            assertTrue(store.failovers() >= 1, "the client failed over");
            float[] all = new float[12];
            store.pull(0, new int[] {0, 1, 2, 3, 4, 5}, 0, 6, all, 0);
            for (int j = 0; j < 6; j++) {
                assertEquals(steps, all[2 * j], "row " + j + " holds every push of its thread exactly once");
            }
        } finally {
            stop(nodes);
        }
    }
}
