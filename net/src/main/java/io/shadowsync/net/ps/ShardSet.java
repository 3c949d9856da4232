package io.shadowsync.net.ps;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.PsAdminGrpc;
import io.shadowsync.net.proto.ShardInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client's channels to the S nodes of a job, in shard order, with what each node said it holds
 * ({@code PsAdmin.Describe}, checked at connection: S nodes that agree on the tables and dense blocks, each at its
 * place in the list), and the translation of failed calls into {@link ParameterServerException}s that name the
 * shard and its address.
 *
 * <p>Sharing contract: immutable after {@link #connect}; channels and stubs are thread-safe.
 */
final class ShardSet implements AutoCloseable {
    /** Beyond the call deadline, how long a client waits for gRPC to report the deadline before it gives up itself. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final List<HostPort> addresses;
    private final ManagedChannel[] channels;
    private final ShardInfo[] infos;
    private final CallCredentials credentials;
    private final long deadlineNanos;
    private final int maxMessageBytes;

    private ShardSet(List<HostPort> addresses, ManagedChannel[] channels, ShardInfo[] infos, CallCredentials credentials,
                     long deadlineNanos, int maxMessageBytes) {
        this.addresses = addresses;
        this.channels = channels;
        this.infos = infos;
        this.credentials = credentials;
        this.deadlineNanos = deadlineNanos;
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * Opens a channel to every node and asks each what it holds, waiting up to the call deadline for nodes that are
     * still starting.
     *
     * @throws ParameterServerException when a node cannot be reached or refuses
     * @throws IllegalStateException    when the nodes disagree with each other or with their place in the list
     */
    static ShardSet connect(Transport transport, List<HostPort> addresses) {
        if (transport == null || addresses == null || addresses.isEmpty()) {
            throw new IllegalArgumentException("a transport and at least one parameter-server address are required");
        }
        List<HostPort> addrs = List.copyOf(addresses);
        Set<HostPort> seen = new HashSet<>();
        for (HostPort hp : addrs) {
            if (!seen.add(hp)) throw new IllegalArgumentException("parameter server " + hp + " is listed twice: " + addrs);
        }
        int n = addrs.size();
        ManagedChannel[] channels = new ManagedChannel[n];
        long deadline = transport.config().callDeadline().toNanos();
        CallCredentials credentials = transport.callCredentials();
        try {
            for (int s = 0; s < n; s++) channels[s] = transport.channel(addrs.get(s).toString());
            ShardSet unchecked = new ShardSet(addrs, channels, new ShardInfo[n], credentials, deadline,
                    transport.config().maxMessageBytes());
            List<Future<ShardInfo>> calls = new ArrayList<>(n);
            for (int s = 0; s < n; s++) {
                calls.add(unchecked.stub(PsAdminGrpc.newFutureStub(channels[s])).withWaitForReady()
                        .withDeadlineAfter(deadline, TimeUnit.NANOSECONDS).describe(Empty.getDefaultInstance()));
            }
            ShardInfo[] infos = new ShardInfo[n];
            for (int s = 0; s < n; s++) infos[s] = unchecked.await(s, calls.get(s), "PsAdmin.Describe");
            int max = transport.config().maxMessageBytes();
            for (ShardInfo i : infos) max = Math.min(max, i.getMaxMessageBytes());
            ShardSet set = new ShardSet(addrs, channels, infos, credentials, deadline, max);
            set.checkAgreement();
            return set;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeAll(channels);
            throw new ParameterServerException("interrupted while connecting to the parameter servers " + addrs, 0,
                    addrs.get(0), Status.Code.CANCELLED, e);
        } catch (RuntimeException e) {
            closeAll(channels);
            throw e;
        }
    }

    private void checkAgreement() {
        int n = channels.length;
        ShardInfo first = infos[0];
        for (int s = 0; s < n; s++) {
            ShardInfo i = infos[s];
            if (i.getShards() != n || i.getShard() != s) {
                throw new IllegalStateException("parameter server " + addresses.get(s) + " is shard " + i.getShard() + " of "
                        + i.getShards() + ", but the list " + addresses + " gives it as shard " + s + " of " + n
                        + ": list every shard once, in shard order");
            }
            if (!i.getTablesList().equals(first.getTablesList())) {
                throw new IllegalStateException("parameter servers " + addresses.get(0) + " and " + addresses.get(s)
                        + " hold different embedding tables (" + first.getTablesCount() + " vs " + i.getTablesCount()
                        + " tables or different shapes): were they started with the same model?");
            }
            if (i.getDenseSize() != first.getDenseSize() || !i.getDenseOptimizer().equals(first.getDenseOptimizer())) {
                throw new IllegalStateException("parameter servers " + addresses.get(0) + " and " + addresses.get(s)
                        + " hold different dense vectors (" + first.getDenseSize() + " floats, optimizer '"
                        + first.getDenseOptimizer() + "' vs " + i.getDenseSize() + ", '" + i.getDenseOptimizer() + "')");
            }
            long expect = first.getDenseSize() * s / n;
            if (i.getDenseStart() != expect || i.getDenseStart() + i.getDenseLength() != first.getDenseSize() * (s + 1) / n) {
                throw new IllegalStateException("parameter server " + addresses.get(s) + " holds dense floats ["
                        + i.getDenseStart() + ", " + (i.getDenseStart() + i.getDenseLength()) + "), not block " + s + " of " + n);
            }
        }
    }

    int size() {
        return channels.length;
    }

    HostPort address(int s) {
        return addresses.get(s);
    }

    List<HostPort> addresses() {
        return addresses;
    }

    ManagedChannel channel(int s) {
        return channels[s];
    }

    ShardInfo info(int s) {
        return infos[s];
    }

    /** The smaller of this client's and the servers' message size limits. */
    int maxMessageBytes() {
        return maxMessageBytes;
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    /** The stub with the job's credentials (when a token is set). */
    <S extends AbstractStub<S>> S stub(S base) {
        return credentials == null ? base : base.withCallCredentials(credentials);
    }

    /**
     * The result of shard s's call, waiting at most the call deadline and a grace period.
     *
     * @param method the gRPC method, for the message ("EmbeddingShard.Pull")
     * @throws ParameterServerException when the call failed; the message names the shard, its address and the call
     */
    <T> T await(int s, Future<T> call, String method) throws InterruptedException {
        try {
            return call.get(deadlineNanos + GRACE_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw failure(s, method, e.getCause());
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new ParameterServerException(name(s) + " did not answer within "
                    + TimeUnit.NANOSECONDS.toSeconds(deadlineNanos + GRACE_NANOS) + " s (call " + method + ")", s,
                    address(s), Status.Code.DEADLINE_EXCEEDED, e);
        } catch (CancellationException e) {
            throw new ParameterServerException(name(s) + ": the call " + method + " was cancelled", s, address(s),
                    Status.Code.CANCELLED, e);
        }
    }

    /** "parameter server shard 1 (127.0.0.1:40123)". */
    String name(int s) {
        return "parameter server shard " + s + " (" + addresses.get(s) + ")";
    }

    ParameterServerException failure(int s, String call, Throwable t) {
        Status st = t instanceof StatusRuntimeException e ? e.getStatus() : Status.fromThrowable(t);
        String detail = st.getDescription() == null ? st.getCode().toString() : st.getDescription();
        if (st.getCause() != null && st.getCause().getMessage() != null) detail += " (" + st.getCause().getMessage() + ")";
        String msg = switch (st.getCode()) {
            case UNAVAILABLE -> name(s) + " is unreachable: " + detail + " (call " + call + ")";
            case DEADLINE_EXCEEDED -> name(s) + " did not answer within " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos) / 1000.0
                    + " s: " + detail + " (call " + call + ")";
            case UNAUTHENTICATED -> name(s) + " refused this client's credentials: " + detail + " (call " + call + ")";
            default -> name(s) + " refused the call " + call + ": " + st.getCode() + ": " + detail;
        };
        return new ParameterServerException(msg, s, address(s), st.getCode(), t);
    }

    /** Closes the channels, waiting up to 5 s for calls in flight. */
    @Override
    public void close() {
        closeAll(channels);
    }

    private static void closeAll(ManagedChannel[] channels) {
        for (ManagedChannel c : channels) if (c != null) c.shutdownNow();
        try {
            for (ManagedChannel c : channels) if (c != null) c.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
