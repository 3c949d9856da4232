package io.shadowsync.net.ps;

import java.util.List;

/**
 * How a {@link RemoteEmbeddingStore} moves a lane's rows: {@link RowStreams} (a persistent stream per lane and shard,
 * pushes acknowledged in the background; the default) or {@link RowTraffic} (a unary call per shard and round trip,
 * every push waited for; kept to compare against). Both split a shard's part into chunks within the size limits, fail
 * over to the shard's next replica with the same (client, seq), and throw {@link ParameterServerException}s that name
 * the shard; after a throw the caller drops the lane.
 */
interface RowCalls {
    /** Sends the lane's pull buffers to their shards at once and fills each buffer's rows from the answers. */
    default void fetch(ClientLane lane) {
        start(lane, lane.pulls, lane.streamPulls);
        finish(lane, lane.pulls, lane.streamPulls);
    }

    /**
     * Sends pull buffers (the lane's own or one of its {@link ClientLane.Ahead}s) to their shards at once; their rows
     * are filled by {@link #finish} with the same calls list (the streams return at once; the unary mode fills them
     * here and returns when it has).
     */
    void start(ClientLane lane, ShardBuffer[] bufs, List<RowStreams.Call> calls);

    /** Waits for the answers of the pulls {@link #start}ed and fills each buffer's rows from them. */
    void finish(ClientLane lane, ShardBuffer[] bufs, List<RowStreams.Call> calls);

    /**
     * Sends the lane's filled push buffers, all shards at once, and empties them for the next step. The unary mode
     * returns once every shard has acknowledged; the streams first {@link #settle} the pushes sent before (so at most
     * one step's pushes are in flight per lane: the back-pressure) and return without waiting for these.
     */
    void send(ClientLane lane);

    /** Waits until every push the lane has sent is acknowledged (applied on every live replica). */
    void settle(ClientLane lane);

    /** Requests sent so far (one per shard touched per round trip; more when split by size). */
    long requests();

    long rowsPulled();

    long rowsPushed();
}
