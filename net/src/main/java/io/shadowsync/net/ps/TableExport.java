package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.ExportPage;
import io.shadowsync.net.proto.ExportRequest;
import io.shadowsync.net.proto.Route;
import io.shadowsync.nn.LocalEmbeddingStore;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Reads whole tables from the shards, page by page, every shard's next page at once (for model files); with
 * replicas, each shard from the replica calls go to now, failing over as pushes do.
 */
final class TableExport {
    private static final String EXPORT = "EmbeddingShard.Export";

    private TableExport() {}

    /** Every row of every table, [t][rows × dim] in global row order. */
    static float[][] all(ShardSet set, int[] dims, long[] rows, int chunkRows) {
        final int shards = set.size();
        List<EmbeddingShardGrpc.EmbeddingShardFutureStub> stubs = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) stubs.add(set.stub(EmbeddingShardGrpc.newFutureStub(set.channel(s))));
        float[][] out = new float[dims.length][];
        for (int t = 0; t < dims.length; t++) {
            final int dim = dims[t];
            if (rows[t] > LocalEmbeddingStore.MAX_TABLE_FLOATS / dim) {
                throw new IllegalStateException("table " + t + " has " + rows[t] + " rows × " + dim
                        + " dims, more than one Java array holds; it cannot be exported whole");
            }
            final float[] dst = new float[(int) (rows[t] * dim)];
            final int page = (int) Math.max(1, Math.min(chunkRows, PsShardSpec.payloadLimit(set.maxMessageBytes()) / (4L * dim)));
            final long[] next = new long[shards], local = new long[shards];
            for (int s = 0; s < shards; s++) local[s] = s >= rows[t] ? 0 : (rows[t] - s + shards - 1) / shards;
            List<Future<ExportPage>> calls = new ArrayList<>(shards);
            List<ExportRequest> requests = new ArrayList<>(shards);
            int[] callShard = new int[shards], callPos = new int[shards];
            while (true) {
                calls.clear();
                requests.clear();
                int nc = 0;
                for (int s = 0; s < shards; s++) {
                    if (next[s] >= local[s]) continue;
                    int pos = set.primary(s);
                    ExportRequest.Builder rb = ExportRequest.newBuilder().setTable(t).setFirstLocalRow(next[s]).setMaxRows(page);
                    Route route = set.route(s, pos, 0, 0);
                    if (route != null) rb.setRoute(route);
                    ExportRequest req = rb.build();
                    calls.add(stub(set, stubs, s, pos).export(req));
                    requests.add(req);
                    callPos[nc] = pos;
                    callShard[nc++] = s;
                }
                if (nc == 0) break;
                for (int i = 0; i < nc; i++) {
                    int s = callShard[i];
                    ExportPage p = await(set, s, callPos[i], requests.get(i), stubs, calls, i);
                    long want = Math.min(page, local[s] - next[s]);
                    ByteString v = p.getValues();
                    if (p.getFirstLocalRow() != next[s] || p.getRows() != want || v.size() != 4L * want * dim) {
                        for (int k = i + 1; k < nc; k++) calls.get(k).cancel(true);
                        throw new ParameterServerException(set.name(s) + " answered an export of " + want + " rows from local row "
                                + next[s] + " of table " + t + " with " + p.getRows() + " rows from " + p.getFirstLocalRow()
                                + " (" + v.size() + " bytes)", s, set.address(s), Status.Code.INTERNAL, null);
                    }
                    FloatBuffer fb = v.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                    for (int r = 0; r < want; r++) {
                        long global = (next[s] + r) * shards + s;
                        fb.get(r * dim, dst, (int) (global * dim), dim);
                    }
                    next[s] += want;
                }
            }
            out[t] = dst;
        }
        return out;
    }

    private static EmbeddingShardGrpc.EmbeddingShardFutureStub stub(ShardSet set,
            List<EmbeddingShardGrpc.EmbeddingShardFutureStub> stubs, int s, int pos) {
        return stubs.get(set.node(s, pos)).withDeadlineAfter(set.deadlineNanos(), TimeUnit.NANOSECONDS);
    }

    /** Call i's page; when its replica is gone, the same page from the shard's next replica. */
    private static ExportPage await(ShardSet set, int s, int pos, ExportRequest req,
                                    List<EmbeddingShardGrpc.EmbeddingShardFutureStub> stubs, List<Future<ExportPage>> calls, int i) {
        try {
            Future<ExportPage> call = calls.get(i);
            while (true) {
                try {
                    return set.await(s, pos, call, EXPORT);
                } catch (ParameterServerException e) {
                    pos = set.failover(s, pos, e);
                    req = req.toBuilder().setRoute(req.getRoute().toBuilder().setPrimary(pos)).build();
                    call = stub(set, stubs, s, pos).export(req);
                }
            }
        } catch (InterruptedException e) {
            for (int k = i; k < calls.size(); k++) calls.get(k).cancel(true);
            Thread.currentThread().interrupt();
            throw new ParameterServerException("interrupted while exporting rows from " + set.name(s), s, set.address(s),
                    Status.Code.CANCELLED, e);
        } catch (RuntimeException e) {
            for (int k = i + 1; k < calls.size(); k++) calls.get(k).cancel(true);
            throw e;
        }
    }
}
