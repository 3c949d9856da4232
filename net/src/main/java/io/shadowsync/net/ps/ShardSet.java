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
import io.shadowsync.net.proto.ReplicaStats;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.ShardStats;
import io.shadowsync.net.proto.ShardInfo;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A client's channels to the S nodes of a job, in shard order, with what each node said it holds
 * ({@code PsAdmin.Describe}, checked at connection: S nodes that agree on the tables and dense blocks, each at its
 * place in the list), and the translation of failed calls into {@link ParameterServerException}s that name the
 * shard and its address.
 *
 * <p><b>Replicas.</b> When the nodes hold R &gt; 1 replicas of every shard (their {@code ShardInfo.replicas}), shard
 * s's replicas are on nodes s, s+1, ..., s+R−1 (mod S), chain positions 0 .. R−1, and this set keeps, per shard, the
 * position it takes for the primary. A call that fails with UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED or
 * NOT_PRIMARY (ABORTED) moves the shard on to the next position ({@link #failover}), which the caller sends the same
 * call to; when no position is left the shard is lost and the job fails with every replica named.
 *
 * <p>Sharing contract: thread-safe; channels and stubs are; the primary positions change under this set's lock
 * and are read without it.
 */
final class ShardSet implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ShardSet.class.getName());

    /** Beyond the call deadline, how long a client waits for gRPC to report the deadline before it gives up itself. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Transport transport;
    private final List<HostPort> addresses;
    private final ManagedChannel[] channels;
    private final ShardInfo[] infos;
    private final CallCredentials credentials;
    private final long deadlineNanos;
    private final int maxMessageBytes;
    private final int replicas;
    /** Per shard, the chain position of the replica calls go to. */
    private final AtomicIntegerArray primary;
    /** Per shard and position, why the replica was given up (null while it is not). */
    private final String[][] lost;
    private final LongAdder failovers = new LongAdder();

    private ShardSet(Transport transport, List<HostPort> addresses, ManagedChannel[] channels, ShardInfo[] infos,
                     CallCredentials credentials, long deadlineNanos, int maxMessageBytes, int replicas) {
        this.transport = transport;
        this.addresses = addresses;
        this.channels = channels;
        this.infos = infos;
        this.credentials = credentials;
        this.deadlineNanos = deadlineNanos;
        this.maxMessageBytes = maxMessageBytes;
        this.replicas = replicas;
        this.primary = new AtomicIntegerArray(channels.length);
        this.lost = new String[channels.length][replicas];
    }

    /**
     * Opens a channel to every node and asks each what it holds, waiting up to the call deadline for nodes that are
     * still starting.
     *
     * @throws ParameterServerException when a node cannot be reached or refuses
     * @throws IllegalStateException    when the nodes disagree with each other or with their place in the list
     */
    static ShardSet connect(Transport transport, List<HostPort> addresses) {
        return connect(transport, addresses, false);
    }

    /**
     * As {@link #connect(Transport, List)}; with {@code running}, the servers of a running job (a trainer that
     * joins it): nodes are not waited for, a node that cannot be reached is taken for dead as long as every shard
     * keeps a live replica, and each shard starts at its current primary, as the live replicas say it
     * ({@code PsAdmin.Stats}: the highest primary position any of them knows, or the next live one after it).
     */
    static ShardSet connect(Transport transport, List<HostPort> addresses, boolean running) {
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
            ShardSet unchecked = new ShardSet(transport, addrs, channels, new ShardInfo[n], credentials, deadline,
                    transport.config().maxMessageBytes(), 1);
            List<Future<ShardInfo>> calls = new ArrayList<>(n);
            for (int s = 0; s < n; s++) {
                PsAdminGrpc.PsAdminFutureStub stub = unchecked.stub(PsAdminGrpc.newFutureStub(channels[s]));
                if (!running) stub = stub.withWaitForReady(); // servers of a job that starts may still be starting
                calls.add(stub.withDeadlineAfter(deadline, TimeUnit.NANOSECONDS).describe(Empty.getDefaultInstance()));
            }
            ShardInfo[] infos = new ShardInfo[n];
            ParameterServerException[] dead = new ParameterServerException[n];
            for (int s = 0; s < n; s++) {
                try {
                    infos[s] = unchecked.await(s, calls.get(s), "PsAdmin.Describe");
                } catch (ParameterServerException e) {
                    if (!running) throw e;
                    dead[s] = e;
                }
            }
            if (running) fillDead(infos, dead);
            int max = transport.config().maxMessageBytes();
            for (ShardInfo i : infos) max = Math.min(max, i.getMaxMessageBytes());
            ShardSet set = new ShardSet(transport, addrs, channels, infos, credentials, deadline, max,
                    Math.max(1, infos[0].getReplicas()));
            set.checkAgreement();
            if (running) set.findPrimaries(dead);
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

    /**
     * A running job's nodes that did not answer: fine when the shards are replicated (each dead node's place is filled
     * with what a live one describes, placed at the dead one's shard), as long as every shard keeps a live replica.
     */
    private static void fillDead(ShardInfo[] infos, ParameterServerException[] dead) {
        int n = infos.length;
        ShardInfo live = null;
        for (ShardInfo i : infos) if (i != null) live = i;
        ParameterServerException first = null;
        for (ParameterServerException e : dead) if (e != null && first == null) first = e;
        if (first == null) return;
        if (live == null || live.getReplicas() <= 1) throw first; // unreplicated (or nobody answers): that shard is lost
        int r = live.getReplicas();
        for (int s = 0; s < n; s++) {
            boolean any = false;
            for (int pos = 0; pos < r; pos++) any |= dead[(s + pos) % n] == null;
            if (!any) {
                throw new ParameterServerException("parameter server shard " + s + " has no live replica: every node holding one is "
                        + "unreachable (" + first.getMessage() + ")", s, first.address(), first.code(), first);
            }
        }
        for (int s = 0; s < n; s++) {
            if (infos[s] != null) continue;
            long size = live.getDenseSize();
            infos[s] = live.toBuilder().setShard(s).clearDataPort().clearDataTicket().setDenseStart(size * s / n).setDenseLength((int) (size * (s + 1) / n - size * s / n)).build();
        }
    }

    /**
     * Sets each shard's primary position as the live replicas know it: the highest position any of them takes for
     * the primary (positions only move forward), or the next one whose node is alive.
     */
    private void findPrimaries(ParameterServerException[] dead) throws InterruptedException {
        int n = channels.length;
        if (replicas == 1) return;
        int[] best = new int[n];
        List<Future<ShardStats>> calls = new ArrayList<>(n);
        for (int node = 0; node < n; node++) {
            calls.add(dead[node] != null ? null : stub(PsAdminGrpc.newFutureStub(channels[node]))
                    .withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).stats(Empty.getDefaultInstance()));
        }
        for (int node = 0; node < n; node++) {
            if (calls.get(node) == null) continue;
            ShardStats st;
            try {
                st = await(node, 0, calls.get(node), "PsAdmin.Stats");
            } catch (ParameterServerException e) {
                dead[node] = e; // gone since it described itself
                continue;
            }
            for (ReplicaStats rs : st.getReplicasList()) {
                if (rs.getShard() < n) best[rs.getShard()] = Math.max(best[rs.getShard()], rs.getPrimary());
            }
        }
        for (int s = 0; s < n; s++) {
            int pos = Math.min(best[s], replicas - 1);
            while (pos < replicas - 1 && dead[node(s, pos)] != null) {
                lost[s][pos] = dead[node(s, pos)].getMessage();
                pos++;
            }
            primary.set(s, pos);
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
            if (Math.max(1, i.getReplicas()) != Math.max(1, first.getReplicas())) {
                throw new IllegalStateException("parameter servers " + addresses.get(0) + " and " + addresses.get(s) + " hold "
                        + first.getReplicas() + " and " + i.getReplicas() + " replicas of each shard: were they started with the same "
                        + "--ps-replicas?");
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

    /** The address of shard s's replica that calls go to now. */
    HostPort address(int s) {
        return address(s, primary(s));
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

    /** The transport the channels came from (the row lanes prove its token). */
    Transport transport() {
        return transport;
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

    /** R, the replicas of every shard (1: unreplicated). */
    int replicas() {
        return replicas;
    }

    /** The chain position of shard s's replica that calls go to now. */
    int primary(int s) {
        return primary.get(s);
    }

    /** The node (index in the address list) holding shard s's replica at chain position pos. */
    int node(int s, int pos) {
        return (s + pos) % channels.length;
    }

    /** Failovers so far: shards moved on to their next replica. */
    long failovers() {
        return failovers.sum();
    }

    /** A call's route to shard s's replica at pos; null when the job is unreplicated (calls carry none). */
    Route route(int s, int pos, long client, long seq) {
        if (replicas == 1) return null;
        return Route.newBuilder().setShard(s).setPrimary(pos).setClient(client).setSeq(seq).build();
    }

    /**
     * After a call to shard s's replica at {@code pos} failed with {@code why}: the position to send it to next. A
     * failure a replica cannot cure (a refusal of the message) is rethrown; so is any failure when unreplicated.
     * When another thread has moved the shard on already, its position is returned.
     *
     * @throws ParameterServerException why, or, when no replica is left, one naming every replica and its fate
     */
    int failover(int s, int pos, ParameterServerException why) {
        Status.Code c = why.code();
        boolean replicaGone = c == Status.Code.UNAVAILABLE || c == Status.Code.DEADLINE_EXCEEDED || c == Status.Code.CANCELLED
                || c == Status.Code.ABORTED;
        if (replicas == 1 || !replicaGone) throw why;
        synchronized (this) {
            int now = primary.get(s);
            if (now > pos) return now;
            lost[s][pos] = why.getMessage();
            if (pos + 1 >= replicas) {
                StringBuilder b = new StringBuilder("parameter server shard " + s + " has no replica left (all " + replicas
                        + " failed): ");
                for (int k = 0; k < replicas; k++) {
                    b.append(k == 0 ? "" : "; ").append("replica ").append(k).append(" at ").append(addresses.get(node(s, k)))
                            .append(": ").append(lost[s][k]);
                }
                throw new ParameterServerException(b.toString(), s, address(s, pos), c, why);
            }
            primary.set(s, pos + 1);
            failovers.increment();
            LOG.log(Level.INFO, "parameter server shard " + s + ": replica " + pos + " at " + addresses.get(node(s, pos)) + " failed ("
                    + c + "); failing over to replica " + (pos + 1) + " at " + addresses.get(node(s, pos + 1)) + " [" + why.getMessage() + "]");
            return pos + 1;
        }
    }

    /** As {@link #await(int, int, Future, String)} for the replica calls go to now. */
    <T> T await(int s, Future<T> call, String method) throws InterruptedException {
        return await(s, primary(s), call, method);
    }

    /**
     * The result of a call to shard s's replica at pos, waiting at most the call deadline and a grace period.
     *
     * @param method the gRPC method, for the message ("EmbeddingShard.Pull")
     * @throws ParameterServerException when the call failed; the message names the shard, its address and the call
     */
    <T> T await(int s, int pos, Future<T> call, String method) throws InterruptedException {
        try {
            return call.get(deadlineNanos + GRACE_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw failure(s, pos, method, e.getCause());
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new ParameterServerException(name(s, pos) + " did not answer within "
                    + TimeUnit.NANOSECONDS.toSeconds(deadlineNanos + GRACE_NANOS) + " s (call " + method + ")", s,
                    address(s, pos), Status.Code.DEADLINE_EXCEEDED, e);
        } catch (CancellationException e) {
            throw new ParameterServerException(name(s, pos) + ": the call " + method + " was cancelled", s, address(s, pos),
                    Status.Code.CANCELLED, e);
        }
    }

    /** "parameter server shard 1 (127.0.0.1:40123)", or with replicas "... shard 1 replica 0 (...)": the one in use. */
    String name(int s) {
        return name(s, primary(s));
    }

    String name(int s, int pos) {
        return "parameter server shard " + s + (replicas == 1 ? "" : " replica " + pos) + " (" + address(s, pos) + ")";
    }

    HostPort address(int s, int pos) {
        return addresses.get(node(s, pos));
    }

    ParameterServerException failure(int s, String call, Throwable t) {
        return failure(s, primary(s), call, t);
    }

    ParameterServerException failure(int s, int pos, String call, Throwable t) {
        Status st = t instanceof StatusRuntimeException e ? e.getStatus() : Status.fromThrowable(t);
        String detail = st.getDescription() == null ? st.getCode().toString() : st.getDescription();
        if (st.getCause() != null && st.getCause().getMessage() != null) detail += " (" + st.getCause().getMessage() + ")";
        String name = name(s, pos);
        String msg = switch (st.getCode()) {
            case UNAVAILABLE -> name + " is unreachable: " + detail + " (call " + call + ")";
            case DEADLINE_EXCEEDED -> name + " did not answer within " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos) / 1000.0
                    + " s: " + detail + " (call " + call + ")";
            case UNAUTHENTICATED -> name + " refused this client's credentials: " + detail + " (call " + call + ")";
            default -> name + " refused the call " + call + ": " + st.getCode() + ": " + detail;
        };
        return new ParameterServerException(msg, s, address(s, pos), st.getCode(), t);
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
