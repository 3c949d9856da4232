package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.SocketPlane;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.DataInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parameter servers' row lane ({@link RowLaneServer}, {@link LaneWire}): that the rows really travel on it (not on
 * the gRPC streams), with the same bits as a local store; that its handshake takes only a peer holding the job's
 * token and the node's ticket; that a node which dies mid-stream is reported within seconds, not at the deadline;
 * that a malformed frame is refused, counted and changes nothing; and that {@code --ps-rows stream} (or TLS), or a lane
 * that cannot be opened, leaves the rows on gRPC. Staleness, back-pressure and failover with replicas run on the lane in {@link RowStreamsTest}
 * (its default).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RowLaneTest {
    static final long[][] SHAPES = {{50, 3}, {20, 4}};
    /** A long deadline: a dead node must be noticed by its connection's end, long before it. */
    static final Transport LOOPBACK = new Transport(NetConfig.LOOPBACK.withCallDeadline(Duration.ofSeconds(60)));

    private static final float[] STDS = {0.1f, 0.2f};
    private static final EmbeddingOptimizerSpec OPT = new EmbeddingOptimizerSpec("rowwise-adagrad", 0.05);

    /** Two tables on {@code shards} nodes, rowwise Adagrad, seed 11 (also {@link DirectWireTest}'s). */
    static PsShardSpec spec(int shards) {
        return new PsShardSpec(SHAPES, STDS, 11, OPT, null, null, 0, shards);
    }

    /**
     * Pulls and pushes (duplicated ids, both tables, several threads' worth of steps) through the lane leave the same
     * bits as on a local store, and they went on the lane: the nodes hold lane connections and the gRPC stream
     * handlers saw no row call (a client that fell back to gRPC unnoticed fails here).
     */
    @Test
    void rowsTravelOnTheLaneWithTheBitsOfALocalStore() throws Exception {
        PsShardSpec spec = spec(2);
        LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 11, OPT);
        try (Nodes nodes = new Nodes(LOOPBACK, spec);
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            for (PsServer ps : nodes.servers) assertTrue(ps.lanePort() > 0, "a node opens a row lane by default");
            SplittableRandom rnd = new SplittableRandom(3);
            for (int k = 0; k < 30; k++) {
                int t = k % 2, dim = (int) SHAPES[t][1], n = 1 + rnd.nextInt(12);
                int[] ids = new int[n];
                for (int j = 0; j < n; j++) ids[j] = rnd.nextInt((int) SHAPES[t][0]);
                ids[n - 1] = ids[0]; // a repeated id
                float[] got = new float[n * dim], want = new float[n * dim], g = new float[n * dim];
                store.pull(t, ids, 0, n, got, 0);
                local.pull(t, ids, 0, n, want, 0);
                assertArrayEquals(want, got, "step " + k + ": the pulled rows");
                for (int i = 0; i < g.length; i++) g[i] = (float) rnd.nextGaussian();
                store.beginStep();
                store.push(t, ids, 0, n, g, 0);
                store.endStep();
                local.push(t, ids, 0, n, g, 0);
            }
            store.flush();
            for (int t = 0; t < 2; t++) {
                int rows = (int) SHAPES[t][0], dim = (int) SHAPES[t][1];
                int[] all = new int[rows];
                for (int i = 0; i < rows; i++) all[i] = i;
                float[] got = new float[rows * dim], want = new float[rows * dim];
                store.pull(t, all, 0, rows, got, 0);
                local.pull(t, all, 0, rows, want, 0);
                assertArrayEquals(want, got, "table " + t + " after every push");
            }
            int lanes = 0;
            for (PsServer ps : nodes.servers) lanes += ps.lane().connections();
            assertEquals(2, lanes, "this thread's rows went on one lane to each node");
            assertEquals(0, nodes.get(0).grpcRowStreams() + nodes.get(1).grpcRowStreams(), "no gRPC row stream is open");
        }
    }

    /**
     * The handshake: a peer with the job's token and the node's ticket is taken; the wrong token, or the right token
     * with another ticket, is refused with its reason, and the node keeps serving.
     */
    @Test
    void theLaneTakesOnlyThePeerThatProvesTheTokenAndTheTicket(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good"), bad = dir.resolve("bad");
        Files.writeString(good, "the-job's-secret-token-0123456789\n");
        Files.writeString(bad, "another-job's-secret-token-987654\n");
        Transport job = new Transport(NetConfig.LOOPBACK.withToken(good)), other = new Transport(NetConfig.LOOPBACK.withToken(bad));
        try (Nodes nodes = new Nodes(job, spec(1))) {
            PsServer ps = nodes.get(0);
            byte[] ticket = ps.info().getDataTicket().toByteArray();
            IllegalStateException wrongToken = assertThrows(IllegalStateException.class, () -> SocketPlane.connect(other,
                    "127.0.0.1", ps.lanePort(), ticket, RowFrames.GROUP, 0, 0, 1, SocketPlane.HANDSHAKE_NANOS).close());
            assertTrue(wrongToken.getMessage().contains("did not prove the job's token"), wrongToken.getMessage());
            byte[] forged = ticket.clone();
            forged[0] ^= 1;
            IllegalStateException wrongTicket = assertThrows(IllegalStateException.class, () -> SocketPlane.connect(job,
                    "127.0.0.1", ps.lanePort(), forged, RowFrames.GROUP, 0, 0, 1, SocketPlane.HANDSHAKE_NANOS).close());
            assertTrue(wrongTicket.getMessage().contains("did not prove"), wrongTicket.getMessage());
            assertEquals(0, ps.lane().connections(), "no refused peer holds a connection");
            try (SocketChannel ok = SocketPlane.connect(job, "127.0.0.1", ps.lanePort(), ticket, RowFrames.GROUP, 0, 0, 1,
                    SocketPlane.HANDSHAKE_NANOS)) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (ps.lane().connections() == 0 && System.nanoTime() < until) Thread.sleep(10);
                assertEquals(1, ps.lane().connections(), "the peer with the token and the ticket is taken");
                assertTrue(ok.isConnected());
            }
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(job, nodes.addresses)) {
                float[] row = new float[3];
                store.pull(0, new int[] {4}, 0, 1, row, 0);
                assertArrayEquals(Arrays.copyOfRange(ps.slices().slice(0), 12, 15), row, "the node still serves row 4");
            }
        }
    }

    /**
     * A node that dies with calls in flight (its sockets closed, as a killed process's are) fails the client's next
     * call within seconds, naming the shard, though the call deadline is a minute: the lane's end is noticed, as the
     * gRPC stream's is. Unreplicated, so there is nowhere to fail over to.
     */
    @Test
    void aNodeThatDiesIsReportedAtOnceNotAtTheDeadline() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, spec(2));
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            float[] rows = new float[6];
            store.pull(0, new int[] {2, 3}, 0, 2, rows, 0); // both lanes open
            nodes.get(1).crash();
            long t0 = System.nanoTime();
            ParameterServerException e = assertThrows(ParameterServerException.class, () -> {
                for (int k = 0; k < 100; k++) {
                    store.beginStep();
                    store.pull(0, new int[] {2, 3}, 0, 2, rows, 0);
                    store.push(0, new int[] {2, 3}, 0, 2, new float[6], 0);
                    store.endStep();
                }
            });
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 10_000, "the dead node was reported after " + ms + " ms");
            assertEquals(1, e.shard(), e.getMessage());
            assertEquals(Status.Code.UNAVAILABLE, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("shard 1"), e.getMessage());
        }
    }

    /**
     * A frame whose segments claim more ids than it carries is refused (LENGTH_MISMATCH, counted), the connection is
     * closed after the answer, the rows are unchanged and the node serves the next client.
     */
    @Test
    void aMalformedFrameIsRefusedCountedAndChangesNothing() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, spec(1))) {
            PsServer ps = nodes.get(0);
            float[] before = ps.slices().slice(0).clone();
            ShardInfo info = ps.info();
            try (SocketChannel ch = SocketPlane.connect(LOOPBACK, "127.0.0.1", ps.lanePort(), info.getDataTicket().toByteArray(),
                    RowFrames.GROUP, 0, 0, 1, SocketPlane.HANDSHAKE_NANOS)) {
                ByteBuffer f = ByteBuffer.allocate(16 + 28 + 8 + 4 + 12).order(ByteOrder.LITTLE_ENDIAN);
                f.putInt(RowFrames.PUSH).putInt(7).putInt(1).putInt(28 + 8 + 4 + 12);
                f.putInt(0).putInt(0).putLong(0).putLong(0).putInt(0); // route: shard 0, primary 0; float32
                f.putInt(0).putInt(5); // table 0, 5 rows ...
                f.putInt(1); // ... but one id
                f.putFloat(1f).putFloat(1f).putFloat(1f);
                ch.write(f.flip());
                DataInputStream in = new DataInputStream(ch.socket().getInputStream());
                byte[] header = in.readNBytes(16);
                ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(RowFrames.REFUSED, h.getInt(0));
                assertEquals(7, h.getInt(4), "the answer names the call");
                assertEquals(Status.Code.INVALID_ARGUMENT.value(), h.getInt(8));
                String why = new String(in.readNBytes(h.getInt(12)), java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(why.contains("5 rows"), why);
                assertEquals(-1, in.read(), "the node closed the connection after its refusal");
            }
            assertEquals(1, ps.refused(Refusal.LENGTH_MISMATCH));
            assertArrayEquals(before, ps.slices().slice(0), "nothing was applied");
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
                float[] row = new float[3];
                store.pull(0, new int[] {0}, 0, 1, row, 0);
                assertEquals(before[0], row[0], "the node still serves");
            }
        }
    }

    /** {@code --ps-rows stream}: a node without a lane offers no port, and its clients' rows go on gRPC streams. */
    @Test
    void withoutLanesTheRowsStayOnGrpcStreams() throws Exception {
        Transport streams = new Transport(NetConfig.LOOPBACK.withRowLanes(false));
        try (Nodes nodes = new Nodes(streams, spec(1));
             RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
            assertEquals(0, nodes.get(0).lanePort());
            assertEquals(0, nodes.get(0).info().getDataPort());
            float[] row = new float[3];
            store.pull(0, new int[] {1}, 0, 1, row, 0);
            assertEquals(1, nodes.get(0).grpcRowStreams(), "the client fell back to a gRPC stream");
        }
    }

    /**
     * A node that offers a lane nobody can reach (here: its listener closed after it advertised the port, as a
     * firewall that drops the port would) does not fail the job: the thread's rows go on a gRPC stream instead.
     */
    @Test
    void aLaneThatCannotBeOpenedLeavesTheRowsOnAGrpcStream() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, spec(1))) {
            nodes.get(0).lane().close();
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses)) {
                float[] row = new float[3];
                store.pull(0, new int[] {2}, 0, 1, row, 0);
                assertArrayEquals(Arrays.copyOfRange(nodes.get(0).slices().slice(0), 6, 9), row);
                assertEquals(1, nodes.get(0).grpcRowStreams(), "the rows went on a gRPC stream");
            }
        }
    }
}
