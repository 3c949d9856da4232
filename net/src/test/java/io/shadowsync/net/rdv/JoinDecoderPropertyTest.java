package io.shadowsync.net.rdv;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.JoinRequest;
import io.shadowsync.net.proto.RendezvousGrpc;
import java.io.IOException;
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
 * Fuzzes the coordinator's decoder: random bytes and mutated join requests (any role, index, address, digest) get an
 * answer — the membership, or a refusal with a reason — within the call's deadline, never UNKNOWN (an exception
 * escaping the handler) and never a hang; the coordinator goes on answering.
 */
class JoinDecoderPropertyTest {
    private static final Set<Status.Code> ANSWERS = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.FAILED_PRECONDITION,
            Status.Code.ALREADY_EXISTS, Status.Code.OUT_OF_RANGE, Status.Code.RESOURCE_EXHAUSTED);
    private static Server server;
    private static ManagedChannel channel;
    private static Coordinator coordinator;

    @BeforeContainer
    static void start() throws IOException {
        Transport t = new Transport(NetConfig.LOOPBACK.withMaxMessageBytes(64 << 10));
        // one trainer, no server: the first good join completes the membership, so no valid request long-polls
        coordinator = new Coordinator(1, 0, Duration.ofMinutes(5));
        server = t.serve(0, List.of(coordinator));
        channel = t.channel("127.0.0.1:" + server.getPort());
    }

    @AfterContainer
    static void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (coordinator != null) coordinator.close(); // its timer thread must not outlive the class (RendezvousTest checks)
    }

    @Property(tries = 300)
    void anyBytesGetAnAnswer(@ForAll("requests") byte[] payload) {
        Status.Code code = Status.Code.OK;
        String why = null;
        try {
            ClientCalls.blockingUnaryCall(channel, JOIN, CallOptions.DEFAULT.withDeadlineAfter(3, TimeUnit.SECONDS), payload);
        } catch (StatusRuntimeException e) {
            code = e.getStatus().getCode();
            why = e.getStatus().getDescription();
        }
        if (!ANSWERS.contains(code)) throw new AssertionError("Join answered " + code + " (" + why + ") to " + Arrays.toString(payload));
        if (code != Status.Code.OK && (why == null || why.isBlank())) throw new AssertionError("refused without a reason: " + code);
    }

    @Provide
    Arbitrary<byte[]> requests() {
        Arbitrary<byte[]> valid = Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().between(-2, 3),
                Arbitraries.of("127.0.0.1:7000", "127.0.0.1:7001", "", "nohost", "h:99999", "[::1]:5", "a:b:c"),
                Arbitraries.strings().ofMaxLength(12)).as((role, index, address, digest) -> JoinRequest.newBuilder()
                .setRoleValue(role).setIndex(index).setAddress(address).setDigest(digest).build().toByteArray());
        Arbitrary<byte[]> garbage = Arbitraries.bytes().array(byte[].class).ofMaxSize(80);
        Arbitrary<byte[]> flipped = Combinators.combine(valid, Arbitraries.integers().between(0, 1000), Arbitraries.bytes())
                .as((b, at, v) -> {
                    if (b.length == 0) return new byte[]{v};
                    byte[] c = b.clone();
                    c[at % c.length] ^= v == 0 ? 1 : v;
                    return c;
                });
        return Arbitraries.oneOf(valid, garbage, flipped);
    }


    private static final MethodDescriptor<byte[], byte[]> JOIN = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(RendezvousGrpc.getJoinMethod().getFullMethodName())
            .setRequestMarshaller(Transport.RAW_BYTES).setResponseMarshaller(Transport.RAW_BYTES).build();
}
