package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.ExportRequest;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import io.shadowsync.net.proto.DenseCall;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Forged and broken messages against two token-protected nodes: each is refused with its status and a description
 * naming what is wrong, counted under its reason, leaves every parameter as it was, and the node answers the next
 * good call.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PsServerTest {
    private static final long[][] SHAPES = {{20, 4}, {7, 2}};
    private static final float[] STDS = {0.1f, 0.3f};
    private static final int MAX_MESSAGE = 64 << 10;
    private static final int MAX_ROWS = 64;
    private static final String TOKEN = "0123456789abcdef-test-token";

    private Path tokenFile;
    private Transport transport;
    private Nodes nodes;
    private ManagedChannel channel;
    private EmbeddingShardGrpc.EmbeddingShardBlockingStub emb;
    private DenseShardGrpc.DenseShardBlockingStub dense;

    @BeforeEach
    void start() throws Exception {
        tokenFile = Files.createTempFile("ps-token", ".txt");
        Files.writeString(tokenFile, TOKEN + "\n");
        transport = new Transport(NetConfig.LOOPBACK.withToken(tokenFile).withMaxMessageBytes(MAX_MESSAGE)
                .withCallDeadline(Duration.ofSeconds(10)));
        PsShardSpec spec = new PsShardSpec(SHAPES, STDS, 5, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1),
                new float[] {1, 2, 3, 4, 5}, OptimizerSpec.of("sgd", 0.5), 0, 2, MAX_ROWS);
        nodes = new Nodes(transport, spec);
        channel = transport.channel(nodes.addresses.get(0).toString());
        emb = EmbeddingShardGrpc.newBlockingStub(channel).withCallCredentials(transport.callCredentials())
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        dense = DenseShardGrpc.newBlockingStub(channel).withCallCredentials(transport.callCredentials())
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (nodes != null) nodes.close();
        Files.deleteIfExists(tokenFile);
    }

    private static ByteString ints(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return ByteString.copyFrom(b.array());
    }

    private static ByteString floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return ByteString.copyFrom(b.array());
    }

    private static RowBatch batch(int table, ByteString ids, int count, ByteString grads) {
        return RowBatch.newBuilder().addSegments(Segment.newBuilder().setTable(table).setCount(count)).setIds(ids)
                .setGrads(grads).build();
    }

    /** Every parameter of both nodes. */
    private float[][] parameters() {
        float[][] p = new float[6][];
        for (int s = 0; s < 2; s++) {
            p[3 * s] = nodes.get(s).slices().slice(0).clone();
            p[3 * s + 1] = nodes.get(s).slices().slice(1).clone();
            p[3 * s + 2] = nodes.get(s).dense().copy();
        }
        return p;
    }

    /**
     * Runs a call that must be refused by node 0 with the code, a description containing the fragment, and one count
     * under the reason; then checks that nothing changed and that the node still serves.
     */
    private void refused(Consumer<Void> call, Status.Code code, String fragment, Refusal reason) throws Exception {
        float[][] before = parameters();
        long counted = nodes.get(0).refused(reason);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call.accept(null));
        assertEquals(code, e.getStatus().getCode(), e.getMessage());
        String description = String.valueOf(e.getStatus().getDescription());
        assertTrue(description.contains(fragment), "'" + description + "' does not say '" + fragment + "'");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // transport refusals are counted as the stream closes
        while (nodes.get(0).refused(reason) == counted && System.nanoTime() < deadline) Thread.onSpinWait();
        assertEquals(counted + 1, nodes.get(0).refused(reason), "counted under " + reason);
        float[][] after = parameters();
        for (int i = 0; i < before.length; i++) assertArrayEquals(before[i], after[i], "parameters " + i + " changed");
        // still serving: a good pull of rows 0 and 2 (both on shard 0)
        ByteString rows = emb.pull(batch(0, ints(0, 2), 2, ByteString.EMPTY)).getValues();
        assertEquals(2 * 4 * 4, rows.size());
    }

    @Test
    void aCallWithoutTheTokenIsRefused() throws Exception {
        EmbeddingShardGrpc.EmbeddingShardBlockingStub anonymous = EmbeddingShardGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        refused(v -> anonymous.pull(batch(0, ints(0), 1, ByteString.EMPTY)), Status.Code.UNAUTHENTICATED, "no shadowsync token",
                Refusal.UNAUTHENTICATED);
        Metadata wrong = new Metadata();
        wrong.put(Transport.TOKEN, "0123456789abcdef-other-token");
        EmbeddingShardGrpc.EmbeddingShardBlockingStub forged = anonymous.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong));
        refused(v -> forged.push(batch(0, ints(0), 1, floats(1, 1, 1, 1))), Status.Code.UNAUTHENTICATED, "wrong shadowsync token",
                Refusal.UNAUTHENTICATED);
        DenseShardGrpc.DenseShardBlockingStub denseForged = DenseShardGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong)).withDeadlineAfter(10, TimeUnit.SECONDS);
        refused(v -> denseForged.pushDelta(DenseCall.newBuilder().setData(floats(1, 1, 1)).build()), Status.Code.UNAUTHENTICATED,
                "wrong shadowsync token", Refusal.UNAUTHENTICATED);
    }

    @Test
    void anOversizeMessageIsRefused() throws Exception {
        int n = MAX_MESSAGE / 16 + 8; // ids and 4-float gradients past the 64 KiB limit
        int[] ids = new int[n];
        float[] g = new float[4 * n];
        refused(v -> emb.push(batch(0, ints(ids), n, floats(g))), Status.Code.RESOURCE_EXHAUSTED, "exceeds maximum size",
                Refusal.MESSAGE_TOO_LARGE);
        int[] many = new int[MAX_ROWS + 1]; // small message, too many rows
        refused(v -> emb.pull(batch(0, ints(many), many.length, ByteString.EMPTY)), Status.Code.RESOURCE_EXHAUSTED,
                "65 rows; this server takes at most 64", Refusal.TOO_MANY_ROWS);
        refused(v -> emb.export(ExportRequest.newBuilder().setTable(0).setMaxRows(MAX_ROWS + 1).build()),
                Status.Code.RESOURCE_EXHAUSTED, "a page holds 1 to 64 rows", Refusal.TOO_MANY_ROWS);
    }

    @Test
    void nonFiniteValuesAreRefused() throws Exception {
        refused(v -> emb.push(batch(0, ints(0, 2), 2, floats(1, 2, 3, 4, 5, Float.NaN, 7, 8))), Status.Code.INVALID_ARGUMENT,
                "table 0, row 2: gradient element 1 is NaN", Refusal.NOT_FINITE);
        refused(v -> emb.push(batch(1, ints(4), 1, floats(Float.POSITIVE_INFINITY, 0))), Status.Code.INVALID_ARGUMENT,
                "table 1, row 4: gradient element 0 is Infinity", Refusal.NOT_FINITE);
        // node 0 holds dense floats [0, 2) of 5
        refused(v -> dense.pushDelta(DenseCall.newBuilder().setData(floats(0, Float.NaN)).build()), Status.Code.INVALID_ARGUMENT,
                "dense delta element 1 is NaN", Refusal.NOT_FINITE);
        refused(v -> dense.pushGradient(DenseCall.newBuilder().setData(floats(Float.NEGATIVE_INFINITY, 0)).build()),
                Status.Code.INVALID_ARGUMENT, "dense gradient element 0 is -Infinity", Refusal.NOT_FINITE);
    }

    /**
     * A finite but absurd value (3e38, from a client holding the token) is refused whole and counted, so the shared
     * parameters stay as they were; applied, it would make every later batch that reads them non-finite.
     */
    @Test
    void valuesBeyondTheBoundAreRefusedAndCounted() throws Exception {
        refused(v -> emb.push(batch(0, ints(0, 2), 2, floats(1, 2, 3, 4, 5, -3e38f, 7, 8))), Status.Code.INVALID_ARGUMENT,
                "table 0, row 2: gradient element 1 is -3.0E38; gradients must be at most", Refusal.VALUE_TOO_LARGE);
        refused(v -> dense.pushDelta(DenseCall.newBuilder().setData(floats(0, 2e6f)).build()), Status.Code.INVALID_ARGUMENT,
                "dense delta element 1 is 2000000.0; values must be at most", Refusal.VALUE_TOO_LARGE);
        refused(v -> dense.pushGradient(DenseCall.newBuilder().setData(floats(3e38f, 0)).build()), Status.Code.INVALID_ARGUMENT,
                "dense gradient element 0 is 3.0E38", Refusal.VALUE_TOO_LARGE);
        // at the bound is still taken
        float[] before = nodes.get(0).slices().slice(0).clone();
        emb.push(batch(0, ints(0), 1, floats(PsShardSpec.MAX_ABS_VALUE, 0, 0, -PsShardSpec.MAX_ABS_VALUE)));
        assertTrue(nodes.get(0).slices().slice(0)[0] != before[0], "a value at the bound is applied");
    }

    @Test
    void rowIdsOutOfRangeOrOfAnotherShardAreRefused() throws Exception {
        refused(v -> emb.pull(batch(0, ints(0, 20), 2, ByteString.EMPTY)), Status.Code.OUT_OF_RANGE,
                "table 0: row id 20 is outside [0, 20)", Refusal.ROW_OUT_OF_RANGE);
        refused(v -> emb.push(batch(1, ints(-2), 1, floats(1, 1))), Status.Code.OUT_OF_RANGE,
                "table 1: row id -2 is outside [0, 7)", Refusal.ROW_OUT_OF_RANGE);
        refused(v -> emb.push(batch(0, ints(2, 3), 2, floats(1, 1, 1, 1, 1, 1, 1, 1))), Status.Code.INVALID_ARGUMENT,
                "row 3 lives on shard 1 of 2, not on this shard 0", Refusal.WRONG_SHARD);
        refused(v -> emb.pull(batch(2, ints(0), 1, ByteString.EMPTY)), Status.Code.INVALID_ARGUMENT,
                "segment 0 names table 2; this node holds 2 tables", Refusal.NO_SUCH_TABLE);
    }

    @Test
    void lengthsThatDisagreeAreRefused() throws Exception {
        refused(v -> emb.pull(batch(0, ints(0, 2, 4), 4, ByteString.EMPTY)), Status.Code.INVALID_ARGUMENT,
                "ids hold 12 bytes, but the segments count 4 rows", Refusal.LENGTH_MISMATCH);
        refused(v -> emb.push(batch(0, ints(0, 2), 2, floats(1, 2, 3, 4, 5, 6, 7))), Status.Code.INVALID_ARGUMENT,
                "gradients hold 28 bytes, but 2 rows of their tables' dims need 32", Refusal.LENGTH_MISMATCH);
        refused(v -> emb.pull(batch(0, ints(0), 1, floats(1))), Status.Code.INVALID_ARGUMENT,
                "a pull carries no gradients", Refusal.LENGTH_MISMATCH);
        refused(v -> dense.pushDelta(DenseCall.newBuilder().setData(floats(1, 2, 3)).build()), Status.Code.INVALID_ARGUMENT,
                "a dense delta of 12 bytes: this node's block [0, 2) of 5 floats needs exactly 8", Refusal.LENGTH_MISMATCH);
    }

    @Test
    void goodCallsAreCountedAndChangeOnlyTheirRows() {
        float[] before = nodes.get(0).slices().slice(0).clone();
        long pushed = emb.push(batch(0, ints(4, 4), 2, floats(1, 1, 1, 1, 2, 2, 2, 2))).getRows();
        assertEquals(2, pushed);
        float[] after = nodes.get(0).slices().slice(0);
        for (int i = 0; i < before.length; i++) {
            boolean row4 = i / 4 == 2; // global row 4 is local row 2 of shard 0
            assertEquals(row4, before[i] != after[i], "element " + i);
        }
        assertEquals(2, nodes.get(0).rowsPushed());
        dense.pushGradient(DenseCall.newBuilder().setData(floats(2, 4)).build());
        assertArrayEquals(new float[] {0, 0}, nodes.get(0).dense().copy(), "sgd 0.5: 1 − 0.5·2, 2 − 0.5·4");
        assertEquals(1, nodes.get(0).densePushes());
        assertTrue(nodes.get(0).calls() >= 2);
    }

    @Test
    void aDenseGradientIsRefusedByANodeWithoutADenseOptimizer() throws Exception {
        PsShardSpec centerOnly = new PsShardSpec(SHAPES, STDS, 5, new EmbeddingOptimizerSpec("sgd", 0.1),
                new float[] {1, 2, 3}, null, 0, 1);
        try (PsServer ps = PsServer.start(transport, 0, centerOnly)) {
            ManagedChannel ch = transport.channel("127.0.0.1:" + ps.port());
            try {
                DenseShardGrpc.DenseShardBlockingStub stub = DenseShardGrpc.newBlockingStub(ch)
                        .withCallCredentials(transport.callCredentials()).withDeadlineAfter(10, TimeUnit.SECONDS);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> stub.pushGradient(DenseCall.newBuilder().setData(floats(1, 1, 1)).build()));
                assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("no dense optimizer"), e.getMessage());
                assertEquals(1, ps.refused(Refusal.NO_DENSE_OPTIMIZER));
                stub.pushDelta(DenseCall.newBuilder().setData(floats(1, 1, 1)).build());
                assertArrayEquals(new float[] {2, 3, 4}, ps.dense().copy());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void anAdminShutdownEndsTheNodes() throws Exception {
        List<HostPort> addrs = nodes.addresses;
        assertEquals(2, PsAdmin.describe(transport, addrs).get(1).getShards());
        assertEquals(0, PsAdmin.stats(transport, addrs).get(0).getRefusedOrThrow(Refusal.WRONG_SHARD.name()));
        Transport anonymous = new Transport(NetConfig.LOOPBACK);
        ParameterServerException e = assertThrows(ParameterServerException.class, () -> PsAdmin.shutdown(anonymous, addrs));
        assertTrue(e.getMessage().startsWith("parameter server shard 0 (" + addrs.get(0) + ") refused the call PsAdmin.Shutdown: "
                + "UNAUTHENTICATED"), e.getMessage());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // counted as the refused streams close
        while (nodes.get(0).refused(Refusal.UNAUTHENTICATED) + nodes.get(1).refused(Refusal.UNAUTHENTICATED) < 2
                && System.nanoTime() < deadline) Thread.onSpinWait();
        assertEquals(2, nodes.get(0).refused(Refusal.UNAUTHENTICATED) + nodes.get(1).refused(Refusal.UNAUTHENTICATED));
        PsAdmin.shutdown(transport, addrs);
        for (PsServer ps : nodes.servers) assertTrue(ps.awaitTermination(Duration.ofSeconds(10)), "node " + ps.shard() + " stopped");
    }
}
