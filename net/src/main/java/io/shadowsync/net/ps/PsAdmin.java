package io.shadowsync.net.ps;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.PsAdminGrpc;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.ShardStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Administration of a job's parameter-server nodes from any process holding the job's credentials: what each holds,
 * its counters, and a clean shutdown (the {@code PsAdmin} service of {@code ps.proto}; authenticated like every
 * other call).
 */
public final class PsAdmin {
    private PsAdmin() {}

    /** What each node holds, in list order. */
    public static List<ShardInfo> describe(Transport transport, List<HostPort> shards) {
        List<ShardInfo> out = new ArrayList<>(shards.size());
        for (int s = 0; s < shards.size(); s++) {
            ManagedChannel ch = transport.channel(shards.get(s).toString());
            try {
                out.add(stub(transport, ch).describe(Empty.getDefaultInstance()));
            } catch (StatusRuntimeException e) {
                throw failure(shards, s, "PsAdmin.Describe", e);
            } finally {
                ch.shutdownNow();
            }
        }
        return out;
    }

    /** Each node's counters (calls, rows moved, refusals by {@link Refusal} name), in list order. */
    public static List<ShardStats> stats(Transport transport, List<HostPort> shards) {
        List<ShardStats> out = new ArrayList<>(shards.size());
        for (int s = 0; s < shards.size(); s++) {
            ManagedChannel ch = transport.channel(shards.get(s).toString());
            try {
                out.add(stub(transport, ch).stats(Empty.getDefaultInstance()));
            } catch (StatusRuntimeException e) {
                throw failure(shards, s, "PsAdmin.Stats", e);
            } finally {
                ch.shutdownNow();
            }
        }
        return out;
    }

    /**
     * Asks every node to stop: each finishes the calls in flight, then its {@link PsServer#awaitTermination()}
     * returns. Every node is asked even when one fails; the first failure is then thrown. A node that cannot be
     * reached (UNAVAILABLE: its process is gone, as a replicated job survives) is stopped already: it is skipped and
     * returned, not thrown.
     *
     * @return the nodes that could not be reached, in list order (empty when every node was asked)
     * @throws ParameterServerException naming the first node that refused
     */
    public static List<HostPort> shutdown(Transport transport, List<HostPort> shards) {
        ParameterServerException first = null;
        List<HostPort> gone = new ArrayList<>();
        for (int s = 0; s < shards.size(); s++) {
            ManagedChannel ch = transport.channel(shards.get(s).toString());
            try {
                stub(transport, ch).shutdown(Empty.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) gone.add(shards.get(s));
                else if (first == null) first = failure(shards, s, "PsAdmin.Shutdown", e);
            } finally {
                ch.shutdownNow();
            }
        }
        if (first != null) throw first;
        return gone;
    }

    private static PsAdminGrpc.PsAdminBlockingStub stub(Transport transport, ManagedChannel ch) {
        PsAdminGrpc.PsAdminBlockingStub stub = PsAdminGrpc.newBlockingStub(ch)
                .withDeadlineAfter(transport.config().callDeadline().toNanos(), TimeUnit.NANOSECONDS);
        return transport.callCredentials() == null ? stub : stub.withCallCredentials(transport.callCredentials());
    }

    private static ParameterServerException failure(List<HostPort> shards, int s, String call, StatusRuntimeException e) {
        Status st = e.getStatus();
        String what = st.getCode() == Status.Code.UNAVAILABLE ? " is unreachable: " : " refused the call " + call + ": "
                + st.getCode() + ": ";
        return new ParameterServerException("parameter server shard " + s + " (" + shards.get(s) + ")" + what
                + (st.getDescription() == null ? st.getCode() : st.getDescription()), s, shards.get(s), st.getCode(), e);
    }
}
