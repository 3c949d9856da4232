package io.shadowsync.net.ps;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.ckpt.Manifest;
import io.shadowsync.ckpt.MultiProcessCheckpointer;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.CheckpointFile;
import io.shadowsync.net.proto.CheckpointFiles;
import io.shadowsync.net.proto.CheckpointRequest;
import io.shadowsync.net.proto.PsCheckpointGrpc;
import java.io.IOException;
import io.shadowsync.ckpt.CheckpointStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Trainer 0's side of the {@code PsCheckpoint} service: asks every parameter server at once to write (or load) its
 * part of a checkpoint and waits for all of them. A server's refusal or failure becomes an {@link IOException} naming
 * the shard, its address and the server's reason.
 *
 * <p>Sharing contract: thread-safe (channels and stubs are); one checkpoint or restore at a time is what trainer 0 asks.
 */
public final class PsCheckpointClient implements MultiProcessCheckpointer.Servers, AutoCloseable {
    private final Transport transport;
    private final List<HostPort> servers;
    private final ManagedChannel[] channels;
    private final long deadlineNanos;

    /**
     * @param deadline how long one server may take to write or load its part (large tables take a while to write:
     *                 give more than the call deadline of training calls)
     */
    public PsCheckpointClient(Transport transport, List<HostPort> servers, Duration deadline) {
        if (transport == null || servers == null || servers.isEmpty()) throw new IllegalArgumentException("a transport and the servers' addresses are required");
        if (deadline == null || deadline.isNegative() || deadline.isZero()) throw new IllegalArgumentException("the checkpoint deadline must be positive, got " + deadline);
        this.transport = transport;
        this.servers = List.copyOf(servers);
        this.channels = new ManagedChannel[servers.size()];
        for (int s = 0; s < channels.length; s++) channels[s] = transport.channel(servers.get(s).toString());
        this.deadlineNanos = deadline.toNanos();
    }

    @Override
    public List<Manifest.Entry> checkpoint(CheckpointStore checkpointDir, long seq) throws IOException, InterruptedException {
        return call(checkpointDir, seq, true);
    }

    @Override
    public void restore(CheckpointStore checkpointDir, long seq) throws IOException, InterruptedException {
        call(checkpointDir, seq, false);
    }

    private List<Manifest.Entry> call(CheckpointStore checkpointDir, long seq, boolean write) throws IOException, InterruptedException {
        CheckpointRequest req = CheckpointRequest.newBuilder().setDir(checkpointDir.sharedLocation()).setSeq(seq).build();
        String method = write ? "PsCheckpoint.Checkpoint" : "PsCheckpoint.Restore";
        List<ListenableFuture<CheckpointFiles>> calls = new ArrayList<>(channels.length);
        for (ManagedChannel ch : channels) {
            PsCheckpointGrpc.PsCheckpointFutureStub stub = PsCheckpointGrpc.newFutureStub(ch).withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS);
            if (transport.callCredentials() != null) stub = stub.withCallCredentials(transport.callCredentials());
            calls.add(write ? stub.checkpoint(req) : stub.restore(req));
        }
        List<Manifest.Entry> out = new ArrayList<>();
        IOException first = null;
        for (int s = 0; s < calls.size(); s++) {
            try {
                CheckpointFiles files = calls.get(s).get(deadlineNanos + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS);
                for (CheckpointFile f : files.getFilesList()) out.add(new Manifest.Entry(f.getName(), f.getSize(), f.getCrc32C()));
            } catch (ExecutionException e) {
                Status st = e.getCause() instanceof StatusRuntimeException x ? x.getStatus() : Status.fromThrowable(e.getCause());
                if (first == null) first = new IOException(name(s) + " refused " + method + ": " + st.getCode() + ": " + st.getDescription(), e.getCause());
            } catch (TimeoutException e) {
                calls.get(s).cancel(true);
                if (first == null) first = new IOException(name(s) + " did not answer " + method + " within " + deadlineNanos / 1_000_000_000 + " s", e);
            } catch (InterruptedException e) {
                for (ListenableFuture<CheckpointFiles> c : calls) c.cancel(true);
                throw e;
            }
        }
        if (first != null) throw first;
        return out;
    }

    private String name(int s) {
        return "parameter server shard " + s + " (" + servers.get(s) + ")";
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels) c.shutdownNow();
        try {
            for (ManagedChannel c : channels) c.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
