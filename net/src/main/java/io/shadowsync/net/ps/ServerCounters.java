package io.shadowsync.net.ps;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A node's counters: calls served, rows and dense blocks moved, and refused calls by {@link Refusal}. Handlers count
 * their own refusals; a stream tracer counts those no handler saw (a bad token, an oversize message), telling them
 * apart through a mark the handler leaves in the call's {@link Context}, so that every refusal is counted once.
 *
 * <p>Sharing contract: thread-safe; updated by every gRPC handler thread at once.
 */
final class ServerCounters {
    private static final Context.Key<CallMark> CALL = Context.key("shadowsync-ps-call");

    final LongAdder calls = new LongAdder();
    final LongAdder rowsPulled = new LongAdder();
    final LongAdder rowsPushed = new LongAdder();
    final LongAdder densePulls = new LongAdder();
    final LongAdder densePushes = new LongAdder();
    private final AtomicLongArray refused = new AtomicLongArray(Refusal.values().length);

    /** Counts a refusal made by a handler (on the call's thread, so the call's mark is in the current context). */
    void refuse(Refusal r) {
        refused.incrementAndGet(r.ordinal());
        CallMark m = CALL.get();
        if (m != null) m.counted = true;
    }

    /** Counts a refusal answered off the call's thread (a primary's answer after its forwards). */
    void countRefusal(Refusal r) {
        refused.incrementAndGet(r.ordinal());
    }

    long refused(Refusal r) {
        return refused.get(r.ordinal());
    }

    ServerStreamTracer.Factory tracerFactory() {
        return new ServerStreamTracer.Factory() {
            @Override
            public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
                return new CallMark();
            }
        };
    }

    /** One call's tracer: puts itself into the call's context, and counts at the end what no handler counted. */
    private final class CallMark extends ServerStreamTracer {
        volatile boolean counted;

        @Override
        public Context filterContext(Context context) {
            return context.withValue(CALL, this);
        }

        @Override
        public void streamClosed(Status status) {
            if (counted) return;
            switch (status.getCode()) {
                case UNAUTHENTICATED -> refused.incrementAndGet(Refusal.UNAUTHENTICATED.ordinal());
                case RESOURCE_EXHAUSTED -> refused.incrementAndGet(Refusal.MESSAGE_TOO_LARGE.ordinal());
                default -> { }
            }
        }
    }
}
