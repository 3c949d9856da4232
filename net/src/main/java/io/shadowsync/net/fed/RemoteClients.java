package io.shadowsync.net.fed;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.fed.ClientPool;
import io.shadowsync.fed.ClientUpload;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.DealCall;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.FederatedClientsGrpc;
import io.shadowsync.net.proto.RevealCall;
import io.shadowsync.net.proto.RoundSlot;
import io.shadowsync.net.proto.Tensor;
import io.shadowsync.net.proto.TrainCall;
import io.shadowsync.net.proto.UploadReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's view of client processes: a {@link ClientPool} whose steps are gRPC calls, one per sampled client, all
 * at once, to the process holding it (client k in process k mod P). A call that fails because the process is gone
 * (UNAVAILABLE: a killed process's connection is refused or reset at once), is cancelled, or passes its deadline
 * (the round deadline for training, the transport's call deadline for the other steps) is that client's dropout:
 * its slot comes back null and the round goes on. A client whose training failed (ABORTED) ends the run with a
 * {@link TrainingException}; a refused step (INVALID_ARGUMENT: a mismatch, a bug) with an {@link IllegalStateException}.
 *
 * <p>Called from the server's one thread; {@link #lostProcesses} from any.
 */
public final class RemoteClients implements ClientPool {
    private final Transport transport;
    private final List<HostPort> processes;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<FederatedClientsGrpc.FederatedClientsBlockingStub> stubs = new ArrayList<>();
    private final Duration roundTimeout;
    private final ExecutorService calls;
    private final boolean[] lost;

    /**
     * @param processes    the client processes, by index
     * @param roundTimeout how long a client has to train and upload; later, it has dropped out of the round
     */
    public RemoteClients(Transport transport, List<HostPort> processes, Duration roundTimeout) {
        if (processes.isEmpty()) throw new IllegalArgumentException("a federation needs at least one client process");
        this.transport = transport;
        this.processes = List.copyOf(processes);
        this.roundTimeout = roundTimeout;
        this.lost = new boolean[processes.size()];
        CallCredentials creds = transport.callCredentials();
        for (HostPort p : processes) {
            ManagedChannel ch = transport.channel(p.toString());
            channels.add(ch);
            FederatedClientsGrpc.FederatedClientsBlockingStub s = FederatedClientsGrpc.newBlockingStub(ch);
            stubs.add(creds == null ? s : s.withCallCredentials(creds));
        }
        AtomicInteger named = new AtomicInteger();
        this.calls = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fed-call-" + named.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    /** Client processes that failed a call as gone (not merely late), by index. */
    public synchronized List<Integer> lostProcesses() {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < lost.length; p++) if (lost[p]) out.add(p);
        return out;
    }

    private int processOf(int client) {
        return client % processes.size();
    }

    private FederatedClientsGrpc.FederatedClientsBlockingStub stub(int client, Duration deadline) {
        return stubs.get(processOf(client)).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static RoundSlot at(Round round, int slot) {
        return RoundSlot.newBuilder().setRound(round.round()).setClient(round.clients()[slot]).setSlot(slot)
                .setSize(round.size()).setThreshold(round.threshold()).build();
    }

    private interface Step<T> {
        T call(int slot, int client);
    }

    /** The step for every slot at once; null where the client dropped out. */
    private <T> List<T> each(Round round, Step<T> step) throws InterruptedException {
        List<Future<T>> futures = new ArrayList<>(round.size());
        for (int i = 0; i < round.size(); i++) {
            int slot = i, k = round.clients()[i];
            futures.add(calls.submit((Callable<T>) () -> {
                try {
                    return step.call(slot, k);
                } catch (StatusRuntimeException e) {
                    Status.Code code = e.getStatus().getCode();
                    String why = e.getStatus().getDescription();
                    if (code == Status.Code.ABORTED) {
                        throw new TrainingException(new IllegalStateException("client " + k + " (process " + processOf(k) + "): " + why));
                    }
                    if (code == Status.Code.INVALID_ARGUMENT || code == Status.Code.UNIMPLEMENTED || code == Status.Code.UNAUTHENTICATED
                            || code == Status.Code.PERMISSION_DENIED) {
                        throw new IllegalStateException("client process " + processOf(k) + " at " + processes.get(processOf(k))
                                + " refused a step for client " + k + ": " + (why == null ? code : why));
                    }
                    if (code == Status.Code.UNAVAILABLE) markLost(processOf(k));
                    return null; // gone, cancelled or late: a dropout
                }
            }));
        }
        return ClientPool.gather(futures);
    }

    private synchronized void markLost(int p) {
        lost[p] = true;
    }

    @Override
    public byte[][] advertise(Round round) throws InterruptedException {
        Duration d = transport.config().callDeadline();
        return each(round, (slot, k) -> stub(k, d).advertise(at(round, slot)).getData().toByteArray()).toArray(new byte[0][]);
    }

    @Override
    public byte[][][] deal(Round round, byte[][] advertised) throws InterruptedException {
        Duration d = transport.config().callDeadline();
        var keys = Wire.blobs(advertised);
        return each(round, (slot, k) -> advertised[slot] == null ? null
                : Wire.blobs(stub(k, d).deal(DealCall.newBuilder().setAt(at(round, slot)).setAdvertised(keys).build()))).toArray(new byte[0][][]);
    }

    @Override
    public ClientUpload[] train(Round round, float[] global, float[][] tables, byte[][] advertised, byte[][][] dealt) throws InterruptedException {
        Tensor model = Tensor.newBuilder().setData(Wire.floats(global)).build();
        List<Tensor> globalTables = new ArrayList<>(tables.length);
        for (float[] t : tables) globalTables.add(Tensor.newBuilder().setData(Wire.floats(t)).build());
        var keys = advertised == null ? null : Wire.blobs(advertised);
        return each(round, (slot, k) -> {
            TrainCall.Builder c = TrainCall.newBuilder().setAt(at(round, slot)).setDrop(round.drops()[slot]).setGlobal(model).addAllTables(globalTables);
            if (advertised != null) {
                if (advertised[slot] == null || dealt[slot] == null) return null; // left the round at its setup
                byte[][] mine = new byte[dealt.length][];
                for (int i = 0; i < dealt.length; i++) mine[i] = dealt[i] == null ? null : dealt[i][slot];
                c.setSecure(true).setAdvertised(keys).setDealt(Wire.blobs(mine));
            }
            UploadReply r = stub(k, roundTimeout).train(c.build());
            if (r.getDropped()) return null;
            return new ClientUpload(advertised == null ? r.getEncoded().toByteArray() : null, advertised == null ? Wire.rows(r.getRowsList()) : null,
                    advertised == null ? null : Wire.longs(r.getMasked()), r.getExamples(), r.getTrained(), r.getTrainLoss(), r.getBytes(), r.getSecureNanos());
        }).toArray(new ClientUpload[0]);
    }

    @Override
    public byte[][][] reveal(Round round, boolean[] survived) throws InterruptedException {
        Duration d = transport.config().callDeadline();
        RevealCall.Builder b = RevealCall.newBuilder();
        for (boolean s : survived) b.addSurvived(s);
        RevealCall base = b.build();
        return each(round, (slot, k) -> !survived[slot] ? null
                : Wire.blobs(stub(k, d).reveal(base.toBuilder().setAt(at(round, slot)).build()))).toArray(new byte[0][][]);
    }

    /** Tells every process that is still there that the run is over, and closes the channels. */
    @Override
    public void close() {
        for (int p = 0; p < stubs.size(); p++) {
            try {
                stubs.get(p).withDeadlineAfter(5, TimeUnit.SECONDS).finish(Empty.getDefaultInstance());
            } catch (StatusRuntimeException gone) {
                // a lost process has nothing to be told
            }
        }
        calls.shutdownNow();
        for (ManagedChannel ch : channels) ch.shutdownNow();
    }
}
