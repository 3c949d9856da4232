package io.shadowsync.net.ps;

import io.shadowsync.net.Transport;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
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
import io.shadowsync.net.proto.StreamAnswer;
import io.shadowsync.net.proto.StreamCall;
import io.shadowsync.net.proto.TableShape;
import io.shadowsync.net.proto.Tensor;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

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
        private final Set<RowStream> open = ConcurrentHashMap.newKeySet();

        Embeddings(PsServer node) {
            this.node = node;
            this.counters = node.counters();
        }

        ServerCounters counters() {
            return counters;
        }

        int openStreams() {
            return open.size();
        }

        @Override
        public void pull(RowBatch request, StreamObserver<Rows> out) {
            byte[] rows;
            try {
                rows = pullRows(request);
            } catch (Refused r) {
                refuse(counters, r, out);
                return;
            }
            out.onNext(Rows.newBuilder().setValues(UnsafeByteOperations.unsafeWrap(rows)).build());
            out.onCompleted();
        }

        @Override
        public void push(RowBatch request, StreamObserver<PushAck> out) {
            pushRows(request, out, true);
        }

        /** Counts, admits, checks and serves a pull; the rows, little-endian. */
        private byte[] pullRows(RowBatch request) throws Refused {
            byte[] rows = admitPull(request).slices.pull(request);
            counters.rowsPulled.add(request.getIds().size() / 4);
            return rows;
        }

        /**
         * Counts, admits, checks and serves a pull into {@code dest} from float {@code off}, as decoded floats (a
         * trainer's direct calls to the shard its JVM hosts, {@link DirectWire}).
         */
        void pullInto(RowBatch request, float[] dest, int off) throws Refused {
            admitPull(request).slices.pull(request, dest, off);
            counters.rowsPulled.add(request.getIds().size() / 4);
        }

        /** Counts a pull and admits it: the replica that serves it (the caller counts its rows once served). */
        Replica admitPull(RowBatch request) throws Refused {
            counters.calls.increment();
            return admit(node, request.hasRoute() ? request.getRoute() : node.ownRoute());
        }

        /**
         * Counts, admits, checks and applies a push; answers on out (once every live backup has it, when replicated),
         * completing the call after the answer when {@code complete}.
         */
        void pushRows(RowBatch request, StreamObserver<PushAck> out, boolean complete) {
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
            if (complete) out.onCompleted();
        }

        @Override
        public StreamObserver<StreamCall> stream(StreamObserver<StreamAnswer> out) {
            RowStream st = new RowStream(out);
            open.add(st);
            return st;
        }

        /**
         * Ends every open stream (UNAVAILABLE): the node is stopping, and a graceful stop waits for calls in flight,
         * which a client's persistent streams would otherwise be for as long as the client lives.
         */
        void endStreams(String why) {
            for (RowStream st : open) st.fail(Status.UNAVAILABLE.withDescription(why).asRuntimeException());
        }

        /**
         * One client lane's stream: its calls are handled one after the other, as they arrive (gRPC delivers them in
         * order, on one thread at a time); answers go out under the stream's lock, because a replicated push is
         * answered later, from its last forward's completion, perhaps while the next call is being answered. After a
         * refusal the stream is over: later calls are ignored, and the client sends them again elsewhere or fails.
         */
        private final class RowStream implements StreamObserver<StreamCall> {
            private final StreamObserver<StreamAnswer> out;
            /** Guarded by out: the stream has ended (a refusal, or the client's end). */
            private boolean closed;

            RowStream(StreamObserver<StreamAnswer> out) {
                this.out = out;
            }

            @Override
            public void onNext(StreamCall call) {
                synchronized (out) {
                    if (closed) return;
                }
                long tag = call.getTag();
                if (!call.getPush()) {
                    try {
                        byte[] rows = pullRows(call.getBatch());
                        answer(StreamAnswer.newBuilder().setTag(tag).setValues(UnsafeByteOperations.unsafeWrap(rows)).build());
                    } catch (Refused r) {
                        counters.refuse(r.reason());
                        fail(r.status());
                    }
                    return;
                }
                pushRows(call.getBatch(), new StreamObserver<>() {
                    @Override
                    public void onNext(PushAck ack) {
                        answer(StreamAnswer.newBuilder().setTag(tag).setRows(ack.getRows()).build());
                    }

                    @Override
                    public void onError(Throwable t) {
                        fail(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                }, false);
            }

            private void answer(StreamAnswer a) {
                synchronized (out) {
                    if (!closed) out.onNext(a);
                }
            }

            void fail(Throwable t) {
                open.remove(this);
                synchronized (out) {
                    if (closed) return;
                    closed = true;
                    out.onError(t);
                }
            }

            @Override
            public void onError(Throwable t) {
                open.remove(this);
                synchronized (out) {
                    closed = true; // the client cancelled or went away: nothing more can be sent
                }
            }

            @Override
            public void onCompleted() {
                open.remove(this);
                synchronized (out) {
                    if (closed) return;
                    closed = true;
                    out.onCompleted();
                }
            }
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
                r.pushDense(request.getData(), request.getCodec(), route, gradient);
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
