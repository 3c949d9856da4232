package io.shadowsync.net.ps;

import io.shadowsync.net.Transport;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.proto.DenseCall;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.ExportPage;
import io.shadowsync.net.proto.ExportRequest;
import io.shadowsync.net.proto.PsAdminGrpc;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.Rows;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.ShardStats;
import io.shadowsync.net.proto.TableShape;
import io.shadowsync.net.proto.Tensor;

/**
 * The gRPC handlers of one node: each finds the replica its call is for (the route; the node's own shard without
 * one) and lets the replica admit it, checks the message (through {@link EmbeddingSlices} or {@link DenseBlock}),
 * answers a refusal with its status and counts it, or applies the message and counts the call; a primary's push is
 * answered once its backups have it ({@link Forwarder}). Token and TLS checks happen before, in the transport.
 */
final class PsServices {
    private static final Empty EMPTY = Empty.getDefaultInstance();

    private PsServices() {}

    private static void refuse(ServerCounters counters, Refused r, StreamObserver<?> out) {
        counters.refuse(r.reason());
        out.onError(r.status());
    }

    static final class Embeddings extends EmbeddingShardGrpc.EmbeddingShardImplBase implements Transport.InlineService {
        private final PsServer node;
        private final ServerCounters counters;

        Embeddings(PsServer node) {
            this.node = node;
            this.counters = node.counters();
        }

        @Override
        public void pull(RowBatch request, StreamObserver<Rows> out) {
            counters.calls.increment();
            byte[] rows;
            try {
                rows = admit(node, request.hasRoute() ? request.getRoute() : node.ownRoute()).slices.pull(request);
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
            Route route = request.hasRoute() ? request.getRoute() : node.ownRoute();
            Replica r;
            int n;
            try {
                r = admit(node, route);
                n = r.pushRows(request);
            } catch (Refused e) {
                refuse(counters, e, out);
                return;
            }
            counters.rowsPushed.add(n);
            PushAck ack = PushAck.newBuilder().setRows(n).build();
            if (!route.getForwarded() && r.replicas > 1) {
                node.forwarder().rows(r, request, ack, out); // answers when every live backup has it
                return;
            }
            out.onNext(ack);
            out.onCompleted();
        }

        @Override
        public void export(ExportRequest request, StreamObserver<ExportPage> out) {
            counters.calls.increment();
            ExportPage page;
            try {
                page = admit(node, request.hasRoute() ? request.getRoute() : node.ownRoute()).slices.export(request);
            } catch (Refused r) {
                refuse(counters, r, out);
                return;
            }
            out.onNext(page);
            out.onCompleted();
        }
    }

    /** The replica the route names, if it takes the call (see {@link Replica#admit}). */
    private static Replica admit(PsServer node, Route route) throws Refused {
        Replica r = node.replica(route);
        r.admit(route);
        return r;
    }

    static final class Dense extends DenseShardGrpc.DenseShardImplBase implements Transport.InlineService {
        private final PsServer node;
        private final ServerCounters counters;

        Dense(PsServer node) {
            this.node = node;
            this.counters = node.counters();
        }

        @Override
        public void pull(DenseCall request, StreamObserver<Tensor> out) {
            counters.calls.increment();
            Replica r;
            try {
                r = admit(node, request.hasRoute() ? request.getRoute() : node.ownRoute());
            } catch (Refused e) {
                refuse(counters, e, out);
                return;
            }
            counters.densePulls.increment();
            out.onNext(Tensor.newBuilder().setData(UnsafeByteOperations.unsafeWrap(r.dense.pull())).build());
            out.onCompleted();
        }

        @Override
        public void pushDelta(DenseCall request, StreamObserver<Empty> out) {
            push(request, false, out);
        }

        @Override
        public void pushGradient(DenseCall request, StreamObserver<Empty> out) {
            push(request, true, out);
        }

        /** A delta (EASGD center += d) or a gradient for the server's optimizer; refused whole when it is bad. */
        private void push(DenseCall request, boolean gradient, StreamObserver<Empty> out) {
            counters.calls.increment();
            Route route = request.hasRoute() ? request.getRoute() : node.ownRoute();
            Replica r;
            try {
                r = admit(node, route);
                r.pushDense(request.getData(), route, gradient);
            } catch (Refused e) {
                refuse(counters, e, out);
                return;
            }
            counters.densePushes.increment();
            if (!route.getForwarded() && r.replicas > 1) {
                node.forwarder().dense(r, request, gradient, EMPTY, out);
                return;
            }
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
