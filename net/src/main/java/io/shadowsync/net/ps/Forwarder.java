package io.shadowsync.net.ps;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.DenseCall;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.RowBatch;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A primary's copies of pushes to its backups: channels to the job's other nodes (known once the job's addresses
 * are, {@link #connect}), and the wait for every live backup's acknowledgement before the client is answered. The
 * wait does not hold a thread: the answer goes out from the last backup's completion. Each forward has half the
 * call deadline, so that a primary whose backup hangs drops it and still answers its client in time.
 *
 * <p>A forward that fails with UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED drops that backup from the live set (the
 * node is gone, or as good as gone); one refused with NOT_PRIMARY means another replica took over, and this primary
 * steps down and sends its client on ({@link Refusal#NOT_PRIMARY}); any other refusal of a push the primary
 * accepted is a bug, answered INTERNAL with the backup named.
 *
 * <p>Sharing contract: thread-safe; channels are set once, before the first forward (which waits for them, bounded).
 */
final class Forwarder implements AutoCloseable {
    private final Transport transport;
    private final int node;
    private final int shards;
    private final long deadlineNanos;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final ServerCounters counters;
    private volatile List<HostPort> addresses;
    private volatile ManagedChannel[] channels;
    private volatile EmbeddingShardGrpc.EmbeddingShardFutureStub[] rowStubs;
    private volatile DenseShardGrpc.DenseShardFutureStub[] denseStubs;

    Forwarder(Transport transport, int node, int shards, ServerCounters counters) {
        this.transport = transport;
        this.node = node;
        this.shards = shards;
        this.counters = counters;
        this.deadlineNanos = Math.max(1, transport.config().callDeadline().toNanos() / 2);
    }

    /** Opens channels to the other nodes of the job (all S, in shard order; this node's own entry is not used). */
    synchronized void connect(List<HostPort> nodes) {
        if (nodes == null || nodes.size() != shards) {
            throw new IllegalArgumentException("replication needs the addresses of all " + shards + " parameter-server nodes, in "
                    + "shard order; got " + nodes);
        }
        if (channels != null) throw new IllegalStateException("the replicas' peers are connected already: " + addresses);
        ManagedChannel[] ch = new ManagedChannel[shards];
        var rs = new EmbeddingShardGrpc.EmbeddingShardFutureStub[shards];
        var ds = new DenseShardGrpc.DenseShardFutureStub[shards];
        CallCredentials cred = transport.callCredentials();
        for (int n = 0; n < shards; n++) {
            if (n == node) continue;
            ch[n] = transport.channel(nodes.get(n).toString());
            rs[n] = withCredentials(EmbeddingShardGrpc.newFutureStub(ch[n]), cred);
            ds[n] = withCredentials(DenseShardGrpc.newFutureStub(ch[n]), cred);
        }
        addresses = List.copyOf(nodes);
        rowStubs = rs;
        denseStubs = ds;
        channels = ch;
        ready.countDown();
    }

    private static <S extends AbstractStub<S>> S withCredentials(S stub, CallCredentials c) {
        return c == null ? stub : stub.withCallCredentials(c);
    }

    private int nodeOf(Replica r, int position) {
        return (r.shard + position) % shards;
    }

    /** Copies an applied push of rows to r's live backups; answers {@code ack} on out when all have it. */
    void rows(Replica r, RowBatch req, PushAck ack,
              StreamObserver<PushAck> out) {
        if (!awaitPeers(r, out)) return;
        RowBatch copy = req.toBuilder().setRoute(forwardRoute(r, req.getRoute())).build();
        Pending<PushAck> p = new Pending<>(r, ack, out);
        for (int j = r.position + 1; j < r.replicas; j++) {
            if (r.backupLive(j)) p.add(j, rowStubs[nodeOf(r, j)].withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).push(copy));
        }
        p.start();
    }

    /** Copies an applied dense push to r's live backups; answers {@code ack} on out when all have it. */
    <A> void dense(Replica r, DenseCall req, boolean gradient, A ack, StreamObserver<A> out) {
        if (!awaitPeers(r, out)) return;
        DenseCall copy = req.toBuilder().setRoute(forwardRoute(r, req.getRoute())).build();
        Pending<A> p = new Pending<>(r, ack, out);
        for (int j = r.position + 1; j < r.replicas; j++) {
            if (!r.backupLive(j)) continue;
            DenseShardGrpc.DenseShardFutureStub stub = denseStubs[nodeOf(r, j)].withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS);
            p.add(j, gradient ? stub.pushGradient(copy) : stub.pushDelta(copy));
        }
        p.start();
    }

    private static Route forwardRoute(Replica r, Route from) {
        return from.toBuilder().setShard(r.shard).setForwarded(true).setPrimary(r.position).build();
    }

    private boolean awaitPeers(Replica r, StreamObserver<?> out) {
        try {
            if (ready.await(deadlineNanos, TimeUnit.NANOSECONDS)) return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.onError(Status.INTERNAL.withDescription(r.name() + " (primary) does not know its backups' addresses yet: "
                + "the node was started for replication but not given the job's parameter-server list").asRuntimeException());
        return false;
    }

    @Override
    public void close() {
        closed = true; // before the channels: a forward they cancel must not read as a dead backup
        ManagedChannel[] ch = channels;
        if (ch == null) return;
        for (ManagedChannel c : ch) if (c != null) c.shutdownNow();
        try {
            for (ManagedChannel c : ch) if (c != null) c.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Set when this node stops: its forwards fail because of it, not because a backup died. */
    private volatile boolean closed;

    /** The forwards of one push: answers the client when the last one ends. */
    private final class Pending<A> implements Runnable {
        private final Replica r;
        private final A ack;
        private final StreamObserver<A> out;
        private final int[] positions;
        private final ListenableFuture<?>[] calls;
        private int n;
        private final AtomicInteger left = new AtomicInteger();

        Pending(Replica r, A ack, StreamObserver<A> out) {
            this.r = r;
            this.ack = ack;
            this.out = out;
            this.positions = new int[r.replicas];
            this.calls = new ListenableFuture<?>[r.replicas];
        }

        void add(int position, ListenableFuture<?> call) {
            positions[n] = position;
            calls[n++] = call;
        }

        void start() {
            if (n == 0) {
                finish();
                return;
            }
            left.set(n);
            for (int i = 0; i < n; i++) calls[i].addListener(this, MoreExecutors.directExecutor());
        }

        @Override
        public void run() {
            if (left.decrementAndGet() == 0) finish();
        }

        private void finish() {
            Status failure = null;
            for (int i = 0; i < n; i++) {
                int j = positions[i];
                String where = "position " + j + " (" + addresses.get(nodeOf(r, j)) + ")";
                try {
                    calls[i].get();
                    r.forwardsSent.increment();
                } catch (ExecutionException e) {
                    Status st = Status.fromThrowable(e.getCause());
                    String detail = st.getCode() + (st.getDescription() == null ? "" : ": " + st.getDescription());
                    if (closed) {
                        // this node is stopping (a crash, a shutdown) and cancelled the forward itself: the backup may
                        // not have the push, so the client must not be told it is stored; it sends it to the backup
                        failure = Status.UNAVAILABLE.withDescription(r.name() + " (primary) stopped before its backup at " + where
                                + " had the push; send it to the next replica");
                        continue;
                    }
                    switch (st.getCode()) {
                        case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED -> r.dropBackup(j, "the forward to " + where + " failed: " + detail);
                        case ABORTED -> {
                            r.stepDown(r.position + 1, "its backup at " + where + " answered " + detail);
                            counters.countRefusal(Refusal.NOT_PRIMARY);
                            failure = Status.ABORTED.withDescription(r.name() + " was replaced as primary (its backup at " + where
                                    + " follows a later position); send the push to the next replica");
                        }
                        default -> failure = Status.INTERNAL.withDescription(r.name() + " (primary) applied a push that its "
                                + "backup at " + where + " refused: " + detail);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // not reached: the call is done when its listener runs
                }
            }
            if (failure != null) {
                out.onError(failure.asRuntimeException());
            } else {
                out.onNext(ack);
                out.onCompleted();
            }
        }
    }
}
