package io.shadowsync.net.fed;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.fed.ClientUpload;
import io.shadowsync.fed.FederatedClient;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.Blob;
import io.shadowsync.net.proto.Blobs;
import io.shadowsync.net.proto.DealCall;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.FederatedClientsGrpc;
import io.shadowsync.net.proto.RevealCall;
import io.shadowsync.net.proto.RoundSlot;
import io.shadowsync.net.proto.TrainCall;
import io.shadowsync.net.proto.UploadReply;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.NetSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One client process of a federation: it serves the round steps of the clients whose shards it holds
 * ({@link FederatedClient}) to the federation server, which it meets at the job's coordinator as client process
 * {@code index}. It runs until the server says the run is over, or until the server has not answered a health check
 * for {@code serverGone} (a server that died leaves no client process behind).
 *
 * <pre>{@code
 * try (ClientProcess p = ClientProcess.start(clients, NetSettings.loopback())) {
 *     p.join(coordinator, index, digest);
 *     p.awaitFinish(Duration.ofSeconds(10));   // true: the server ended the run
 * }
 * }</pre>
 * Threading: the steps run on gRPC's threads, several clients at once; {@link #close} from any thread.
 */
public final class ClientProcess implements AutoCloseable {
    private final FederatedClient clients;
    private final Transport transport;
    private final Server server;
    private final HostPort address;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final NetSettings net;
    private volatile HostPort federationServer;

    private ClientProcess(FederatedClient clients, NetSettings net) throws IOException {
        this.clients = clients;
        this.net = net;
        this.transport = new Transport(net.config());
        this.server = transport.serve(net.port(), List.of(new Service()));
        this.address = net.advertised(server.getPort());
    }

    /** Binds (a free port when net's is 0) and serves the steps; {@link #join} then registers with the job. */
    public static ClientProcess start(FederatedClient clients, NetSettings net) throws IOException {
        return new ClientProcess(clients, net);
    }

    public HostPort address() {
        return address;
    }

    /**
     * Meets the server and the other client processes at the coordinator: waits until all have arrived.
     *
     * @param digest the job's terms; a process of another job is refused
     */
    public void join(HostPort coordinator, int index, String digest) throws InterruptedException {
        Membership m = Rendezvous.join(transport, coordinator, Role.TRAINER, index, address, digest, net.rendezvousTimeout());
        federationServer = m.servers().get(0);
    }

    /**
     * Waits for the end of the run.
     *
     * @return true when the server ended it, false when the server stopped answering for serverGone
     */
    public boolean awaitFinish(Duration serverGone) throws InterruptedException {
        HostPort at = federationServer;
        if (at == null) throw new IllegalStateException("awaitFinish before join");
        ManagedChannel ch = transport.channel(at.toString());
        try {
            HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch);
            long lastSeen = System.nanoTime();
            while (!finished.await(1, TimeUnit.SECONDS)) {
                try {
                    health.withDeadlineAfter(2, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
                    lastSeen = System.nanoTime();
                } catch (StatusRuntimeException e) {
                    if (System.nanoTime() - lastSeen > serverGone.toNanos()) return false;
                }
            }
            return true;
        } finally {
            ch.shutdownNow();
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The steps; a failed local training is ABORTED (the run ends), anything else wrong INVALID_ARGUMENT. */
    private final class Service extends FederatedClientsGrpc.FederatedClientsImplBase {
        @Override
        public void advertise(RoundSlot at, StreamObserver<Blob> out) {
            answer(out, () -> Blob.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(
                    clients.advertise(at.getClient(), at.getSlot(), at.getSize(), at.getThreshold()))).build());
        }

        @Override
        public void deal(DealCall call, StreamObserver<Blobs> out) {
            answer(out, () -> Wire.blobs(clients.deal(call.getAt().getClient(), Wire.blobs(call.getAdvertised()))));
        }

        @Override
        public void train(TrainCall call, StreamObserver<UploadReply> out) {
            answer(out, () -> {
                RoundSlot at = call.getAt();
                float[][] tables = new float[call.getTablesCount()][];
                for (int t = 0; t < tables.length; t++) tables[t] = Wire.floats(call.getTables(t).getData());
                ClientUpload u = clients.train(at.getClient(), at.getRound(), call.getDrop(), Wire.floats(call.getGlobal().getData()), tables,
                        call.getSecure() ? Wire.blobs(call.getAdvertised()) : null, call.getSecure() ? Wire.blobs(call.getDealt()) : null);
                if (u == null) return UploadReply.newBuilder().setDropped(true).build();
                UploadReply.Builder b = UploadReply.newBuilder().setExamples(u.examples()).setTrained(u.trained())
                        .setTrainLoss(u.trainLoss()).setBytes(u.bytes()).setSecureNanos(u.secureNanos());
                if (u.encoded() != null) b.setEncoded(com.google.protobuf.ByteString.copyFrom(u.encoded()));
                if (u.masked() != null) b.setMasked(Wire.longs(u.masked()));
                if (u.rows() != null) b.addAllRows(Wire.rows(u.rows()));
                return b.build();
            });
        }

        @Override
        public void reveal(RevealCall call, StreamObserver<Blobs> out) {
            boolean[] survived = new boolean[call.getSurvivedCount()];
            for (int i = 0; i < survived.length; i++) survived[i] = call.getSurvived(i);
            answer(out, () -> Wire.blobs(clients.reveal(call.getAt().getClient(), survived)));
        }

        @Override
        public void finish(Empty req, StreamObserver<Empty> out) {
            out.onNext(Empty.getDefaultInstance());
            out.onCompleted();
            finished.countDown();
        }
    }

    private interface Answer<T> {
        T get() throws Exception;
    }

    private static <T> void answer(StreamObserver<T> out, Answer<T> a) {
        T reply;
        try {
            reply = a.get();
        } catch (TrainingException e) {
            out.onError(Status.ABORTED.withDescription(String.valueOf(e.getMessage())).asRuntimeException());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.onError(Status.CANCELLED.withDescription("the client process is stopping").asRuntimeException());
            return;
        } catch (Exception e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(String.valueOf(e.getMessage())).asRuntimeException());
            return;
        }
        out.onNext(reply);
        out.onCompleted();
    }
}
