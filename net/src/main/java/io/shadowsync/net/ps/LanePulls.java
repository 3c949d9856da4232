package io.shadowsync.net.ps;

import java.util.Arrays;

/**
 * The pull side of a {@link RemoteEmbeddingStore}'s lanes: splits a pull's ids over the shards (each id once per
 * request), serves a step's announced pulls from one request per shard, and runs the one-step look-ahead — the rows
 * announced for the next step go out at this step's first pull (or its end) and are served from their answer in the
 * next step. What each holds and when it goes is in the store's class comment; {@link ClientLane} keeps the buffers.
 *
 * <p>Failures: a call that fails throws ({@link ParameterServerException}); the store then drops the lane, because
 * requests of it may still be in flight on its buffers.
 *
 * <p>Sharing contract: thread-safe; each call works on its caller's lane only (the traffic locks the lane).
 */
final class LanePulls {
    private final RowCalls traffic;
    private final int[] dims;
    private final int shards;

    LanePulls(RowCalls traffic, int[] dims, int shards) {
        this.traffic = traffic;
        this.dims = dims;
        this.shards = shards;
    }

    /** Rows {@code ids[idOff .. idOff+n)} of table into out (ids checked by the caller). */
    void pull(ClientLane lane, int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        if (lane.inStep) {
            sendAhead(lane); // the next step's rows go out before this pull waits for anything
            if (lane.current.count > 0 && serveAhead(lane, table, ids, idOff, n, out, outOff)) return;
            if (lane.prefetched > 0 && servePrefetched(lane, table, ids, idOff, n, out, outOff)) return;
        }
        if (n == 0) return;
        lane.ensure(n);
        for (ShardBuffer b : lane.pulls) b.reset();
        final int[] shardOf = lane.shardOf, rowOff = lane.rowOff;
        mapRows(lane, lane.pulls, table, ids, idOff, n, shardOf, rowOff);
        traffic.fetch(lane);
        copyRows(lane.pulls, shardOf, rowOff, n, dims[table], out, outOff);
    }

    /** Announces a pull of the current step (inside a step; ids checked by the caller). */
    void prefetch(ClientLane lane, int table, int[] ids, int idOff, int n) {
        if (lane.current.find(table, ids, idOff, n) != null) return; // announced a step ahead: requested already
        lane.announce(table, ids, idOff, n, dims[table]);
    }

    /** Announces a pull of the next step (inside a step, before its rows went out; ids checked by the caller). */
    void prefetchNext(ClientLane lane, int table, int[] ids, int idOff, int n) {
        lane.next.announce(table, ids, idOff, n, dims[table]);
    }

    /** At a step's start: the rows announced a step ahead become the current step's; announced pulls are forgotten. */
    void beginStep(ClientLane lane) {
        lane.prefetched = 0;
        ClientLane.Ahead done = lane.current;
        if (done.sent && !done.received) traffic.finish(lane, done.bufs, done.calls); // announced, never pulled: its buffers are reused now
        lane.swapAhead();
    }

    /** At a step's end: the next step's rows go out if no pull sent them yet. */
    void endStep(ClientLane lane) {
        sendAhead(lane);
        lane.prefetched = 0;
    }

    /** Splits ids over the shards (de-duplicated), recording each id's shard and its row's float offset there. */
    private void mapRows(ClientLane lane, ShardBuffer[] bufs, int table, int[] ids, int idOff, int n, int[] shardOf, int[] rowOff) {
        final int dim = dims[table];
        final RowSlots slots = lane.slots;
        slots.reset(n);
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j], s = id % shards;
            ShardBuffer b = bufs[s];
            int off = slots.putIfAbsent(id, b.floats);
            if (off < 0) off = b.add(table, id, dim);
            shardOf[j] = s;
            rowOff[j] = off;
        }
    }

    /** out[outOff + j·dim ..] ← row j, which sits in bufs[shardOf[j]].rows at rowOff[j]. */
    private static void copyRows(ShardBuffer[] bufs, int[] shardOf, int[] rowOff, int n, int dim, float[] out, int outOff) {
        for (int j = 0; j < n; j++) System.arraycopy(bufs[shardOf[j]].rows, rowOff[j], out, outOff + j * dim, dim);
    }

    /** Serves a pull from the step's prefetched rows; false when it was not announced. */
    private boolean servePrefetched(ClientLane lane, int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        for (int i = 0; i < lane.prefetched; i++) {
            ClientLane.Prefetch p = lane.prefetch.get(i);
            if (p.table != table || p.n != n || !Arrays.equals(p.ids, 0, n, ids, idOff, idOff + n)) continue;
            if (!p.fetched) fetchPrefetched(lane);
            System.arraycopy(p.values, 0, out, outOff, n * dims[table]);
            return true;
        }
        return false;
    }

    /** Pulls every announced, not yet fetched table of the step in one request per shard. */
    private void fetchPrefetched(ClientLane lane) {
        for (ShardBuffer b : lane.pulls) b.reset();
        for (int i = 0; i < lane.prefetched; i++) {
            ClientLane.Prefetch p = lane.prefetch.get(i);
            if (!p.fetched) mapRows(lane, lane.pulls, p.table, p.ids, 0, p.n, p.shardOf, p.rowOff);
        }
        traffic.fetch(lane);
        for (int i = 0; i < lane.prefetched; i++) {
            ClientLane.Prefetch p = lane.prefetch.get(i);
            if (p.fetched) continue;
            copyRows(lane.pulls, p.shardOf, p.rowOff, p.n, dims[p.table], p.values, 0);
            p.fetched = true;
        }
    }

    /** Requests the rows announced for the next step, all tables in one request per shard, unless done already. */
    private void sendAhead(ClientLane lane) {
        ClientLane.Ahead next = lane.next;
        if (next.sent || next.count == 0) return;
        for (ShardBuffer b : next.bufs) b.reset();
        for (int i = 0; i < next.count; i++) {
            ClientLane.Prefetch p = next.entries.get(i);
            mapRows(lane, next.bufs, p.table, p.ids, 0, p.n, p.shardOf, p.rowOff);
        }
        next.sent = true;
        traffic.start(lane, next.bufs, next.calls);
    }

    /** Serves a pull from the rows announced for this step a step ahead; false when these ids were not among them. */
    private boolean serveAhead(ClientLane lane, int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        ClientLane.Ahead cur = lane.current;
        ClientLane.Prefetch p = cur.find(table, ids, idOff, n);
        if (p == null) return false;
        if (!cur.received) {
            traffic.finish(lane, cur.bufs, cur.calls);
            cur.received = true;
        }
        copyRows(cur.bufs, p.shardOf, p.rowOff, n, dims[table], out, outOff);
        return true;
    }
}
