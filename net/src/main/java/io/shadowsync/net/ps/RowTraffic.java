package io.shadowsync.net.ps;

import io.grpc.Status;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Rows;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The round trips of a {@link RemoteEmbeddingStore}: sends a lane's per-shard buffers to all their shards at once
 * (split into chunks of at most {@code chunkRows} rows when a shard's part exceeds the size limits), waits for every
 * answer, and turns failures into {@link ParameterServerException}s that name the shard. A call whose replica is gone
 * goes again, the same request with the same (client, seq), to the shard's next replica ({@link ShardSet#failover});
 * the replica that already has it acknowledges without applying it twice. On a failure the calls not yet awaited are
 * cancelled; the caller drops the lane.
 *
 * <p>Sharing contract: thread-safe (stubs and counters are); each call works on its caller's lane only.
 */
final class RowTraffic extends RowCalls {
    private static final String PULL = "EmbeddingShard.Pull";
    private static final String PUSH = "EmbeddingShard.Push";

    private final EmbeddingShardGrpc.EmbeddingShardFutureStub[] stubs;

    RowTraffic(ShardSet set, int[] dims, int chunkRows, RowCodec codec) {
        super(set, dims, chunkRows, codec);
        this.stubs = new EmbeddingShardGrpc.EmbeddingShardFutureStub[set.size()];
        for (int s = 0; s < stubs.length; s++) stubs[s] = set.stub(EmbeddingShardGrpc.newFutureStub(set.channel(s)));
    }

    /** Pulls at once: the calls run to their end here. */
    @Override
    void start(ClientLane lane, ShardBuffer[] bufs, List<RowStreams.Call> unused) {
        fetch(lane, bufs);
    }

    @Override
    void finish(ClientLane lane, ShardBuffer[] bufs, List<RowStreams.Call> unused) {
    }

    private void fetch(ClientLane lane, ShardBuffer[] bufs) {
        final List<Future<Rows>> calls = lane.pullCalls;
        calls.clear();
        int nc = 0;
        for (int s = 0; s < stubs.length; s++) {
            ShardBuffer b = bufs[s];
            if (b.count == 0) continue;
            b.prepareRows();
            int pos = set.primary(s);
            for (int from = 0; from < b.count; from += chunkRows) {
                RowBatch req = b.nextChunk(from, chunkRows, false, dims, lane.chunkFloats, set.route(s, pos, 0, 0), codec);
                nc = lane.noteCall(nc, s, lane.chunkFloats[0], pos, req);
                calls.add(stub(s, pos).pull(req));
                requests.increment();
                rowsPulled.add(Math.min(chunkRows, b.count - from));
            }
        }
        int i = 0;
        try {
            for (; i < nc; i++) {
                int s = lane.callShard[i];
                takeRows(bufs[s], s, lane.requests.get(i), lane.callSize[i], awaitPull(lane, i, calls.get(i)).getValues());
                pulled(lane.requests.get(i));
            }
        } catch (InterruptedException e) {
            throw interrupted(lane, calls, i, e);
        } catch (RuntimeException e) {
            cancelFrom(calls, i + 1);
            throw e;
        }
    }

    /**
     * Sends the lane's push buffers to their shards at once and waits for every acknowledgement, then empties them.
     * A shard's rows split over several requests go one request after the other, so that they are applied in order.
     */
    @Override
    void send(ClientLane lane) {
        final ShardBuffer[] bufs = lane.pushes;
        final List<Future<PushAck>> calls = lane.pushCalls;
        for (int from = 0; ; from += chunkRows) {
            calls.clear();
            int nc = 0;
            for (int s = 0; s < stubs.length; s++) {
                ShardBuffer b = bufs[s];
                if (from >= b.count) continue;
                int pos = set.primary(s);
                RowBatch req = b.nextChunk(from, chunkRows, true, dims, lane.chunkFloats, set.route(s, pos, lane.client, ++lane.seq), codec);
                nc = lane.noteCall(nc, s, Math.min(chunkRows, b.count - from), pos, req);
                calls.add(stub(s, pos).push(req));
                requests.increment();
            }
            if (nc == 0) break;
            int i = 0;
            try {
                for (; i < nc; i++) {
                    checkApplied(lane.callShard[i], awaitPush(lane, i, calls.get(i)).getRows(), lane.callSize[i]);
                }
            } catch (InterruptedException e) {
                throw interrupted(lane, calls, i, e);
            } catch (RuntimeException e) {
                cancelFrom(calls, i + 1);
                throw e;
            }
        }
        for (ShardBuffer b : bufs) b.reset();
    }

    /** Nothing to wait for: {@link #send} returned once every push was acknowledged. */
    @Override
    void settle(ClientLane lane) {
    }

    /** The stub of the node holding shard s's replica at pos, with the call deadline. */
    private EmbeddingShardGrpc.EmbeddingShardFutureStub stub(int s, int pos) {
        return stubs[set.node(s, pos)].withDeadlineAfter(set.deadlineNanos(), TimeUnit.NANOSECONDS);
    }

    /** Call i's answer; when its replica is gone, the same request (same seq) on the shard's next replica. */
    private Rows awaitPull(ClientLane lane, int i, Future<Rows> call) throws InterruptedException {
        int s = lane.callShard[i], pos = lane.callPos[i];
        RowBatch req = lane.requests.get(i);
        while (true) {
            try {
                return set.await(s, pos, call, PULL);
            } catch (ParameterServerException e) {
                pos = set.failover(s, pos, e);
                req = rerouted(req, pos);
                call = stub(s, pos).pull(req);
            }
        }
    }

    private PushAck awaitPush(ClientLane lane, int i, Future<PushAck> call) throws InterruptedException {
        int s = lane.callShard[i], pos = lane.callPos[i];
        RowBatch req = lane.requests.get(i);
        while (true) {
            try {
                return set.await(s, pos, call, PUSH);
            } catch (ParameterServerException e) {
                pos = set.failover(s, pos, e);
                req = rerouted(req, pos);
                call = stub(s, pos).push(req);
            }
        }
    }

    /** The same request for the replica at pos (the same (client, seq): a replica that has it already does not apply it again). */
    static RowBatch rerouted(RowBatch req, int pos) {
        return req.toBuilder().setRoute(req.getRoute().toBuilder().setPrimary(pos)).build();
    }

    private ParameterServerException interrupted(ClientLane lane, List<? extends Future<?>> calls, int i, InterruptedException e) {
        cancelFrom(calls, i);
        Thread.currentThread().interrupt();
        int s = lane.callShard[i];
        return new ParameterServerException("interrupted while waiting for " + set.name(s), s, set.address(s),
                Status.Code.CANCELLED, e);
    }

    private static void cancelFrom(List<? extends Future<?>> calls, int from) {
        for (int k = from; k < calls.size(); k++) calls.get(k).cancel(true);
    }
}
