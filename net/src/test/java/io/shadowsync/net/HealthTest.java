package io.shadowsync.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.PsAdminGrpc;
import io.shadowsync.net.proto.GroupsGrpc;
import io.shadowsync.net.proto.StatusRequest;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.ps.PsShardSpec;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.Groups;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every server answers the standard gRPC health service without the job's token, and nothing else without it:
 * {@code SERVING} while it runs, {@code NOT_SERVING} once it is shutting down, unreachable once stopped.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HealthTest {
    private static final PsShardSpec ONE_NODE = new PsShardSpec(new long[][] {{10, 4}}, new float[] {0.2f}, 3,
            new EmbeddingOptimizerSpec("sgd", 0.1), null, null, 0, 1);

    @TempDir
    Path dir;

    /** A plaintext channel with no token: what a Kubernetes gRPC probe or grpc_health_probe is. */
    private static ManagedChannel probeChannel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    private static ServingStatus check(ManagedChannel ch, String service) {
        return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    private Transport tokenTransport() throws Exception {
        Path token = dir.resolve("job.token");
        Files.writeString(token, "shared-secret-of-the-job-0001\n");
        return new Transport(NetConfig.LOOPBACK.withToken(token));
    }

    @Test
    void aParameterServerIsServingToAProbeWithoutATokenAndRefusesEverythingElseWithoutIt() throws Exception {
        Transport transport = tokenTransport();
        PsServer ps = PsServer.start(transport, 0, ONE_NODE);
        int port = ps.port();
        ManagedChannel ch = probeChannel(port);
        try {
            assertEquals(ServingStatus.SERVING, check(ch, ""));
            assertEquals(ServingStatus.SERVING, check(ch, "shadowsync.v1.EmbeddingShard"));
            assertEquals(ServingStatus.SERVING, check(ch, "shadowsync.v1.PsAdmin"));
            StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> check(ch, "no.such.Service"));
            assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

            // the same channel, without a token, may not stop the server: the health service opened no other door
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> PsAdminGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).shutdown(Empty.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
            assertEquals(1, transport.refusedCalls());
            assertFalse(ps.awaitTermination(Duration.ofMillis(200)), "the server stopped on an unauthenticated call");
            assertEquals(ServingStatus.SERVING, check(ch, ""));

            // a watcher sees the server go: NOT_SERVING as soon as it is shut down, while its calls in flight finish
            LinkedBlockingQueue<Object> seen = new LinkedBlockingQueue<>();
            HealthGrpc.newStub(ch).watch(HealthCheckRequest.newBuilder().setService("").build(), new StreamObserver<>() {
                @Override
                public void onNext(io.grpc.health.v1.HealthCheckResponse r) {
                    seen.add(r.getStatus());
                }

                @Override
                public void onError(Throwable t) {
                    seen.add(Status.fromThrowable(t).getCode());
                }

                @Override
                public void onCompleted() {
                    seen.add("completed");
                }
            });
            assertEquals(ServingStatus.SERVING, seen.poll(10, TimeUnit.SECONDS));
            ps.close();
            assertEquals(ServingStatus.NOT_SERVING, seen.poll(10, TimeUnit.SECONDS));
        } finally {
            ps.close();
            ch.shutdownNow();
            ch.awaitTermination(5, TimeUnit.SECONDS);
        }
        ManagedChannel after = probeChannel(port);
        try {
            StatusRuntimeException gone = assertThrows(StatusRuntimeException.class, () -> check(after, ""));
            assertEquals(Status.Code.UNAVAILABLE, gone.getStatus().getCode());
        } finally {
            after.shutdownNow();
        }
    }

    @Test
    void theCoordinatorAnswersProbesAndItsServicesStillNeedTheToken() throws Exception {
        Transport transport = tokenTransport();
        Coordinator c = new Coordinator(2, 1, Duration.ofSeconds(30));
        Groups groups = new Groups(c, Duration.ofSeconds(5));
        Server server = transport.serve(0, List.of(c, groups));
        ManagedChannel ch = probeChannel(server.getPort());
        try {
            assertEquals(ServingStatus.SERVING, check(ch, ""));
            assertEquals(ServingStatus.SERVING, check(ch, "shadowsync.v1.Rendezvous"));
            assertEquals(ServingStatus.SERVING, check(ch, "shadowsync.v1.Groups"));
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> GroupsGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
            server.shutdown();
            // shut down, before it has stopped: a new probe finds it no longer serving or already gone, never serving
            try {
                ServingStatus s = check(ch, "");
                assertEquals(ServingStatus.NOT_SERVING, s);
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            }
            assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
        } finally {
            server.shutdownNow();
            ch.shutdownNow();
            ch.awaitTermination(5, TimeUnit.SECONDS);
            groups.close(); // their timers must not outlive the test (RendezvousTest checks for a leftover timer thread)
            c.close();
        }
    }
}
