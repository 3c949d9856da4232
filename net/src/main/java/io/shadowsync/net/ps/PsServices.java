package io.shadowsync.net.ps;

import io.shadowsync.net.Transport;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.ExportPage;
import io.shadowsync.net.proto.ExportRequest;
import io.shadowsync.net.proto.PsAdminGrpc;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Rows;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.ShardStats;
import io.shadowsync.net.proto.TableShape;
import io.shadowsync.net.proto.Tensor;

/**
 * The gRPC handlers of one node: each checks its message (through {@link EmbeddingSlices} or {@link DenseBlock}),
 * answers a refusal with its status and counts it, or applies the message and counts the call. Token and TLS checks
 * happen before, in the transport.
 */
final class PsServices {
    private static final Empty EMPTY = Empty.getDefaultInstance();

    private PsServices() {}

    private static void refuse(ServerCounters counters, Refused r, StreamObserver<?> out) {
        counters.refuse(r.reason());
        out.onError(r.status());
    }

    static final class Embeddings extends EmbeddingShardGrpc.EmbeddingShardImplBase implements Transport.InlineService {
        private final EmbeddingSlices slices;
        private final ServerCounters counters;

        Embeddings(EmbeddingSlices slices, ServerCounters counters) {
            this.slices = slices;
            this.counters = counters;
        }

        @Override
        public void pull(RowBatch request, StreamObserver<Rows> out) {
            counters.calls.increment();
            byte[] rows;
            try {
                rows = slices.pull(request);
            } catch (Refused r) {
                refuse(counters, r, out);
                return;
            }
            counters.rowsPulled.add(request.getIds().size() / 4);
            out.onNext(Rows.newBuilder().setValues(UnsafeByteOperations.unsafeWrap(rows)).build());
            out.onCompleted();
        }

        @Override
        public void push(RowBatch request, StreamObserver<PushAck> out) {
            counters.calls.increment();
            int n;
            try {
                n = slices.push(request);
            } catch (Refused r) {
                refuse(counters, r, out);
                return;
            }
            counters.rowsPushed.add(n);
            out.onNext(PushAck.newBuilder().setRows(n).build());
            out.onCompleted();
        }

        @Override
        public void export(ExportRequest request, StreamObserver<ExportPage> out) {
            counters.calls.increment();
            ExportPage page;
            try {
                page = slices.export(request);
            } catch (Refused r) {
                refuse(counters, r, out);
                return;
            }
            out.onNext(page);
            out.onCompleted();
        }
    }

    static final class Dense extends DenseShardGrpc.DenseShardImplBase implements Transport.InlineService {
        private final DenseBlock block;
        private final ServerCounters counters;

        Dense(DenseBlock block, ServerCounters counters) {
            this.block = block;
            this.counters = counters;
        }

        @Override
        public void pull(Empty request, StreamObserver<Tensor> out) {
            counters.calls.increment();
            counters.densePulls.increment();
            out.onNext(Tensor.newBuilder().setData(UnsafeByteOperations.unsafeWrap(block.pull())).build());
            out.onCompleted();
        }

        @Override
        public void pushDelta(Tensor request, StreamObserver<Empty> out) {
            push(request, false, out);
        }

        @Override
        public void pushGradient(Tensor request, StreamObserver<Empty> out) {
            push(request, true, out);
        }

        /** A delta (EASGD center += d) or a gradient for the server's optimizer; refused whole when it is bad. */
        private void push(Tensor request, boolean gradient, StreamObserver<Empty> out) {
            counters.calls.increment();
            try {
                if (gradient) block.pushGradient(request.getData());
                else block.pushDelta(request.getData());
            } catch (Refused r) {
                refuse(counters, r, out);
                return;
            }
            counters.densePushes.increment();
            out.onNext(EMPTY);
            out.onCompleted();
        }
    }

    static final class Admin extends PsAdminGrpc.PsAdminImplBase {
        private final PsServer server;

        Admin(PsServer server) {
            this.server = server;
        }

        @Override
        public void describe(Empty request, StreamObserver<ShardInfo> out) {
            server.counters().calls.increment();
            out.onNext(server.info());
            out.onCompleted();
        }

        @Override
        public void stats(Empty request, StreamObserver<ShardStats> out) {
            server.counters().calls.increment();
            out.onNext(server.statsMessage());
            out.onCompleted();
        }

        @Override
        public void shutdown(Empty request, StreamObserver<Empty> out) {
            server.counters().calls.increment();
            out.onNext(EMPTY);
            out.onCompleted();
            server.requestShutdown();
        }
    }

    static ShardInfo info(EmbeddingSlices slices, DenseBlock dense, PsShardSpec spec, int maxMessageBytes) {
        ShardInfo.Builder b = ShardInfo.newBuilder().setShard(spec.shard()).setShards(spec.shards())
                .setEmbeddingOptimizer(spec.embeddingOptimizer().name())
                .setDenseSize(dense.size()).setDenseStart(dense.start()).setDenseLength(dense.length())
                .setDenseOptimizer(dense.optimizerName())
                .setMaxRowsPerRequest(spec.maxRowsPerRequest()).setMaxMessageBytes(maxMessageBytes);
        for (int t = 0; t < slices.numTables(); t++) {
            b.addTables(TableShape.newBuilder().setRows(slices.rows(t)).setDim(slices.dim(t)));
        }
        return b.build();
    }
}
