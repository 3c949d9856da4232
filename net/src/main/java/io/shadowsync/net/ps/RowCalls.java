package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import io.shadowsync.nn.RowBytes;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * How a {@link RemoteEmbeddingStore} moves a lane's rows: {@link RowStreams} (a persistent stream per lane and shard,
 * pushes acknowledged in the background; the default) or {@link RowTraffic} (a unary call per shard and round trip,
 * every push waited for; kept to compare against). Both split a shard's part into chunks of at most {@link #chunkRows}
 * rows, fail over to the shard's next replica with the same (client, seq), and throw {@link ParameterServerException}s
 * that name the shard; after a throw the caller drops the lane. This class holds what both share: the shards, the
 * tables' dims, the chunk size, the row codec the values travel in and the counters.
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
    /** How the rows' values travel ({@code --compress-rows}), both ways. */
    final RowCodec codec;
    /** The values' bytes pulled and pushed, as encoded and as float32. */
    final RowBytes bytes = new RowBytes();

    RowCalls(ShardSet set, int[] dims, int chunkRows, RowCodec codec) {
        this.set = set;
        this.dims = dims;
        this.chunkRows = chunkRows;
        this.codec = codec;
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
     * Decodes shard s's answer to the pull req of {@code floats} floats into b's rows, after those filled so far (a
     * gRPC answer; a row lane's reader decodes its frames with {@link #decodeRows}).
     */
    final void takeRows(ShardBuffer b, int s, RowBatch req, int floats, ByteString values) {
        long want = valueBytes(codec, req, dims);
        if (values.size() != want) {
            throw new ParameterServerException(set.name(s) + " answered a pull of " + floats + " floats in " + codec + " ("
                    + want + " bytes) with " + values.size() + " bytes", s, set.address(s), Status.Code.INTERNAL, null);
        }
        if (codec == RowCodec.FLOAT32) {
            LittleEndian.getFloats(values, 0, b.rows, b.rowPos, floats);
        } else {
            decodeRows(codec, values.asReadOnlyByteBuffer(), req, dims, b.rows, b.rowPos);
        }
        b.rowPos += floats;
    }

    /** Counts the rows of a pull that came back. */
    final void pulled(RowBatch req) {
        for (int k = 0, n = req.getSegmentsCount(); k < n; k++) {
            Segment seg = req.getSegments(k);
            int dim = dims[seg.getTable()];
            bytes.pulled(seg.getCount(), dim, codec.rowBytes(dim));
        }
    }

    /** Bytes of the values of req's rows in codec (a push's gradients, a pull's answer). */
    static long valueBytes(RowCodec codec, RowBatch req, int[] dims) {
        long n = 0;
        for (int k = 0, nseg = req.getSegmentsCount(); k < nseg; k++) {
            Segment seg = req.getSegments(k);
            n += Integer.toUnsignedLong(seg.getCount()) * codec.rowBytes(dims[seg.getTable()]);
        }
        return n;
    }

    /** Decodes req's rows, one after the other, from src (at its position, advanced past them) into dst from off. */
    static void decodeRows(RowCodec codec, ByteBuffer src, RowBatch req, int[] dims, float[] dst, int off) {
        for (int k = 0, nseg = req.getSegmentsCount(); k < nseg; k++) {
            Segment seg = req.getSegments(k);
            int dim = dims[seg.getTable()];
            for (int j = 0, c = seg.getCount(); j < c; j++, off += dim) codec.decode(src, dst, off, dim);
        }
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
