package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * How a {@link RemoteEmbeddingStore} moves a lane's rows: {@link RowStreams} (a persistent stream per lane and shard,
 * pushes acknowledged in the background; the default) or {@link RowTraffic} (a unary call per shard and round trip,
 * every push waited for; kept to compare against). Both split a shard's part into chunks of at most {@link #chunkRows}
 * rows, fail over to the shard's next replica with the same (client, seq), and throw {@link ParameterServerException}s
 * that name the shard; after a throw the caller drops the lane. This class holds what both share: the shards, the
 * tables' dims, the chunk size and the counters.
 *
 * <p>Sharing contract: thread-safe (the shard set and the counters are); each call works on its caller's lane only.
 */
abstract class RowCalls {
    final ShardSet set;
    final int[] dims;
    /** Most rows in one request: the servers' cap and the message size limit, whichever binds first. */
    final int chunkRows;
    /** Requests sent so far (one per shard touched per round trip; more when split by size). */
    final LongAdder requests = new LongAdder();
    /** Rows that travelled back from pulls (after de-duplication), and rows acknowledged as pushed. */
    final LongAdder rowsPulled = new LongAdder();
    final LongAdder rowsPushed = new LongAdder();

    RowCalls(ShardSet set, int[] dims, int chunkRows) {
        this.set = set;
        this.dims = dims;
        this.chunkRows = chunkRows;
    }

    /** Sends the lane's pull buffers to their shards at once and fills each buffer's rows from the answers. */
    final void fetch(ClientLane lane) {
        start(lane, lane.pulls, lane.streamPulls);
        finish(lane, lane.pulls, lane.streamPulls);
    }

    /**
     * Sends pull buffers (the lane's own or one of its {@link ClientLane.Ahead}s) to their shards at once; their rows
     * are filled by {@link #finish} with the same calls list (the streams return at once; the unary mode fills them
     * here and returns when it has).
     */
    abstract void start(ClientLane lane, ShardBuffer[] bufs, List<RowStreams.Call> calls);

    /** Waits for the answers of the pulls {@link #start}ed and fills each buffer's rows from them. */
    abstract void finish(ClientLane lane, ShardBuffer[] bufs, List<RowStreams.Call> calls);

    /**
     * Sends the lane's filled push buffers, all shards at once, and empties them for the next step. The unary mode
     * returns once every shard has acknowledged; the streams first {@link #settle} the pushes sent before (so at most
     * one step's pushes are in flight per lane: the back-pressure) and return without waiting for these.
     */
    abstract void send(ClientLane lane);

    /** Waits until every push the lane has sent is acknowledged (applied on every live replica). */
    abstract void settle(ClientLane lane);

    /**
     * Decodes shard s's answer to a pull of {@code floats} floats into b's rows, after those filled so far: the one
     * place where the client reads rows off the wire (their encoding is {@link LittleEndian}'s).
     */
    final void takeRows(ShardBuffer b, int s, int floats, ByteString values) {
        if (values.size() != 4L * floats) {
            throw new ParameterServerException(set.name(s) + " answered a pull of " + floats + " floats with "
                    + values.size() + " bytes", s, set.address(s), Status.Code.INTERNAL, null);
        }
        LittleEndian.getFloats(values, 0, b.rows, b.rowPos, floats);
        b.rowPos += floats;
    }

    /** Checks that shard s applied every row of a push of {@code sent} rows, and counts them. */
    final void checkApplied(int s, long applied, int sent) {
        if (applied != sent) {
            throw new ParameterServerException(set.name(s) + " applied " + applied + " of " + sent + " pushed rows", s,
                    set.address(s), Status.Code.INTERNAL, null);
        }
        rowsPushed.add(applied);
    }
}
