package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.StreamAnswer;

/**
 * A lane's wire to a replica that lives in the client's own JVM (a trainer that hosts a shard, {@code trainer
 * --host-shard}): each call is served at once, on the calling thread, by the node's own row handlers
 * ({@link PsServices.Embeddings}: the same admission, checks, counters, optimizer and replication as a call that came
 * over its row lane), with no socket, frame or lane thread between. A pull's rows go from the table straight into the
 * lane's buffer ({@link LaneWire#LANDED}); a push is applied before {@link #send} returns (a replicated one is
 * answered once its backups have it, as on the lane).
 *
 * <p><b>Same order, same rows.</b> The lane's calls to the shard are served in the order they are sent, as a row lane
 * serves its frames, and each at the moment it is sent, which is no later than the node would serve it: a pull sees
 * every push the lane sent before it (the one-step look-ahead of {@link RemoteEmbeddingStore} keeps its staleness of
 * exactly one step for the lane's own pushes), and other lanes' pushes race in as Hogwild allows. A refusal ends the
 * wire, as it closes a row lane: the calls after it fail with the same status. A node that stopped or crashed fails
 * every call after that (UNAVAILABLE), as its closed lane would.
 *
 * <p>Sharing contract: thread-safe; sends come from the lane's owner (under the lane's monitor), a replicated push's
 * answer from the forward's thread.
 */
final class DirectWire extends WireCalls {
    private final PsServer node;
    private final int pos;

    DirectWire(PsServer node, int pos) {
        this.node = node;
        this.pos = pos;
    }

    @Override
    public int pos() {
        return pos;
    }

    @Override
    public void send(RowStreams.Call c) {
        String stopped = node.stopped();
        if (stopped != null) end(Status.UNAVAILABLE.withDescription(stopped).asRuntimeException());
        if (!register(c, pos, 0)) return;
        PsServices.Embeddings rows = node.embeddings();
        if (!c.push) {
            try {
                rows.pullInto(c.req, c.dest, c.destOff);
            } catch (Refused r) {
                rows.counters().refuse(r.reason());
                end(r.status());
                return;
            }
            answered(c).complete(LaneWire.LANDED);
            return;
        }
        rows.pushRows(c.req, new StreamObserver<>() {
            @Override
            public void onNext(PushAck ack) {
                answered(c).complete(StreamAnswer.newBuilder().setRows(ack.getRows()).build());
            }

            @Override
            public void onError(Throwable t) {
                end(t instanceof StatusRuntimeException e ? e : Status.fromThrowable(t).asRuntimeException());
            }

            @Override
            public void onCompleted() {
            }
        }, false);
    }

    @Override
    public boolean ended() {
        return ended != null || node.stopped() != null;
    }

    @Override
    void release() {
        // nothing of its own: the node is the trainer's
    }
}
