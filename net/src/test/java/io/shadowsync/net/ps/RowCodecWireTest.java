package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.shadowsync.comm.CodedRows;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.SocketPlane;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.DataInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rows over the parameter-server wire in a lossy row codec ({@code --compress-rows}): the row lane and the gRPC streams
 * move the same values as the in-process {@link CodedRows} around a local store, bit for bit, while the servers keep
 * their rows and Adagrad sums in float32; a frame's values take exactly the codec's bytes; a frame in an unknown codec,
 * or with the bytes of another codec, is refused with the reason and changes nothing.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RowCodecWireTest {
    private static final long[][] SHAPES = {{50, 3}, {20, 20}};
    private static final float[] STDS = {0.1f, 0.2f};
    private static final EmbeddingOptimizerSpec OPT = new EmbeddingOptimizerSpec("rowwise-adagrad", 0.05);
    private static final Transport LOOPBACK = new Transport(NetConfig.LOOPBACK.withCallDeadline(Duration.ofSeconds(60)));

    private static PsShardSpec spec(int shards) {
        return new PsShardSpec(SHAPES, STDS, 11, OPT, null, null, 0, shards);
    }

    /**
     * int8 (a scale per row) and fp16, on the lane and on gRPC streams: every pull equals the in-process coded store's,
     * and after every push the servers' rows and Adagrad sums equal a float32 store's given the gradients as the codec
     * rounds them. A server that stored its rows or sums in the codec, re-encoded a row after its update, or decoded
     * with another scale than the client's ends on other bits; a wire whose pull answers were float32 fails the first
     * pull.
     */
    @Test
    void theWireMovesTheValuesOfTheInProcessCodedStore() throws Exception {
        for (RowCodec codec : new RowCodec[] {RowCodec.INT8, RowCodec.FP16}) {
            for (RemoteEmbeddingStore.Calls mode : new RemoteEmbeddingStore.Calls[] {RemoteEmbeddingStore.Calls.LANE, RemoteEmbeddingStore.Calls.STREAM}) {
                String what = codec + " on " + mode;
                LocalEmbeddingStore local = new LocalEmbeddingStore(SHAPES, STDS, 11, OPT);
                LocalEmbeddingStore reference = new LocalEmbeddingStore(SHAPES, STDS, 11, OPT);
                CodedRows coded = new CodedRows(local, codec);
                try (Nodes nodes = new Nodes(LOOPBACK, spec(2));
                     RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses, false, mode, codec)) {
                    SplittableRandom rnd = new SplittableRandom(3);
                    long rowsPushed = 0;
                    for (int k = 0; k < 40; k++) {
                        int t = k % 2, dim = (int) SHAPES[t][1], n = 1 + rnd.nextInt(12);
                        int[] ids = new int[n];
                        for (int j = 0; j < n; j++) ids[j] = rnd.nextInt((int) SHAPES[t][0]);
                        ids[n - 1] = ids[0]; // a repeated id
                        float[] got = new float[n * dim], want = new float[n * dim], g = new float[n * dim];
                        store.pull(t, ids, 0, n, got, 0);
                        coded.pull(t, ids, 0, n, want, 0);
                        assertArrayEquals(want, got, what + ", step " + k + ": the pulled rows");
                        for (int i = 0; i < g.length; i++) g[i] = (float) (0.01 * rnd.nextGaussian());
                        store.beginStep();
                        store.push(t, ids, 0, n, g, 0);
                        store.endStep();
                        coded.push(t, ids, 0, n, g, 0);
                        codec.round(g, 0, n, dim);
                        reference.push(t, ids, 0, n, g, 0);
                        rowsPushed += n;
                    }
                    store.flush();
                    for (int s = 0; s < 2; s++) {
                        EmbeddingSlices sl = nodes.get(s).slices();
                        for (int t = 0; t < 2; t++) {
                            int rows = (int) SHAPES[t][0], dim = (int) SHAPES[t][1];
                            float[] w = sl.slice(t), st = sl.rowState(t), ref = reference.table(t), refState = reference.optimizer(t).state();
                            for (int r = s; r < rows; r += 2) {
                                int l = r / 2;
                                for (int e = 0; e < dim; e++) assertEquals(ref[r * dim + e], w[l * dim + e], what + ": table " + t + " row " + r);
                                assertEquals(refState[r], st[l], what + ": table " + t + " row " + r + "'s Adagrad sum");
                            }
                        }
                    }
                    long[] b = store.rowBytes().snapshot();
                    assertEquals(rowsPushed, b[1], what + ": rows pushed");
                    assertEquals(coded.rowBytes().snapshot()[3], b[3], what + ": encoded bytes pushed, as in process");
                    assertTrue(b[2] > 0 && b[4] > b[2], what + ": pulls counted, fewer bytes than float32");
                }
            }
        }
    }

    /**
     * A gradient row that fp16 cannot carry (70000 becomes an infinity) is dropped and counted on the trainer, as a
     * non-finite row is, instead of being refused by the server (which would end the job); one that bf16 carries is
     * sent. A check on the raw values alone lets the fp16 row through and the server refuses the push.
     */
    @Test
    void aGradientRowTheCodecCannotCarryIsDroppedNotRefused() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, spec(1))) {
            for (RowCodec codec : new RowCodec[] {RowCodec.FP16, RowCodec.BF16}) {
                try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(LOOPBACK, nodes.addresses, false,
                        RemoteEmbeddingStore.Calls.LANE, codec)) {
                    float[] g = {70_000f, 0f, 0f, 1f, 0f, 0f};
                    store.push(0, new int[] {4, 5}, 0, 2, g, 0);
                    store.flush();
                    assertEquals(codec == RowCodec.FP16 ? 1 : 0, store.nonFiniteRowsDropped(), codec + ": rows dropped");
                    assertEquals(codec == RowCodec.FP16 ? 1 : 2, store.rowsPushed(), codec + ": rows applied");
                }
            }
            assertEquals(0, nodes.get(0).refused(Refusal.NOT_FINITE) + nodes.get(0).refused(Refusal.VALUE_TOO_LARGE));
        }
    }

    /** One request frame: route, codec id, one segment of table 1 (dim 20), one id, then the gradient bytes given. */
    private static ByteBuffer push(int codec, int gradBytes) {
        int payload = RowFrames.ROUTE_BYTES + 8 + 4 + gradBytes;
        ByteBuffer f = ByteBuffer.allocate(16 + payload).order(ByteOrder.LITTLE_ENDIAN);
        f.putInt(RowFrames.PUSH).putInt(7).putInt(1).putInt(payload);
        f.putInt(RowFrames.NO_ROUTE).putInt(0).putLong(0).putLong(0).putInt(codec);
        f.putInt(1).putInt(1).putInt(3);
        for (int i = 0; i < gradBytes; i++) f.put((byte) 0x11);
        return f.flip();
    }

    private static String refusal(SocketChannel ch, ByteBuffer frame, Status.Code code) throws Exception {
        ch.write(frame);
        DataInputStream in = new DataInputStream(ch.socket().getInputStream());
        ByteBuffer h = ByteBuffer.wrap(in.readNBytes(16)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(RowFrames.REFUSED, h.getInt(0));
        assertEquals(code.value(), h.getInt(8));
        return new String(in.readNBytes(h.getInt(12)), StandardCharsets.UTF_8);
    }

    /**
     * Exact bytes: an fp16 push of one row of 20 takes 40 bytes of gradients (applied), an int8 pull of it answers 24
     * (20 bytes and a scale) in a frame naming int8; an fp16 push carrying float32's 80 bytes, and a push in codec 9,
     * are refused with their reason and change nothing.
     */
    @Test
    void framesCarryTheCodecAndExactlyItsBytes() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, spec(1))) {
            PsServer ps = nodes.get(0);
            byte[] ticket = ps.info().getDataTicket().toByteArray();
            float[] before = ps.slices().slice(1).clone();
            try (SocketChannel ch = SocketPlane.connect(LOOPBACK, "127.0.0.1", ps.lanePort(), ticket, RowFrames.GROUP, 0, 0, 1,
                    SocketPlane.HANDSHAKE_NANOS)) {
                ch.write(push(RowCodec.FP16.id(), 40));
                DataInputStream in = new DataInputStream(ch.socket().getInputStream());
                ByteBuffer h = ByteBuffer.wrap(in.readNBytes(16)).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(RowFrames.ACK, h.getInt(0), "an fp16 row of 20 in 40 bytes is applied");
                assertEquals(1, h.getInt(8));
                float[] after = ps.slices().slice(1);
                assertTrue(after[3 * 20] != before[3 * 20], "row 3 moved");
                // a pull of row 3 in int8
                int payload = RowFrames.ROUTE_BYTES + 8 + 4;
                ByteBuffer p = ByteBuffer.allocate(16 + payload).order(ByteOrder.LITTLE_ENDIAN);
                p.putInt(RowFrames.PULL).putInt(8).putInt(1).putInt(payload);
                p.putInt(RowFrames.NO_ROUTE).putInt(0).putLong(0).putLong(0).putInt(RowCodec.INT8.id());
                p.putInt(1).putInt(1).putInt(3);
                ch.write(p.flip());
                h = ByteBuffer.wrap(in.readNBytes(16)).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(RowFrames.ROWS, h.getInt(0));
                assertEquals(RowCodec.INT8.id(), h.getInt(8), "the answer names its codec");
                assertEquals(20 + 4, h.getInt(12), "an int8 row of 20: 20 bytes and its scale");
                ByteBuffer rows = ByteBuffer.wrap(in.readNBytes(24));
                float[] row = new float[20];
                RowCodec.INT8.decode(rows, row, 0, 20);
                float[] want = java.util.Arrays.copyOfRange(after, 60, 80);
                RowCodec.INT8.round(want, 0, 1, 20);
                assertArrayEquals(want, row, "the server's float32 row, as int8 carries it");
            }
            float[] applied = ps.slices().slice(1).clone();
            try (SocketChannel ch = SocketPlane.connect(LOOPBACK, "127.0.0.1", ps.lanePort(), ticket, RowFrames.GROUP, 0, 0, 1,
                    SocketPlane.HANDSHAKE_NANOS)) {
                String why = refusal(ch, push(RowCodec.FP16.id(), 80), Status.Code.INVALID_ARGUMENT);
                assertTrue(why.contains("need 40 in row codec fp16"), why);
            }
            try (SocketChannel ch = SocketPlane.connect(LOOPBACK, "127.0.0.1", ps.lanePort(), ticket, RowFrames.GROUP, 0, 0, 1,
                    SocketPlane.HANDSHAKE_NANOS)) {
                String why = refusal(ch, push(9, 40), Status.Code.INVALID_ARGUMENT);
                assertTrue(why.contains("unknown row codec id 9"), why);
            }
            assertEquals(1, ps.refused(Refusal.LENGTH_MISMATCH));
            assertEquals(1, ps.refused(Refusal.UNKNOWN_CODEC));
            assertArrayEquals(applied, ps.slices().slice(1), "the refused frames changed nothing");
        }
    }
}
