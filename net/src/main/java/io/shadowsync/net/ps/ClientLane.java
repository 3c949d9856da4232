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
 * One client thread's state in a {@link RemoteEmbeddingStore}: its per-shard buffers for pulls and pushes (two sets
 * of push buffers: one filled by the step in progress, one on the wire until its acknowledgements come back), whether
 * it is inside a step (pushes held back, prefetched pulls pending), the de-duplication map, its streams to the shards
 * and the calls in flight. Allocated once per thread and reused, so the hot loop allocates only messages.
 *
 * <p>Sharing contract: owned by its thread (a {@code ThreadLocal}); the traffic on it (calls, streams, the push
 * buffers in flight) runs under the lane's monitor, so that {@link RemoteEmbeddingStore#flush} may settle a paused
 * thread's pushes from another thread. Dropped after a failed call (its streams cancelled), so that no request still
 * in flight can see its buffers rewritten.
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
    /** Set when another thread's {@link RemoteEmbeddingStore#flush} saw a push of this lane fail: its owner's next call throws it. */
    volatile RuntimeException failed;
    final ShardBuffer[] pulls;
    /** The push buffers the current step fills. */
    ShardBuffer[] pushes;
    /** The push buffers on the wire: their requests are in flight until {@link #inFlight} is settled. */
    ShardBuffer[] sent;
    /** Per shard, the push call in flight on its stream (at most one: a replica must see a lane's pushes in seq order), or null. */
    final RowStreams.Call[] inFlight;
    /** Per shard, this lane's stream to the replica it uses, opened at the first call; null in unary mode. */
    final RowStreams.Wire[] streams;
    final RowSlots slots = new RowSlots();
    /** Per id of the current pull: its shard, and its row's float offset in that shard's reply. */
    int[] shardOf = new int[256];
    int[] rowOff = new int[256];
    final List<Prefetch> prefetch = new ArrayList<>();
    /** Announced pulls of the current step: prefetch[0 .. prefetched). */
    int prefetched;
    /** The rows announced for this step during the previous one (requested then: their answers may be on the way). */
    Ahead current;
    /** The rows announced during this step for the next one ({@link RemoteEmbeddingStore#prefetchNext}). */
    Ahead next;
    final List<Future<Rows>> pullCalls = new ArrayList<>();
    final List<RowStreams.Call> streamPulls = new ArrayList<>();
    final List<Future<PushAck>> pushCalls = new ArrayList<>();
    /** Per call of the current round trip: its shard, and the floats (pull) or rows (push) it carries. */
    int[] callShard = new int[16];
    int[] callSize = new int[16];
    /** Per call of the current round trip: the chain position it went to, and its request (resent on failover). */
    int[] callPos = new int[16];
    final List<RowBatch> requests = new ArrayList<>();
    final int[] chunkFloats = new int[1];
    /** A gradient row as the row codec will deliver it (the push's finiteness check), grown to the widest dim. */
    float[] rounded = new float[0];

    ClientLane(int shards) {
        long id;
        do id = ThreadLocalRandom.current().nextLong(); while (id == 0);
        client = id;
        pulls = new ShardBuffer[shards];
        pushes = new ShardBuffer[shards];
        sent = new ShardBuffer[shards];
        inFlight = new RowStreams.Call[shards];
        streams = new RowStreams.Wire[shards];
        for (int s = 0; s < shards; s++) {
            pulls[s] = new ShardBuffer();
            pushes[s] = new ShardBuffer();
            sent[s] = new ShardBuffer();
        }
        current = new Ahead(shards);
        next = new Ahead(shards);
    }

    /** At a step's start: the rows announced for it become current; the old current's buffers take the next ones. */
    void swapAhead() {
        Ahead t = current;
        current = next;
        next = t;
        next.clear();
    }

    /** After the filled push buffers went on the wire: they become the ones in flight, the emptied others fill next. */
    void swapPushes() {
        ShardBuffer[] t = sent;
        sent = pushes;
        pushes = t;
        for (ShardBuffer b : pushes) b.reset();
    }

    /** Ends this lane's streams (a failed call dropped it, or the store closed). */
    void cancelStreams(String why) {
        for (RowStreams.Wire st : streams) if (st != null) st.cancel(why);
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

    /**
     * Rows announced for a step one step before it: their entries, the buffers their requests and answers use (their
     * own, so that the pulls of the step in progress do not overwrite them while the answers are on the way), and the
     * calls in flight.
     */
    static final class Ahead {
        final ShardBuffer[] bufs;
        final List<RowStreams.Call> calls = new ArrayList<>();
        final List<Prefetch> entries = new ArrayList<>();
        int count;
        /** The requests went out; their answers are in {@link #bufs} once {@code received}. */
        boolean sent;
        boolean received;

        Ahead(int shards) {
            bufs = new ShardBuffer[shards];
            for (int s = 0; s < shards; s++) bufs[s] = new ShardBuffer();
        }

        void announce(int table, int[] ids, int idOff, int n, int dim) {
            if (count == entries.size()) entries.add(new Prefetch());
            entries.get(count++).set(table, ids, idOff, n, dim);
        }

        /** The entry announced for exactly these ids of table, or null. */
        Prefetch find(int table, int[] ids, int idOff, int n) {
            for (int i = 0; i < count; i++) {
                Prefetch p = entries.get(i);
                if (p.table == table && p.n == n && Arrays.equals(p.ids, 0, n, ids, idOff, idOff + n)) return p;
            }
            return null;
        }

        void clear() {
            count = 0;
            sent = false;
            received = false;
            calls.clear();
        }
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
