package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.proto.ExportPage;
import io.shadowsync.net.proto.ExportRequest;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Segment;
import io.shadowsync.nn.ShardedTables;
import io.shadowsync.optim.RowOptimizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.IntFunction;
import java.util.SplittableRandom;

/**
 * One node's slice of every embedding table and the sparse optimizer of each slice: row r of table t, when
 * r mod S is this shard, at local row r / S (offset {@code (r / S)·dim} of the slice). Messages are checked whole
 * (tables, byte lengths, id ranges, shard ownership, finite and bounded gradients, size caps) before any row is read or written.
 *
 * <p>Initial values are those of a {@code LocalEmbeddingStore} (and {@code ShardedEmbeddingServer}) of the same
 * shapes, stds and seed, element for element: the node draws every table's whole normal stream in row-major order
 * and keeps its own rows. Pushes go through {@link RowOptimizer#applyRows} with local ids, in message order, so a
 * sequence of pushes leaves the same bits as on a local store.
 *
 * <p>Sharing contract: the Hogwild rules of {@code LocalEmbeddingStore}: handler threads pull and push at once
 * without locks; a pull may copy a row half-updated by a concurrent push, and two pushes to one row may interleave
 * (intended). Decoding scratch is per thread.
 */
final class EmbeddingSlices {
    private final int shard;
    private final int shards;
    private final int maxRows;
    private final int maxMessageBytes;
    private final long[] rows;
    private final int[] dims;
    private final float[][] slices;
    /** Null where this shard holds no row of the table (rows &lt;= shard). */
    private final RowOptimizer[] optimizers;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    EmbeddingSlices(PsShardSpec spec, int maxMessageBytes) {
        long[][] shapes = spec.tableShapes();
        float[] initStd = spec.initStd();
        if (initStd.length != shapes.length) {
            throw new IllegalArgumentException("one init std per table: " + shapes.length + " tables but "
                    + initStd.length + " init stds");
        }
        int n = shapes.length;
        this.shard = spec.shard();
        this.shards = spec.shards();
        this.maxRows = spec.maxRowsPerRequest();
        this.maxMessageBytes = maxMessageBytes;
        this.rows = new long[n];
        this.dims = new int[n];
        this.slices = new float[n][];
        this.optimizers = new RowOptimizer[n];
        SplittableRandom root = new SplittableRandom(spec.seed());
        for (int t = 0; t < n; t++) {
            int dim = ShardedTables.checkTable(t, shapes[t], initStd[t], shards);
            long r = shapes[t][0];
            rows[t] = r;
            dims[t] = dim;
            long local = localRows(t);
            float[] w = new float[(int) (local * dim)];
            slices[t] = w;
            optimizers[t] = local == 0 ? null : spec.embeddingOptimizer().forTable(local, dim);
            float[][] byShard = new float[shards][];
            byShard[shard] = w; // the other shards' rows are drawn and skipped: this shard's values are LocalEmbeddingStore's
            ShardedTables.fill(root.split(), byShard, r, dim, initStd[t]);
        }
    }

    int numTables() {
        return dims.length;
    }

    long rows(int t) {
        return rows[t];
    }

    int dim(int t) {
        return dims[t];
    }

    /** Rows of table t this shard holds: those r &lt; rows with r mod S = shard. */
    long localRows(int t) {
        return ShardedTables.shardRows(rows[t], shard, shards);
    }

    /** Table t's slice, local row l at l·dim: the live array (tests compare it). */
    float[] slice(int t) {
        return slices[t];
    }

    /** Checks a pull and copies its rows, in request order, into a new little-endian reply ({@code ids.size() / 4} rows). */
    byte[] pull(RowBatch req) throws Refused {
        byte[][] out = new byte[1][];
        pull(req, bytes -> ByteBuffer.wrap(out[0] = new byte[bytes]));
        return out[0];
    }

    /**
     * Checks a pull and writes its rows, in request order, little-endian, into the buffer {@code room} gives for their
     * byte count (from its position on; the position is left after them): the row lane's frame, without a copy.
     */
    void pull(RowBatch req, IntFunction<ByteBuffer> room) throws Refused {
        Scratch sc = scratch.get();
        RowCodec codec = codec(req);
        decode(req, false, sc);
        long bytes = RowCalls.valueBytes(codec, req, dims);
        ByteBuffer target = room.apply((int) bytes);
        int[] ids = sc.ids;
        int j = 0;
        if (codec == RowCodec.FLOAT32) {
            FloatBuffer fb = target.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            target.position(target.position() + (int) bytes);
            for (int k = 0, n = req.getSegmentsCount(); k < n; k++) {
                Segment seg = req.getSegments(k);
                int t = seg.getTable(), dim = dims[t];
                float[] w = slices[t];
                for (int end = j + seg.getCount(); j < end; j++) fb.put(w, ids[j] * dim, dim);
            }
            return;
        }
        for (int k = 0, n = req.getSegmentsCount(); k < n; k++) { // each row its own message: int8 scales per row
            Segment seg = req.getSegments(k);
            int t = seg.getTable(), dim = dims[t];
            float[] w = slices[t];
            for (int end = j + seg.getCount(); j < end; j++) codec.encode(w, ids[j] * dim, dim, target);
        }
    }

    /**
     * Checks a pull and copies its rows, in request order, into {@code dest} from float {@code off}, as a client would
     * decode them from a reply: float32 rows straight from the table, a lossy codec's rows encoded and decoded (so
     * they hold what the codec carries). A trainer's lane to the shard its own JVM hosts ({@link DirectWire}).
     */
    void pull(RowBatch req, float[] dest, int off) throws Refused {
        RowCodec codec = codec(req);
        if (codec != RowCodec.FLOAT32) {
            byte[] reply = pull(req);
            RowCalls.decodeRows(codec, ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN), req, dims, dest, off);
            return;
        }
        Scratch sc = scratch.get();
        decode(req, false, sc);
        int[] ids = sc.ids;
        int j = 0;
        for (int k = 0, n = req.getSegmentsCount(); k < n; k++) {
            Segment seg = req.getSegments(k);
            int t = seg.getTable(), dim = dims[t];
            float[] w = slices[t];
            for (int end = j + seg.getCount(); j < end; j++, off += dim) System.arraycopy(w, ids[j] * dim, dest, off, dim);
        }
    }

    /**
     * The row codec a request names ({@code RowBatch.codec}).
     *
     * @throws Refused (UNKNOWN_CODEC) for an id that names none
     */
    private static RowCodec codec(RowBatch req) throws Refused {
        try {
            return RowCodec.ofId(req.getCodec());
        } catch (IllegalArgumentException e) {
            throw new Refused(Refusal.UNKNOWN_CODEC, "a row call in an " + e.getMessage());
        }
    }

    /** Checks a push whole, then applies its gradients in message order; returns the rows applied. */
    int push(RowBatch req) throws Refused {
        Scratch sc = scratch.get();
        decode(req, true, sc);
        int j = 0, g = 0;
        for (int k = 0, n = req.getSegmentsCount(); k < n; k++) {
            Segment seg = req.getSegments(k);
            int t = seg.getTable(), c = seg.getCount(), dim = dims[t];
            if (c == 0) continue;
            optimizers[t].applyRows(slices[t], dim, sc.ids, j, c, sc.grads, g);
            j += c;
            g += c * dim;
        }
        return j;
    }

    /** A page of table t's local rows. */
    ExportPage export(ExportRequest req) throws Refused {
        int t = req.getTable();
        if (t < 0 || t >= dims.length) {
            throw new Refused(Refusal.NO_SUCH_TABLE, "export of table " + Integer.toUnsignedString(t) + ": this node holds "
                    + dims.length + " tables");
        }
        long local = localRows(t), first = req.getFirstLocalRow();
        int dim = dims[t];
        if (first < 0 || first > local) {
            throw new Refused(Refusal.ROW_OUT_OF_RANGE, "export of table " + t + " from local row " + Long.toUnsignedString(first)
                    + ": this shard holds " + local + " of its rows");
        }
        long want = Integer.toUnsignedLong(req.getMaxRows());
        long payload = PsShardSpec.payloadLimit(maxMessageBytes);
        if (want < 1 || want > maxRows || 4L * want * dim > payload) {
            throw new Refused(Refusal.TOO_MANY_ROWS, "export page of " + want + " rows × " + dim + " dims: a page holds 1 to "
                    + Math.min(maxRows, payload / (4L * dim)) + " rows");
        }
        int n = (int) Math.min(want, local - first);
        byte[] out = LittleEndian.floats(slices[t], (int) first * dim, n * dim);
        return ExportPage.newBuilder().setTable(t).setFirstLocalRow(first).setRows(n)
                .setValues(UnsafeByteOperations.unsafeWrap(out)).build();
    }

    /**
     * Checks a pull or push whole: tables, row cap, byte lengths, id ranges and ownership, finite gradients; leaves
     * local ids in sc.ids and (push) gradients in sc.grads. Returns the floats of the rows named.
     */
    private long decode(RowBatch req, boolean push, Scratch sc) throws Refused {
        final int nseg = req.getSegmentsCount();
        long total = 0, floats = 0;
        for (int k = 0; k < nseg; k++) {
            Segment seg = req.getSegments(k);
            int t = seg.getTable();
            if (t < 0 || t >= dims.length) {
                throw new Refused(Refusal.NO_SUCH_TABLE, "segment " + k + " names table " + Integer.toUnsignedString(t)
                        + "; this node holds " + dims.length + " tables");
            }
            long c = Integer.toUnsignedLong(seg.getCount());
            total += c;
            floats += c * dims[t];
        }
        if (total > maxRows) {
            throw new Refused(Refusal.TOO_MANY_ROWS, "the request carries " + total + " rows; this server takes at most "
                    + maxRows + " per request");
        }
        RowCodec codec = codec(req);
        long valueBytes = RowCalls.valueBytes(codec, req, dims);
        if (!push && valueBytes > PsShardSpec.payloadLimit(maxMessageBytes)) {
            throw new Refused(Refusal.TOO_MANY_ROWS, "the reply would hold " + valueBytes + " bytes of rows, over the "
                    + maxMessageBytes + "-byte message limit");
        }
        ByteString idBytes = req.getIds(), gradBytes = req.getGrads();
        if (idBytes.size() != 4 * total) {
            throw new Refused(Refusal.LENGTH_MISMATCH, "ids hold " + idBytes.size() + " bytes, but the segments count "
                    + total + " rows (4 bytes each: " + 4 * total + ")");
        }
        if (push && gradBytes.size() != valueBytes) {
            throw new Refused(Refusal.LENGTH_MISMATCH, "gradients hold " + gradBytes.size() + " bytes, but " + total
                    + " rows of their tables' dims need " + valueBytes + " in row codec " + codec);
        }
        if (!push && !gradBytes.isEmpty()) {
            throw new Refused(Refusal.LENGTH_MISMATCH, "a pull carries no gradients, got " + gradBytes.size() + " bytes");
        }
        int n = (int) total;
        sc.ensure(n, push ? (int) floats : 0);
        final int[] ids = sc.ids;
        LittleEndian.getInts(idBytes, ids, 0, n);
        int j = 0;
        for (int k = 0; k < nseg; k++) {
            Segment seg = req.getSegments(k);
            int t = seg.getTable();
            long r = rows[t];
            for (int end = j + seg.getCount(); j < end; j++) {
                int id = ids[j];
                if (id < 0 || id >= r) {
                    throw new Refused(Refusal.ROW_OUT_OF_RANGE, "table " + t + ": row id " + id + " is outside [0, " + r + ")");
                }
                if (id % shards != shard) {
                    throw new Refused(Refusal.WRONG_SHARD, "table " + t + ": row " + id + " lives on shard " + id % shards
                            + " of " + shards + ", not on this shard " + shard + " (do the client's shard addresses "
                            + "list the servers in shard order?)");
                }
                ids[j] = id / shards;
            }
        }
        if (push) {
            // decoded into float32: the optimizer applies them with its float32 state to the float32 rows
            if (codec == RowCodec.FLOAT32) {
                LittleEndian.getFloats(gradBytes, 0, sc.grads, 0, (int) floats);
            } else {
                RowCalls.decodeRows(codec, gradBytes.asReadOnlyByteBuffer(), req, dims, sc.grads, 0);
            }
            checkFinite(req, (int) floats, sc);
        }
        return floats;
    }

    private void checkFinite(RowBatch req, int nf, Scratch sc) throws Refused {
        final float[] g = sc.grads;
        float max = 0f;
        for (int i = 0; i < nf; i++) max = Math.max(max, Math.abs(g[i])); // NaN when some value is NaN
        if (max <= PsShardSpec.MAX_ABS_VALUE) return;
        int j = 0, o = 0;
        for (int k = 0; k < req.getSegmentsCount(); k++) {
            Segment seg = req.getSegments(k);
            int t = seg.getTable(), dim = dims[t];
            for (int end = j + seg.getCount(); j < end; j++, o += dim) {
                for (int e = 0; e < dim; e++) {
                    if (!Float.isFinite(g[o + e])) {
                        throw new Refused(Refusal.NOT_FINITE, "table " + t + ", row " + ((long) sc.ids[j] * shards + shard)
                                + ": gradient element " + e + " is " + g[o + e] + "; gradients must be finite");
                    }
                    if (Math.abs(g[o + e]) > PsShardSpec.MAX_ABS_VALUE) {
                        throw new Refused(Refusal.VALUE_TOO_LARGE, "table " + t + ", row " + ((long) sc.ids[j] * shards + shard)
                                + ": gradient element " + e + " is " + g[o + e] + "; gradients must be at most "
                                + PsShardSpec.MAX_ABS_VALUE + " in magnitude");
                    }
                }
            }
        }
    }

    /** Table t's row-optimizer state (the live array), or null when the optimizer keeps none or the shard holds no row. */
    float[] rowState(int t) {
        return optimizers[t] == null ? null : optimizers[t].state();
    }

    /** Per handler thread: decoded ids (then local ids) and gradients, grown as needed. */
    private static final class Scratch {
        int[] ids = new int[1024];
        float[] grads = new float[16384];

        void ensure(int n, int floats) {
            if (ids.length < n) ids = new int[Math.max(n, ids.length * 2)];
            if (grads.length < floats) grads = new float[Math.max(floats, grads.length * 2)];
        }
    }
}
