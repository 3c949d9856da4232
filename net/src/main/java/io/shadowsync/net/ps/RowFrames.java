package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.shadowsync.net.coll.SocketPlane;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The row lane's frames ({@link RowLaneServer}, {@link LaneWire}): the ring data plane's 16-byte little-endian header
 * ({@link SocketPlane}: opcode, total, extra, payload bytes) with the call's tag in {@code total}, and a payload.
 * <ul>
 *   <li>{@link #PULL}, {@link #PUSH} (client to node; extra: the segments): the route (shard, primary: int32; client,
 *       seq: int64; shard {@link #NO_ROUTE} for none), the row codec's id (int32: {@link io.shadowsync.comm.RowCodec#id()},
 *       0 float32), the segments (table, count: int32 each), the ids (int32) and, for a push, the gradients, each row
 *       encoded by the row codec on its own; the same fields as a {@code RowBatch}, which the node rebuilds around the
 *       frame's bytes without copying;</li>
 *   <li>{@link #ROWS} (node to client; extra: the row codec's id, the request's): a pull's rows in the order of its
 *       ids, each encoded by the row codec;</li>
 *   <li>{@link #ACK} (extra: the rows applied): a push applied (on every live replica, when replicated);</li>
 *   <li>{@link #REFUSED} (extra: the gRPC status code): the reason, UTF-8; the node then closes the connection, as it
 *       ends a gRPC stream after a refusal.</li>
 * </ul>
 * Every number is little-endian, as on the gRPC messages ({@link LittleEndian}).
 */
final class RowFrames {
    static final int PULL = 1, PUSH = 2, ROWS = 3, ACK = 4, REFUSED = 5;
    /** The route's shard of a request that carries none (an unreplicated client's: the node's own shard). */
    static final int NO_ROUTE = -1;
    /** The route's bytes (shard, primary, client, seq) and the row codec's id. */
    static final int ROUTE_BYTES = 28;
    /** The group a row lane's handshake names ({@link SocketPlane#connect}); its rank is the node's shard. */
    static final String GROUP = "parameter-server rows";

    private RowFrames() {}

    /** The payload bytes of a request frame for req. */
    static int requestBytes(RowBatch req) {
        return ROUTE_BYTES + 8 * req.getSegmentsCount() + req.getIds().size() + req.getGrads().size();
    }

    /** Writes req's payload at b's position (b little-endian, with room for {@link #requestBytes}). */
    static void putRequest(ByteBuffer b, RowBatch req) {
        Route r = req.getRoute();
        b.putInt(req.hasRoute() ? r.getShard() : NO_ROUTE).putInt(r.getPrimary()).putLong(r.getClient()).putLong(r.getSeq());
        b.putInt(req.getCodec());
        for (int k = 0, n = req.getSegmentsCount(); k < n; k++) {
            Segment s = req.getSegments(k);
            b.putInt(s.getTable()).putInt(s.getCount());
        }
        req.getIds().copyTo(b);
        req.getGrads().copyTo(b);
    }

    /**
     * The RowBatch a request frame's payload (p, little-endian, position 0, limit its end) holds. Its ids and
     * gradients wrap p's bytes unless {@code copy} (a push the node forwards to its backups keeps them past the
     * frame's reuse). p must be a heap buffer: protobuf "wraps" a direct buffer by copying its bytes into a new array.
     *
     * @throws Refused when the payload's lengths disagree with its segments
     */
    static RowBatch request(ByteBuffer p, int segments, boolean push, boolean copy) throws Refused {
        if (!p.hasArray()) throw new IllegalArgumentException("a row-lane request is read into a heap buffer, which its RowBatch wraps");
        int bytes = p.remaining();
        if (segments < 0 || ROUTE_BYTES + 8L * segments > bytes) {
            throw new Refused(Refusal.LENGTH_MISMATCH, "a row-lane frame of " + bytes + " bytes cannot hold a route and "
                    + segments + " segments");
        }
        RowBatch.Builder b = RowBatch.newBuilder();
        int shard = p.getInt(), primary = p.getInt();
        long client = p.getLong(), seq = p.getLong();
        b.setCodec(p.getInt()); // checked by the node with the rest of the request
        if (shard != NO_ROUTE) b.setRoute(Route.newBuilder().setShard(shard).setPrimary(primary).setClient(client).setSeq(seq));
        long rows = 0;
        for (int k = 0; k < segments; k++) {
            int table = p.getInt(), count = p.getInt();
            b.addSegments(Segment.newBuilder().setTable(table).setCount(count));
            rows += Integer.toUnsignedLong(count);
        }
        if (4 * rows > p.remaining()) {
            throw new Refused(Refusal.LENGTH_MISMATCH, "a row-lane frame's segments count " + rows + " rows, but "
                    + p.remaining() + " bytes are left for their ids");
        }
        int idEnd = p.position() + (int) (4 * rows);
        b.setIds(bytes(p, p.position(), idEnd, copy));
        if (push || idEnd < p.limit()) b.setGrads(bytes(p, idEnd, p.limit(), copy)); // a pull with gradients is refused by its check
        return b.build();
    }

    private static ByteString bytes(ByteBuffer p, int from, int to, boolean copy) {
        ByteBuffer s = p.duplicate().position(from).limit(to).order(ByteOrder.LITTLE_ENDIAN);
        return copy ? ByteString.copyFrom(s) : UnsafeByteOperations.unsafeWrap(s.slice());
    }
}
