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
import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.Manifest;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.CheckpointRequest;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.PsCheckpointGrpc;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import io.shadowsync.net.proto.Tensor;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parameter servers' checkpoint service: two nodes with row-wise Adagrad tables and an Adam dense block write
 * their parts, fresh nodes load them back bit for bit (values, optimizer state, Adam's step count), requests for other
 * directories or sequence numbers are refused with INVALID_ARGUMENT and a reason, and a damaged shard file is refused
 * on restore with DATA_LOSS naming it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShardCheckpointsTest {
    private static final long[][] SHAPES = {{20, 4}, {7, 2}};
    private static final float[] STDS = {0.1f, 0.3f};
    private static final PsShardSpec SPEC = new PsShardSpec(SHAPES, STDS, 5, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1),
            new float[] {1, 2, 3, 4, 5}, OptimizerSpec.of("adam", 0.01), 0, 2);

    @TempDir
    Path tmp;
    private Path dir;
    private final Transport transport = new Transport(NetConfig.LOOPBACK.withCallDeadline(Duration.ofSeconds(10)));
    private Nodes nodes;
    private Nodes fresh;
    private PsCheckpointClient client;
    private PsCheckpointClient freshClient;

    @BeforeEach
    void start() throws Exception {
        dir = tmp.resolve("ckpts");
        nodes = new Nodes(transport, SPEC);
        for (PsServer ps : nodes.servers) ps.checkpoints().allow(dir);
        client = new PsCheckpointClient(transport, nodes.addresses, Duration.ofSeconds(20));
    }

    @AfterEach
    void stop() {
        if (client != null) client.close();
        if (freshClient != null) freshClient.close();
        if (nodes != null) nodes.close();
        if (fresh != null) fresh.close();
    }

    private static ByteString ints(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return ByteString.copyFrom(b.array());
    }

    private static ByteString floats(int n, float base) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(base + 0.01f * i);
        return ByteString.copyFrom(b.array());
    }

    /** A push of rows {s, s+2} of table 0 to shard s, and a gradient of its dense block: state the optimizers keep. */
    private static void train(Transport transport, Nodes n, float base) throws InterruptedException {
        for (int s = 0; s < 2; s++) {
            ManagedChannel ch = transport.channel(n.addresses.get(s).toString());
            try {
                EmbeddingShardGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).push(RowBatch.newBuilder()
                        .addSegments(Segment.newBuilder().setTable(0).setCount(2)).setIds(ints(s, s + 2)).setGrads(floats(8, base + s)).build());
                DenseShardGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .pushGradient(io.shadowsync.net.proto.DenseCall.newBuilder().setData(floats(n.get(s).dense().length(), base)).build());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Every value and optimizer state of shard s. */
    private static float[][] state(Nodes n, int s) {
        PsServer ps = n.get(s);
        float[][] opt = ps.dense().checkpointState().optimizer()[0];
        return new float[][] {ps.slices().slice(0), ps.slices().slice(1), ps.slices().rowState(0), ps.slices().rowState(1),
                ps.dense().copy(), opt[0], opt[1]};
    }

    private long checkpoint() throws Exception {
        CheckpointDir ckpts = new CheckpointDir(dir, 2);
        long seq = ckpts.nextSeq();
        ckpts.create(seq);
        List<Manifest.Entry> files = client.checkpoint(new io.shadowsync.ckpt.LocalCheckpointStore(dir), seq);
        assertEquals(List.of("emb-shard-0.bin", "dense-block-0.bin", "emb-shard-1.bin", "dense-block-1.bin"),
                files.stream().map(Manifest.Entry::name).toList());
        ckpts.commit(seq, 0, Map.of("model.kind", "test"), files);
        return seq;
    }

    private void startFresh() throws IOException {
        fresh = new Nodes(transport, SPEC);
        for (PsServer ps : fresh.servers) ps.checkpoints().allow(dir);
        freshClient = new PsCheckpointClient(transport, fresh.addresses, Duration.ofSeconds(20));
    }

    @Test
    void restoresEveryShardBitForBit() throws Exception {
        train(transport, nodes, 0.5f);
        long seq = checkpoint();
        startFresh();
        assertFalse(java.util.Arrays.equals(fresh.get(0).slices().slice(0), nodes.get(0).slices().slice(0)), "trained rows differ from fresh ones");
        freshClient.restore(new io.shadowsync.ckpt.LocalCheckpointStore(dir), seq);
        for (int s = 0; s < 2; s++) {
            float[][] a = state(nodes, s), b = state(fresh, s);
            for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], "shard " + s + ", array " + i);
        }
        // the optimizers' hidden state too (Adam's step count): the next step leaves the same bits on both
        train(transport, nodes, -0.25f);
        train(transport, fresh, -0.25f);
        for (int s = 0; s < 2; s++) {
            float[][] a = state(nodes, s), b = state(fresh, s);
            for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], "after one more step: shard " + s + ", array " + i);
        }
    }

    @Test
    void refusesOtherDirectoriesAndBadSequenceNumbers() throws Exception {
        new CheckpointDir(dir, 2).create(1);
        ManagedChannel ch = transport.channel(nodes.addresses.get(0).toString());
        try {
            PsCheckpointGrpc.PsCheckpointBlockingStub stub = PsCheckpointGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
            String[][] cases = {
                    {tmp.resolve("elsewhere").toString(), "1", "takes checkpoints in"},
                    {dir + "/../../etc", "1", "takes checkpoints in"},
                    {"ckpts", "1", "absolute"},
                    {dir.toString(), "0", "sequence number 0"},
                    {dir.toString(), "7", "does not exist"},
            };
            for (String[] c : cases) {
                CheckpointRequest r = CheckpointRequest.newBuilder().setDir(c[0]).setSeq(Long.parseLong(c[1])).build();
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.checkpoint(r), c[0]);
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), c[0]);
                assertTrue(e.getStatus().getDescription().contains(c[2]), e.getStatus().getDescription());
            }
            try (var files = Files.list(dir.resolve("ckpt-1"))) {
                assertEquals(0, files.count(), "nothing written for a refused request");
            }
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        // a node without a checkpoint directory takes none
        try (PsServer bare = PsServer.start(transport, 0, SPEC)) {
            ManagedChannel c2 = transport.channel("127.0.0.1:" + bare.port());
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> PsCheckpointGrpc.newBlockingStub(c2)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).checkpoint(CheckpointRequest.newBuilder().setDir(dir.toString()).setSeq(1).build()));
                assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("--checkpoint-dir"), e.getStatus().getDescription());
            } finally {
                c2.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void refusesACorruptShardOnRestore() throws Exception {
        train(transport, nodes, 0.5f);
        long seq = checkpoint();
        Path shard1 = dir.resolve("ckpt-" + seq).resolve("emb-shard-1.bin");
        byte[] bytes = Files.readAllBytes(shard1);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(shard1, bytes);
        startFresh();
        float[] before = fresh.get(1).slices().slice(0).clone();
        IOException e = assertThrows(IOException.class, () -> freshClient.restore(new io.shadowsync.ckpt.LocalCheckpointStore(dir), seq));
        assertTrue(e.getMessage().contains("shard 1") && e.getMessage().contains("DATA_LOSS") && e.getMessage().contains("emb-shard-1.bin")
                && e.getMessage().contains("checksum"), e.getMessage());
        assertArrayEquals(before, fresh.get(1).slices().slice(0), "a refused restore changes nothing");
        // truncated: named as such
        Files.write(shard1, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        IOException t = assertThrows(IOException.class, () -> freshClient.restore(new io.shadowsync.ckpt.LocalCheckpointStore(dir), seq));
        assertTrue(t.getMessage().contains("truncated"), t.getMessage());
    }
}
