package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.ExportRequest;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import io.shadowsync.net.proto.Tensor;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the parameter server's protobuf decoders end to end: random bytes, and valid messages with bytes flipped,
 * cut or inserted, go over a real channel to every method that takes a payload. Each call must end with OK or a
 * refusal naming what is wrong (never UNKNOWN, which is what an exception escaping a handler gives, and never a
 * hang); a refused message leaves every parameter as it was; the server goes on serving.
 */
class PsDecoderPropertyTest {
    private static final long[][] SHAPES = {{40, 4}, {9, 2}};
    private static final Set<Status.Code> REFUSALS = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.OUT_OF_RANGE,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.FAILED_PRECONDITION,
            Status.Code.INTERNAL); // INTERNAL: gRPC's own answer to bytes that are not a protobuf message of the type
    private static final List<String> METHODS = List.of(
            EmbeddingShardGrpc.getPullMethod().getFullMethodName(), EmbeddingShardGrpc.getPushMethod().getFullMethodName(),
            EmbeddingShardGrpc.getExportMethod().getFullMethodName(), DenseShardGrpc.getPushDeltaMethod().getFullMethodName(),
            DenseShardGrpc.getPushGradientMethod().getFullMethodName());

    private static Nodes nodes;
    private static ManagedChannel channel;

    @BeforeContainer
    static void start() throws IOException {
        Transport transport = new Transport(NetConfig.LOOPBACK.withMaxMessageBytes(64 << 10).withCallDeadline(Duration.ofSeconds(5)));
        PsShardSpec spec = new PsShardSpec(SHAPES, new float[]{0.1f, 0.2f}, 3, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1),
                new float[]{1, 2, 3, 4, 5, 6}, OptimizerSpec.of("adam", 0.01), 0, 2, 64);
        nodes = new Nodes(transport, spec);
        channel = transport.channel(nodes.addresses.get(0).toString());
    }

    @AfterContainer
    static void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (nodes != null) nodes.close();
    }

    @Property(tries = 300)
    void randomBytesAreRefusedCleanly(@ForAll("methods") String method, @ForAll("garbage") byte[] payload) {
        call(method, payload);
    }

    @Property(tries = 400)
    void mutatedMessagesAreAppliedOrRefusedWhole(@ForAll("methods") String method, @ForAll("mutated") byte[] payload) {
        call(method, payload);
    }

    /** Sends the bytes as the method's request; checks the outcome, the parameters, and that the server still serves. */
    private static void call(String method, byte[] payload) {
        float[][] before = parameters();
        Status.Code code = Status.Code.OK;
        String description = null;
        try {
            ClientCalls.blockingUnaryCall(channel, raw(method), io.grpc.CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), payload);
        } catch (StatusRuntimeException e) {
            code = e.getStatus().getCode();
            description = e.getStatus().getDescription();
        }
        if (code != Status.Code.OK) {
            if (!REFUSALS.contains(code)) throw new AssertionError(method + " answered " + code + " (" + description + ") to " + hex(payload));
            if (description == null || description.isBlank()) throw new AssertionError(method + " refused " + hex(payload) + " without a reason");
            float[][] after = parameters();
            for (int i = 0; i < before.length; i++) {
                if (!Arrays.equals(before[i], after[i])) throw new AssertionError("refused " + method + " changed parameters " + i);
            }
        }
        byte[] pull = RowBatch.newBuilder().addSegments(Segment.newBuilder().setTable(0).setCount(1)).setIds(ints(2)).build().toByteArray();
        byte[] rows = ClientCalls.blockingUnaryCall(channel, raw(EmbeddingShardGrpc.getPullMethod().getFullMethodName()),
                io.grpc.CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), pull);
        if (rows.length < 16) throw new AssertionError("a good pull after " + method + " got " + rows.length + " bytes");
    }

    private static float[][] parameters() {
        PsServer s = nodes.get(0);
        return new float[][]{s.slices().slice(0).clone(), s.slices().slice(1).clone(), s.dense().copy()};
    }

    @Provide
    Arbitrary<String> methods() {
        return Arbitraries.of(METHODS);
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    }

    /** A valid request of any of the methods, then a byte flipped, a cut, or bytes inserted. */
    @Provide
    Arbitrary<byte[]> mutated() {
        Arbitrary<byte[]> valid = Arbitraries.oneOf(rowBatches(), tensors(), exports());
        return Combinators.combine(valid, Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 1 << 16),
                Arbitraries.bytes()).as((b, kind, where, value) -> mutate(b, kind, where, value));
    }

    private static byte[] mutate(byte[] b, int kind, int where, byte value) {
        if (b.length == 0) return new byte[]{value};
        int at = where % b.length;
        return switch (kind) {
            case 0 -> {
                byte[] c = b.clone();
                c[at] ^= value == 0 ? 1 : value;
                yield c;
            }
            case 1 -> Arrays.copyOf(b, at);
            default -> {
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                c[at] = value;
                System.arraycopy(b, at, c, at + 1, b.length - at);
                yield c;
            }
        };
    }

    private static Arbitrary<byte[]> rowBatches() {
        Arbitrary<Integer> table = Arbitraries.integers().between(0, 1);
        Arbitrary<int[]> ids = Arbitraries.integers().between(0, 19).map(i -> 2 * i).array(int[].class).ofMinSize(1).ofMaxSize(8);
        Arbitrary<Float> value = Arbitraries.floats().between(-1, 1);
        return Combinators.combine(table, ids, value).as((t, id, v) -> {
            int[] rows = Arrays.stream(id).map(i -> t == 1 ? i % 9 / 2 * 2 : i).toArray();
            float[] g = new float[rows.length * (int) SHAPES[t][1]];
            Arrays.fill(g, v);
            return RowBatch.newBuilder().addSegments(Segment.newBuilder().setTable(t).setCount(rows.length)).setIds(ints(rows))
                    .setGrads(floats(g)).build().toByteArray();
        });
    }

    private static Arbitrary<byte[]> tensors() {
        return Arbitraries.floats().between(-1, 1).array(float[].class).ofMinSize(0).ofMaxSize(6)
                .map(v -> Tensor.newBuilder().setData(floats(v)).build().toByteArray());
    }

    private static Arbitrary<byte[]> exports() {
        return Combinators.combine(Arbitraries.integers().between(-1, 2), Arbitraries.longs().between(-1, 30), Arbitraries.integers().between(-1, 100))
                .as((t, first, max) -> ExportRequest.newBuilder().setTable(t).setFirstLocalRow(first).setMaxRows(max).build().toByteArray());
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

    private static String hex(byte[] b) {
        return b.length + " bytes " + java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 64));
    }

    /** The method with its request and response as raw bytes, so that any byte sequence can be sent. */
    private static MethodDescriptor<byte[], byte[]> raw(String fullName) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(fullName)
                .setRequestMarshaller(Transport.RAW_BYTES).setResponseMarshaller(Transport.RAW_BYTES).build();
    }

}
