package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.ReplicaStats;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import io.shadowsync.net.proto.ShardStats;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.testing.LogCapture;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Replicated shards in one JVM (S nodes with R replicas each, 127.0.0.1, free ports): with plain SGD at lr 1 and a
 * gradient of −1, every push applied adds exactly 1.0 to its row, so a row's value counts the pushes applied to it
 * and can be compared with the pushes the client saw acknowledged.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplicationTest {
    /** One table of 8 rows × 2 (row r on shard r mod 2), zeros; a dense vector of 4 (blocks of 2). */
    private static final long[][] SHAPES = {{8, 2}};
    private static final Transport LOOPBACK = new Transport(NetConfig.LOOPBACK.withCallDeadline(Duration.ofSeconds(5)));
    private static final int MARKER = 1; // shard 1: primary on node 1, backup on node 0

    /** S nodes holding R replicas each, told each other's addresses; closed (or crashed) together. */
    private static final class Cluster implements AutoCloseable {
        final List<PsServer> nodes = new ArrayList<>();
        final List<HostPort> addresses = new ArrayList<>();
        /** What the nodes' replicas log: their changes of role (a replica's name says its shard and position). */
        final LogCapture events = LogCapture.of(Replica.class.getName());

        Cluster(int shards, int replicas) throws IOException {
            PsShardSpec spec = new PsShardSpec(SHAPES, new float[] {0f}, 7, new EmbeddingOptimizerSpec("sgd", 1.0),
                    new float[4], null, 0, shards);
            try {
                for (int s = 0; s < shards; s++) {
                    PsServer ps = PsServer.start(LOOPBACK, 0, spec.forShard(s), replicas);
                    nodes.add(ps);
                    addresses.add(new HostPort("127.0.0.1", ps.port()));
                }
                for (PsServer ps : nodes) ps.connectReplicas(addresses);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        PsServer node(int n) {
            return nodes.get(n);
        }

        @Override
        public void close() {
            for (PsServer ps : nodes) ps.crash();
            events.close();
        }
    }

    /** Pushes −1 to every element of row id: +1 with SGD at lr 1. */
    private static void pushOne(RemoteEmbeddingStore store, int id) {
        store.push(0, new int[] {id}, 0, 1, new float[] {-1f, -1f}, 0);
    }

    private static float[] row(RemoteEmbeddingStore store, int id) {
        float[] out = new float[2];
        store.pull(0, new int[] {id}, 0, 1, out, 0);
        return out;
    }

    /** Row id's values in node n's replica of shard id mod S at chain position k. */
    private static float[] held(PsServer node, int k, int id) {
        Replica r = node.replicaAt(k);
        int l = id / node.shards();
        return new float[] {r.slices.slice(0)[2 * l], r.slices.slice(0)[2 * l + 1]};
    }

    /**
     * A trainer joining a running job after a node died (node 1: the primary of shard 1, the backup of shard 0)
     * connects without waiting for it and starts each shard at the primary the live replicas name: no call of its own
     * goes to the dead node (no failover), and it reads what was pushed before.
     */
    @Test
    void aClientJoiningARunningJobSkipsDeadNodesAndStartsAtTheCurrentPrimaries() throws Exception {
        try (Cluster c = new Cluster(2, 2);
             RemoteEmbeddingStore first = RemoteEmbeddingStore.connect(LOOPBACK, c.addresses)) {
            pushOne(first, MARKER);
            c.node(1).crash();
            pushOne(first, MARKER); // the first client fails over: node 0's replica of shard 1 takes over
            assertEquals(1, first.failovers());

            // (waiting for the dead node, as a starting job does, would end in the exception below)
            try (LogCapture events = LogCapture.of(ShardSet.class.getName());
                 RemoteEmbeddingStore joiner = RemoteEmbeddingStore.connect(LOOPBACK, c.addresses, true)) {
                assertArrayEquals(new float[] {2, 2}, row(joiner, MARKER));
                pushOne(joiner, MARKER);
                pushOne(joiner, 0); // shard 0: its primary, node 0, is alive
                assertEquals(0, joiner.failovers(), "every call went to the current primary: " + events.messages());
                assertArrayEquals(new float[] {3, 3}, row(first, MARKER));
            }
            // a job that is starting waits for every node: the dead one is named
            ParameterServerException e = assertThrows(ParameterServerException.class,
                    () -> RemoteEmbeddingStore.connect(LOOPBACK, c.addresses));
            assertTrue(e.getMessage().contains("shard 1"), e.getMessage());
        }
    }

    @Test
    void aClientJoiningARunningJobIsToldWhenAShardHasNoLiveReplica() throws Exception {
        try (Cluster c = new Cluster(3, 2)) {
            c.node(1).crash();
            c.node(2).crash(); // shard 1 lives on nodes 1 and 2
            ParameterServerException e = assertThrows(ParameterServerException.class,
                    () -> RemoteEmbeddingStore.connect(LOOPBACK, c.addresses, true));
            assertTrue(e.getMessage().contains("shard 1 has no live replica"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aPrimaryCrashLosesNoAcknowledgedPushAndAppliesNoneTwice() throws Exception {
        try (LogCapture clientLog = LogCapture.of(ShardSet.class.getName());
             Cluster c = new Cluster(2, 2);
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, c.addresses)) {
            assertEquals(2, store.replicas());
            final int total = 300, crashAfter = 60;
            AtomicReference<Throwable> crasher = new AtomicReference<>();
            Thread crash = new Thread(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (c.node(1).replicaAt(0).applied.sum() < crashAfter && System.nanoTime() < deadline) Thread.onSpinWait();
                try {
                    c.node(1).crash(); // mid-stream: the client's next (or current) push finds the primary gone
                } catch (Throwable t) {
                    crasher.set(t);
                }
            }, "test/crash-primary");
            crash.start();
            long acked = 0;
            try {
                for (int i = 0; i < total; i++) {
                    pushOne(store, MARKER);
                    acked++;
                }
            } finally {
                crash.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertEquals(null, crasher.get());
            assertEquals(total, acked, "every push was acknowledged (on the primary, then on the backup that took over)");
            assertEquals(1, store.failovers());
            float[] expect = {acked, acked};
            assertArrayEquals(expect, row(store, MARKER), "the row counts every acknowledged push exactly once");
            assertArrayEquals(expect, held(c.node(0), 1, MARKER), "the surviving replica holds them");
            assertArrayEquals(expect, java.util.Arrays.copyOfRange(store.exportTables()[0], 2 * MARKER, 2 * MARKER + 2),
                    "an export reads the new primary");
            Replica survivor = c.node(0).replicaAt(1);
            assertTrue(survivor.isPrimary(), "shard 1's backup took over");
            assertEquals(acked, survivor.applied.sum(), "applied once per acknowledged push; repeats are counted apart");
            assertTrue(survivor.forwardsReceived.sum() >= crashAfter - 1, "the backup had every push the primary acknowledged: "
                    + survivor.forwardsReceived.sum() + " forwards");
            List<String> clientEvents = clientLog.messages();
            assertTrue(clientEvents.size() == 1 && clientEvents.get(0).contains("parameter server shard 1: replica 0 at "
                    + c.addresses.get(1) + " failed") && clientEvents.get(0).contains("failing over to replica 1 at " + c.addresses.get(0)),
                    clientEvents.toString());
            assertTrue(c.events.messages().stream().anyMatch(e -> e.startsWith("shard 1 replica 1 takes over as primary")), c.events.messages().toString());
        }
    }

    @Test
    void aPushReplayedOnTheBackupAfterItsForwardIsIgnored() throws Exception {
        try (Cluster c = new Cluster(2, 2)) {
            ManagedChannel ch1 = LOOPBACK.channel(c.addresses.get(1).toString()), ch0 = LOOPBACK.channel(c.addresses.get(0).toString());
            try {
                var primary = EmbeddingShardGrpc.newBlockingStub(ch1).withDeadlineAfter(5, TimeUnit.SECONDS);
                var backup = EmbeddingShardGrpc.newBlockingStub(ch0).withDeadlineAfter(5, TimeUnit.SECONDS);
                // seq 1 to the primary: applied there and forwarded to the backup before the answer
                assertEquals(1, primary.push(push(1, 0, 1)).getRows());
                assertArrayEquals(new float[] {1, 1}, held(c.node(0), 1, MARKER), "forwarded before the acknowledgement");
                // the client retries seq 1 on the backup (it never saw the answer): acknowledged, not applied again
                assertEquals(1, backup.push(push(1, 1, 1)).getRows());
                Replica b = c.node(0).replicaAt(1);
                assertArrayEquals(new float[] {1, 1}, held(c.node(0), 1, MARKER));
                assertEquals(1, b.duplicates.sum());
                assertEquals(1, b.applied.sum());
                assertEquals(1, b.forwardsReceived.sum());
                assertTrue(b.isPrimary(), "the client's call made the backup the primary");
                // the old primary, not knowing, applies seq 2 and forwards it: refused, so it steps down and sends the
                // client on; the retry on the new primary applies it once
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> primary.push(push(1, 0, 2)));
                assertEquals(Status.Code.ABORTED, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("shard 1 replica 0 was replaced as primary"), e.getMessage());
                assertFalse(c.node(1).replicaAt(0).isPrimary());
                assertEquals(Status.Code.ABORTED, assertThrows(StatusRuntimeException.class, () -> primary.push(push(1, 0, 3)))
                        .getStatus().getCode(), "a replaced primary takes no more calls");
                assertEquals(1, backup.push(push(1, 1, 2)).getRows());
                assertArrayEquals(new float[] {2, 2}, held(c.node(0), 1, MARKER));
                // a different client's seq 1 is its own
                assertEquals(1, backup.push(push(2, 1, 1)).getRows());
                assertArrayEquals(new float[] {3, 3}, held(c.node(0), 1, MARKER));
                assertEquals(2, c.node(1).refused(Refusal.NOT_PRIMARY), "seq 2 after its forward, seq 3 at once");
                assertEquals(1, c.node(0).refused(Refusal.NOT_PRIMARY), "the forward from the replaced primary");
            } finally {
                ch0.shutdownNow();
                ch1.shutdownNow();
            }
        }
    }

    /** A push of −1 to the marker row from client lane `client`, seq, for shard 1's replica at position pos. */
    private static RowBatch push(long client, int pos, long seq) {
        byte[] ids = new byte[4];
        LittleEndian.putInt(ids, 0, MARKER);
        byte[] grads = new byte[8];
        LittleEndian.putFloats(new float[] {-1f, -1f}, 0, grads, 0, 2);
        return RowBatch.newBuilder().addSegments(Segment.newBuilder().setTable(0).setCount(1)).setIds(ByteString.copyFrom(ids))
                .setGrads(ByteString.copyFrom(grads))
                .setRoute(Route.newBuilder().setShard(1).setPrimary(pos).setClient(client).setSeq(seq)).build();
    }

    /**
     * The chaos harness's server kills, counted: trials that crash a random node (3 nodes, R = 2, so each node is one
     * shard's primary and another's backup) at a random moment while 3 client threads, each its own client, push to
     * every row. Afterwards each row must equal the pushes to it that were acknowledged — none lost, none applied
     * twice — read from the surviving replicas. Every writer has its own rows (concurrent pushes to one row race, by the
     * Hogwild design, on any server). Seeded ({@code -Dshadowsync.chaos.seed=S} repeats a run).
     */
    @Test
    void randomServerCrashesLoseNoAcknowledgedUpdate() throws Exception {
        long seed = Long.getLong("shadowsync.chaos.seed", new java.util.SplittableRandom().nextLong());
        java.util.SplittableRandom master = new java.util.SplittableRandom(seed);
        StringBuilder table = new StringBuilder("| trial | crashed node | at push | acknowledged | in the rows | failovers |\n|---|---|---|---|---|---|\n");
        int rowsPerShard = 8 / 3 + 1;
        for (int trial = 1; trial <= 8; trial++) {
            java.util.SplittableRandom r = master.split();
            int victim = r.nextInt(3), crashAt = 20 + r.nextInt(200);
            long[] acked = new long[8];
            try (Cluster c = new Cluster(3, 2)) {
                java.util.concurrent.atomic.AtomicLong pushes = new java.util.concurrent.atomic.AtomicLong();
                RemoteEmbeddingStore[] stores = new RemoteEmbeddingStore[3];
                Thread[] writers = new Thread[3];
                long[][] mine = new long[3][8];
                AtomicReference<Throwable> failed = new AtomicReference<>();
                try {
                    for (int w = 0; w < 3; w++) stores[w] = RemoteEmbeddingStore.connect(LOOPBACK, c.addresses);
                    for (int w = 0; w < 3; w++) {
                        int me = w;
                        writers[w] = new Thread(() -> {
                            try {
                                for (int i = 0; i < 150; i++) {
                                    // disjoint rows per writer (me, me+3, me+6 < 8): two writers on one row would race as
                                    // Hogwild does on any server, which is not what this test counts
                                    int id = me + 3 * (i % (me == 2 ? 2 : 3));
                                    pushOne(stores[me], id);
                                    mine[me][id]++; // counted only once acknowledged
                                    pushes.incrementAndGet();
                                }
                            } catch (Throwable t) {
                                failed.compareAndSet(null, t);
                            }
                        }, "test/writer-" + w);
                        writers[w].start();
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (pushes.get() < crashAt && System.nanoTime() < deadline) Thread.onSpinWait();
                    c.node(victim).crash();
                    for (Thread t : writers) t.join(TimeUnit.SECONDS.toMillis(30));
                    assertEquals(null, failed.get(), "trial " + trial + " (seed " + seed + "): every push is acknowledged by a surviving replica");
                    for (long[] m : mine) for (int id = 0; id < 8; id++) acked[id] += m[id];
                    long inRows = 0, total = 0;
                    for (int id = 0; id < 8; id++) {
                        float[] v = row(stores[0], id);
                        assertArrayEquals(new float[] {acked[id], acked[id]}, v, "trial " + trial + " (seed " + seed + ", node " + victim
                                + " crashed after " + crashAt + " pushes): row " + id + " holds every acknowledged push exactly once");
                        inRows += (long) v[0];
                        total += acked[id];
                    }
                    long failovers = stores[0].failovers() + stores[1].failovers() + stores[2].failovers();
                    table.append("| ").append(trial).append(" | ").append(victim).append(" | ").append(crashAt).append(" | ").append(total)
                            .append(" | ").append(inRows).append(" | ").append(failovers).append(" |\n");
                } finally {
                    for (RemoteEmbeddingStore st : stores) if (st != null) st.close();
                }
            }
        }
        System.out.println("server crashes (seed " + seed + ", rows per shard " + rowsPerShard + "):\n" + table);
    }

    @Test
    void aBackupCrashLeavesThePrimaryAckingAlone() throws Exception {
        try (Cluster c = new Cluster(2, 2);
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, c.addresses);
             RemoteDenseServer dense = RemoteDenseServer.connect(LOOPBACK, c.addresses)) {
            pushOne(store, MARKER);
            dense.pushDelta(new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {1, 1}, held(c.node(0), 1, MARKER), "the backup has the push");
            assertArrayEquals(new float[] {3, 4}, c.node(0).replicaAt(1).dense.copy(), "and the dense delta");
            c.node(0).crash(); // shard 1's backup, and shard 0's primary
            for (int i = 0; i < 20; i++) {
                pushOne(store, MARKER); // shard 1: primary acks alone once the backup is dropped
                pushOne(store, 0);      // shard 0: fails over to its backup on node 1
                dense.pushDelta(new float[] {1, 1, 1, 1});
            }
            assertArrayEquals(new float[] {21, 21}, row(store, MARKER));
            assertArrayEquals(new float[] {20, 20}, row(store, 0));
            float[] d = new float[4];
            dense.pull(d);
            assertArrayEquals(new float[] {21, 22, 23, 24}, d, "dense pushes land on both shards' survivors");
            assertEquals(1, store.failovers(), "shard 0 moved to node 1");
            ShardStats stats = PsAdmin.stats(LOOPBACK, List.of(c.addresses.get(1))).get(0);
            ReplicaStats own = stats.getReplicas(0), adopted = stats.getReplicas(1);
            assertEquals(1, own.getShard());
            assertTrue(own.getIsPrimary());
            assertEquals(0, own.getLiveBackupsCount(), "the dead backup was dropped");
            assertEquals(1 + 20 + 1 + 20, own.getPushesApplied(), "rows and dense pushes");
            assertEquals(2, own.getForwardsSent(), "forwarded while the backup lived");
            assertEquals(0, adopted.getShard());
            assertEquals(1, adopted.getPosition());
            assertTrue(adopted.getIsPrimary(), "shard 0's backup took over");
            assertTrue(c.events.messages().stream().anyMatch(e -> e.startsWith("shard 1 replica 0 (primary) drops its backup at position 1")
                    && e.contains(c.addresses.get(0).toString())), c.events.messages().toString());
            assertEquals(List.of(c.addresses.get(0)), PsAdmin.shutdown(LOOPBACK, c.addresses), "the crashed node is skipped");
            assertTrue(c.node(1).awaitTermination(Duration.ofSeconds(10)));
        }
    }

    @Test
    void aShardWithNoReplicaLeftFailsNamingThemAll() throws Exception {
        try (Cluster c = new Cluster(2, 2);
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, c.addresses)) {
            pushOne(store, MARKER);
            c.node(0).crash();
            c.node(1).crash();
            ParameterServerException e = assertThrows(ParameterServerException.class, () -> pushOne(store, MARKER));
            assertEquals(1, e.shard());
            assertTrue(e.getMessage().startsWith("parameter server shard 1 has no replica left (all 2 failed): replica 0 at "
                    + c.addresses.get(1)) && e.getMessage().contains("replica 1 at " + c.addresses.get(0)), e.getMessage());
        }
    }

    @Test
    void replicasAreBetweenOneAndTheNodes() {
        PsShardSpec spec = new PsShardSpec(SHAPES, new float[] {0f}, 7, new EmbeddingOptimizerSpec("sgd", 1.0), null, null, 0, 2);
        for (int r : new int[] {0, 3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PsServer.start(LOOPBACK, 0, spec, r));
            assertTrue(e.getMessage().contains("between 1 and the 2 parameter-server nodes"), e.getMessage());
        }
    }
}
