package io.shadowsync.net.ps;

import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Rows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One client thread's state in a {@link RemoteEmbeddingStore}: its per-shard buffers for pulls and pushes, whether
 * it is inside a step (pushes held back, prefetched pulls pending), the de-duplication map, and the calls of the
 * round trip in progress. Allocated once per thread and reused, so the hot loop allocates only messages.
 *
 * <p>Sharing contract: confined to its thread (a {@code ThreadLocal}); dropped after a failed call, so that no
 * request still in flight can see its buffers rewritten.
 */
final class ClientLane {
    /**
     * This lane's identity for exactly-once pushes to replicated shards: random, non-zero. Its pushes to a shard go
     * one after the other (each waits for its acknowledgement), so a replica can keep the last seq applied per lane.
     */
    final long client;
    /** The seq of the lane's last push request. */
    long seq;
    boolean inStep;
    final ShardBuffer[] pulls;
    final ShardBuffer[] pushes;
    final RowSlots slots = new RowSlots();
    /** Per id of the current pull: its shard, and its row's float offset in that shard's reply. */
    int[] shardOf = new int[256];
    int[] rowOff = new int[256];
    final List<Prefetch> prefetch = new ArrayList<>();
    /** Announced pulls of the current step: prefetch[0 .. prefetched). */
    int prefetched;
    final List<Future<Rows>> pullCalls = new ArrayList<>();
    final List<Future<PushAck>> pushCalls = new ArrayList<>();
    /** Per call of the current round trip: its shard, and the floats (pull) or rows (push) it carries. */
    int[] callShard = new int[16];
    int[] callSize = new int[16];
    /** Per call of the current round trip: the chain position it went to, and its request (resent on failover). */
    int[] callPos = new int[16];
    final List<RowBatch> requests = new ArrayList<>();
    final int[] chunkFloats = new int[1];

    ClientLane(int shards) {
        long id;
        do id = ThreadLocalRandom.current().nextLong(); while (id == 0);
        client = id;
        pulls = new ShardBuffer[shards];
        pushes = new ShardBuffer[shards];
        for (int s = 0; s < shards; s++) {
            pulls[s] = new ShardBuffer();
            pushes[s] = new ShardBuffer();
        }
    }

    void ensure(int n) {
        if (shardOf.length < n) {
            shardOf = new int[Math.max(n, 2 * shardOf.length)];
            rowOff = new int[shardOf.length];
        }
    }

    /** Records call nc of the round trip; returns nc + 1. */
    int noteCall(int nc, int shard, int size, int pos, RowBatch req) {
        if (nc == callShard.length) {
            callShard = Arrays.copyOf(callShard, 2 * nc);
            callSize = Arrays.copyOf(callSize, 2 * nc);
            callPos = Arrays.copyOf(callPos, 2 * nc);
        }
        if (nc == 0) requests.clear();
        callShard[nc] = shard;
        callSize[nc] = size;
        callPos[nc] = pos;
        requests.add(req);
        return nc + 1;
    }

    /** Announces a pull: the next prefetch entry, filled. */
    void announce(int table, int[] ids, int idOff, int n, int dim) {
        if (prefetched == prefetch.size()) prefetch.add(new Prefetch());
        prefetch.get(prefetched++).set(table, ids, idOff, n, dim);
    }

    /** One announced pull of the current step: its ids (copied), where each id's row lands, and the rows. */
    static final class Prefetch {
        int table;
        int n;
        int[] ids = new int[0];
        int[] shardOf = new int[0];
        int[] rowOff = new int[0];
        float[] values = new float[0];
        boolean fetched;

        void set(int table, int[] src, int off, int n, int dim) {
            this.table = table;
            this.n = n;
            if (ids.length < n) {
                ids = new int[n];
                shardOf = new int[n];
                rowOff = new int[n];
            }
            if (values.length < n * dim) values = new float[n * dim];
            System.arraycopy(src, off, ids, 0, n);
            fetched = false;
        }
    }
}
