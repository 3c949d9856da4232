package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.net.proto.StreamAnswer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link RowStreams.Wire} of its own making keeps ({@link LaneWire}, {@link DirectWire}): the calls sent on it
 * and not yet answered, in the order they were sent, and why it ended (the first cause wins). Ending fails every
 * unanswered call; abandoning hands them over, in order, to the wire that takes the shard's next replica.
 *
 * <p>Sharing contract: thread-safe; the calls and the end are guarded by this object's monitor, which a subclass
 * takes too when it matches an answer to its call.
 */
abstract class WireCalls implements RowStreams.Wire {
    /** Guarded by this. */
    final List<RowStreams.Call> unanswered = new ArrayList<>();
    volatile Throwable ended;

    /**
     * Registers c as sent on this wire at chain position pos with tag (a fresh answer future); false, with c failed
     * by the wire's end, when the wire has ended.
     */
    final synchronized boolean register(RowStreams.Call c, int pos, long tag) {
        c.pos = pos;
        c.tag = tag;
        c.answer = new CompletableFuture<>();
        unanswered.add(c);
        if (ended != null) c.answer.completeExceptionally(ended);
        return ended == null;
    }

    /** c's answer future, c taken off the unanswered calls. */
    final synchronized CompletableFuture<StreamAnswer> answered(RowStreams.Call c) {
        unanswered.remove(c);
        return c.answer;
    }

    @Override
    public boolean ended() {
        return ended != null;
    }

    @Override
    public final synchronized List<RowStreams.Call> abandon(Throwable why) {
        if (ended == null) {
            ended = why;
            release();
        }
        List<RowStreams.Call> left = new ArrayList<>(unanswered);
        unanswered.clear();
        return left;
    }

    @Override
    public final void cancel(String why) {
        end(Status.CANCELLED.withDescription(why).asRuntimeException());
    }

    /** Ends the wire (first cause wins) and fails its unanswered calls. */
    final synchronized void end(StatusRuntimeException why) {
        if (ended == null) {
            ended = why;
            release();
        }
        for (RowStreams.Call c : unanswered) c.answer.completeExceptionally(ended);
    }

    /** Lets go of what the wire holds (a socket), once, as it ends. */
    abstract void release();
}
