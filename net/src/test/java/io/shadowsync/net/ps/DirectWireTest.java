package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.Transport;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node in the client's own JVM ({@link DirectWire}; a trainer hosting a shard): its rows are served on the caller's
 * thread, not over its row lane, and everything a worker sees is what the lane gives — the same bits step by step
 * through the one-step look-ahead, the same counters — and a stopped node fails the calls naming its shard. The
 * exact staleness of rows announced a step ahead is {@code RowStreamsTest}'s, which runs it on nodes in the JVM too.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DirectWireTest {
    private static final long[][] SHAPES = RowLaneTest.SHAPES;
    private static final Transport LOOPBACK = RowLaneTest.LOOPBACK;

    private static PsShardSpec spec(int shards) {
        return RowLaneTest.spec(shards);
    }

    /**
     * The same steps — a worker's: the next step's rows announced a step ahead, this step's announced, pulled, a
     * repeated id, gradients pushed at the step's end — through the lanes to two nodes, and through a store that has
     * node 0 in its JVM (node 1 over its lane), on twin nodes: every pulled row and, at the end, every table are the
     * same bits, and so are the counters, while node 0 took no lane and no gRPC stream. A direct path that dropped
     * pushes, applied them late, or served copies of rows not re-read from the table, differs within a few steps.
     */
    @Test
    void aNodeInTheJvmServesTheLanesBitsWithoutItsLane() throws Exception {
        try (Nodes lanes = new Nodes(LOOPBACK, spec(2)); Nodes twins = new Nodes(LOOPBACK, spec(2));
             RemoteEmbeddingStore viaLane = RemoteEmbeddingStore.connect(LOOPBACK, lanes.addresses);
             RemoteEmbeddingStore direct = RemoteEmbeddingStore.connect(LOOPBACK, twins.addresses, false, RemoteEmbeddingStore.Calls.LANE,
                     RowCodec.FLOAT32, List.of(twins.get(0)))) {
            assertEquals(List.of(0), direct.nodesInJvm());
            assertEquals(List.of(), viaLane.nodesInJvm());
            SplittableRandom rnd = new SplittableRandom(5);
            int[][] batch = new int[2][];
            batch[1] = ids(rnd, 0);
            for (int k = 0; k < 40; k++) {
                int t = k % 2, dim = (int) SHAPES[t][1];
                int[] cur = batch[(k + 1) % 2], next = ids(rnd, 1 - t);
                batch[k % 2] = next;
                float[] a = new float[cur.length * dim], b = new float[cur.length * dim], g = new float[cur.length * dim];
                for (RemoteEmbeddingStore s : List.of(viaLane, direct)) {
                    s.beginStep();
                    s.prefetchNext(1 - t, next, 0, next.length);
                    s.prefetch(t, cur, 0, cur.length);
                }
                viaLane.pull(t, cur, 0, cur.length, a, 0);
                direct.pull(t, cur, 0, cur.length, b, 0);
                assertArrayEquals(a, b, "step " + k + ": the pulled rows");
                for (int i = 0; i < g.length; i++) g[i] = (float) rnd.nextGaussian();
                for (RemoteEmbeddingStore s : List.of(viaLane, direct)) {
                    s.push(t, cur, 0, cur.length, g, 0);
                    s.endStep();
                }
            }
            viaLane.flush();
            direct.flush();
            for (int t = 0; t < 2; t++) {
                for (int s = 0; s < 2; s++) {
                    assertArrayEquals(lanes.get(s).slices().slice(t), twins.get(s).slices().slice(t), "table " + t + " on node " + s);
                    assertArrayEquals(lanes.get(s).slices().rowState(t), twins.get(s).slices().rowState(t), "optimizer state " + t + " on node " + s);
                }
            }
            assertEquals(0, twins.get(0).lane().connections(), "node 0's rows did not travel on its lane");
            assertEquals(0, twins.get(0).grpcRowStreams(), "nor on a gRPC stream");
            assertEquals(1, twins.get(1).lane().connections(), "node 1's went on its lane");
            for (int s = 0; s < 2; s++) {
                assertEquals(lanes.get(s).calls(), twins.get(s).calls(), "calls node " + s + " counted");
                assertEquals(lanes.get(s).rowsPulled(), twins.get(s).rowsPulled(), "rows node " + s + " counted as pulled");
                assertEquals(lanes.get(s).rowsPushed(), twins.get(s).rowsPushed(), "rows node " + s + " counted as pushed");
            }
            assertTrue(twins.get(0).rowsPushed() > 0);
            assertEquals(viaLane.requests(), direct.requests(), "the client counts the same requests");
            assertEquals(viaLane.rowsPulled(), direct.rowsPulled());
            assertEquals(viaLane.rowsPushed(), direct.rowsPushed());
            assertArrayEquals(viaLane.rowBytes().snapshot(), direct.rowBytes().snapshot(), "and the same row bytes");
        }
    }

    /** A batch's ids for table t: 1..12 rows of both shards, the first repeated at the end. */
    private static int[] ids(SplittableRandom rnd, int t) {
        int n = 2 + rnd.nextInt(11);
        int[] ids = new int[n];
        for (int j = 0; j < n; j++) ids[j] = rnd.nextInt((int) SHAPES[t][0]);
        ids[n - 1] = ids[0];
        return ids;
    }

    /**
     * With two replicas of every shard, a push that the node in the JVM takes as shard 0's primary is acknowledged
     * only once its backup (on node 1) has it, as over the lane: after a flush both copies of each shard hold the same
     * bits, changed by the push. A direct path that applied a push on the primary without forwarding it (the node's
     * replica called past its handlers) leaves the backup behind.
     */
    @Test
    void aReplicatedPushServedInTheJvmReachesItsBackup() throws Exception {
        List<PsServer> nodes = new java.util.ArrayList<>();
        List<io.shadowsync.net.HostPort> addresses = new java.util.ArrayList<>();
        try {
            for (int s = 0; s < 2; s++) {
                nodes.add(PsServer.start(LOOPBACK, 0, spec(2).forShard(s), 2));
                addresses.add(new io.shadowsync.net.HostPort("127.0.0.1", nodes.get(s).port()));
            }
            for (PsServer ps : nodes) ps.connectReplicas(addresses);
            float[] before = nodes.get(0).replicaAt(0).slices.slice(0).clone();
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, addresses, false, RemoteEmbeddingStore.Calls.LANE,
                    RowCodec.FLOAT32, List.of(nodes.get(0)))) {
                assertEquals(List.of(0), store.nodesInJvm());
                SplittableRandom rnd = new SplittableRandom(8);
                for (int k = 0; k < 10; k++) {
                    int[] ids = ids(rnd, 0);
                    float[] g = new float[ids.length * (int) SHAPES[0][1]];
                    for (int i = 0; i < g.length; i++) g[i] = (float) rnd.nextGaussian();
                    store.beginStep();
                    store.push(0, ids, 0, ids.length, g, 0);
                    store.endStep();
                }
                store.flush();
            }
            for (int s = 0; s < 2; s++) {
                Replica primary = nodes.get(s).replicaAt(0), backup = nodes.get((s + 1) % 2).replicaAt(1);
                for (int t = 0; t < 2; t++) assertArrayEquals(primary.slices.slice(t), backup.slices.slice(t), "shard " + s + ", table " + t + ": backup = primary");
            }
            assertFalse(Arrays.equals(before, nodes.get(0).replicaAt(0).slices.slice(0)), "the pushes changed shard 0's rows");
        } finally {
            for (PsServer ps : nodes) ps.crash();
        }
    }

    /** A node in the JVM that stops (its trainer's JVM is going down) fails the next call to it, naming the shard. */
    @Test
    void aStoppedNodeInTheJvmFailsTheCallsNamingItsShard() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, spec(2));
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses, false, RemoteEmbeddingStore.Calls.LANE,
                     RowCodec.FLOAT32, List.of(nodes.get(1)))) {
            float[] row = new float[3];
            store.pull(0, new int[] {3}, 0, 1, row, 0); // shard 1, served in the JVM
            nodes.get(1).crash();
            ParameterServerException e = assertThrows(ParameterServerException.class, () -> store.pull(0, new int[] {3}, 0, 1, row, 0));
            assertTrue(e.getMessage().contains("parameter server shard 1"), e.getMessage());
            assertEquals(1, e.shard());
            store.pull(0, new int[] {2}, 0, 1, row, 0); // shard 0, over its lane, still serves
        }
    }
}
