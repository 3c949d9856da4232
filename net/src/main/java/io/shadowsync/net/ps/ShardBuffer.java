package io.shadowsync.net.ps;

import com.google.protobuf.UnsafeByteOperations;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The rows a client sends one shard in one round trip: ids (little-endian, already in wire format), their
 * gradients for a push (already encoded, row by row, by the store's {@link RowCodec}), and the segments that say which table each run of ids belongs to; for a pull, the rows
 * that came back, in the same order. Reused call after call by one thread, so the hot loop allocates only the
 * protobuf messages; the arrays go on the wire without a copy ({@link UnsafeByteOperations#unsafeWrap}), which is
 * safe because the owning thread neither writes them nor starts another call until the call has ended.
 *
 * <p>Sharing contract: confined to one thread.
 */
final class ShardBuffer {
    byte[] ids = new byte[1024];
    int count;
    byte[] grads = new byte[4096];
    int gradBytes;
    int[] segTable = new int[8];
    int[] segCount = new int[8];
    int segs;
    /** Floats of the rows named so far (the sum of their tables' dims): the next row's offset in {@link #rows}. */
    int floats;
    /** Pull: the rows that came back, in id order; rowPos floats filled so far. */
    float[] rows = new float[1024];
    int rowPos;
    // chunking cursor: next segment, ids of it already sent, gradient bytes already sent
    private int curSeg;
    private int curUsed;
    private int curGrad;

    void reset() {
        count = 0;
        gradBytes = 0;
        segs = 0;
        floats = 0;
        rowPos = 0;
        curSeg = 0;
        curUsed = 0;
        curGrad = 0;
    }

    /** Appends row id of table; returns its float offset among this shard's rows. */
    int add(int table, int id, int dim) {
        if (segs == 0 || segTable[segs - 1] != table) {
            if (segs == segTable.length) {
                segTable = Arrays.copyOf(segTable, segs * 2);
                segCount = Arrays.copyOf(segCount, segs * 2);
            }
            segTable[segs] = table;
            segCount[segs++] = 0;
        }
        segCount[segs - 1]++;
        if (ids.length < 4 * (count + 1)) ids = Arrays.copyOf(ids, Math.max(4 * (count + 1), ids.length * 2));
        LittleEndian.putInt(ids, 4 * count++, id);
        int off = floats;
        floats += dim;
        return off;
    }

    /** Appends the gradient of the row just added, encoded by codec. */
    void addGrad(float[] g, int off, int dim, RowCodec codec) {
        int rb = codec.rowBytes(dim);
        if (grads.length < gradBytes + rb) grads = Arrays.copyOf(grads, Math.max(gradBytes + rb, grads.length * 2));
        if (codec == RowCodec.FLOAT32) {
            LittleEndian.putFloats(g, off, grads, gradBytes, dim);
        } else {
            codec.encode(g, off, dim, ByteBuffer.wrap(grads, gradBytes, rb));
        }
        gradBytes += rb;
    }

    /** Makes room for the pull's reply rows. */
    void prepareRows() {
        if (rows.length < floats) rows = new float[Math.max(floats, rows.length * 2)];
        rowPos = 0;
    }

    /**
     * The next chunk of at most maxRows rows, from where the previous one ended (the first call starts at row 0);
     * {@code chunkFloats[0]} gets the floats of its rows. The route (null: none) says which replica it is for; the
     * request names codec, which the gradients are in and a pull's answer will be.
     */
    RowBatch nextChunk(int from, int maxRows, boolean push, int[] dims, int[] chunkFloats, Route route, RowCodec codec) {
        int end = Math.min(count, from + maxRows), r = from, gStart = curGrad, f = 0, gb = 0;
        RowBatch.Builder b = RowBatch.newBuilder();
        while (r < end) {
            int take = Math.min(segCount[curSeg] - curUsed, end - r), t = segTable[curSeg];
            b.addSegments(Segment.newBuilder().setTable(t).setCount(take));
            f += take * dims[t];
            gb += take * codec.rowBytes(dims[t]);
            r += take;
            curUsed += take;
            if (curUsed == segCount[curSeg]) {
                curSeg++;
                curUsed = 0;
            }
        }
        curGrad += gb;
        chunkFloats[0] = f;
        b.setCodec(codec.id());
        b.setIds(UnsafeByteOperations.unsafeWrap(ids, 4 * from, 4 * (end - from)));
        if (push) b.setGrads(UnsafeByteOperations.unsafeWrap(grads, gStart, gb));
        if (route != null) b.setRoute(route);
        return b.build();
    }
}
