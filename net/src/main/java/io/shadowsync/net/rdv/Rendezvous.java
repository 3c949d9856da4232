package io.shadowsync.net.rdv;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.JoinReply;
import io.shadowsync.net.proto.JoinRequest;
import io.shadowsync.net.proto.RendezvousGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The client side of the rendezvous: a process joins its job's {@link Coordinator} and learns every process's
 * address. The coordinator may not be up yet (it is another process starting at the same time), so {@link #join}
 * keeps trying until the timeout.
 */
public final class Rendezvous {
    /** Extra time a call waits beyond the caller's timeout, so that the coordinator's own timeout, which names who
     * never arrived, reaches the caller before the caller's deadline cuts the call. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private Rendezvous() {}

    /**
     * Joins the job and waits for everyone.
     *
     * @param transport   makes the channel to the coordinator (credentials, TLS)
     * @param coordinator where the first process serves its {@link Coordinator}
     * @param role        what this process is
     * @param index       its index among its role, from 0
     * @param self        the address where this process serves (what the others will call)
     * @param digest      a digest of the job configuration; must match every other process's
     * @param timeout     how long to keep trying, then wait, for the others
     * @return the job's membership, the same in every process
     * @throws RendezvousException when the coordinator refuses this process (digest, index), times out naming who
     *                             never arrived, or never answers within the timeout
     */
    public static Membership join(Transport transport, HostPort coordinator, Role role, int index, HostPort self,
                                  String digest, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(coordinator, "coordinator address");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(self, "own address");
        Objects.requireNonNull(digest, "config digest");
        if (index < 0) throw new IllegalArgumentException(role.label() + " index cannot be negative: " + index);
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the rendezvous timeout must be positive, got " + timeout);
        }
        JoinRequest req = JoinRequest.newBuilder().setRole(role.wire()).setIndex(index).setAddress(self.toString())
                .setDigest(digest).build();
        String who = role.label() + " " + index + " at " + self;
        long deadline = System.nanoTime() + timeout.toNanos();
        ManagedChannel channel = transport.channel(coordinator.toString());
        try {
            RendezvousGrpc.RendezvousBlockingStub stub = RendezvousGrpc.newBlockingStub(channel);
            CallCredentials creds = transport.callCredentials();
            if (creds != null) stub = stub.withCallCredentials(creds);
            long pause = TimeUnit.MILLISECONDS.toNanos(50);
            while (true) {
                long left = deadline - System.nanoTime();
                Status failed;
                try {
                    // a long poll: the answer comes when the last process joins, so the deadline is the caller's timeout
                    JoinReply reply = stub.withDeadlineAfter(Math.max(1, left) + GRACE_NANOS, TimeUnit.NANOSECONDS).join(req);
                    return membershipOf(reply);
                } catch (StatusRuntimeException e) {
                    failed = e.getStatus();
                }
                boolean retry = failed.getCode() == Status.Code.UNAVAILABLE;
                if (!retry || System.nanoTime() - deadline >= 0) {
                    String why = failed.getDescription() == null ? failed.getCode().toString() : failed.getDescription();
                    if (failed.getCode() == Status.Code.UNAVAILABLE) {
                        throw new RendezvousException("no rendezvous coordinator answered " + who + " at " + coordinator
                                + " within " + Coordinator.seconds(timeout) + ": " + why, failed.asRuntimeException());
                    }
                    if (failed.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                        if (why.startsWith("rendezvous timed out")) throw new RendezvousException(why, failed.asRuntimeException());
                        throw new RendezvousException("the rendezvous coordinator at " + coordinator + " gave " + who
                                + " no answer within " + Coordinator.seconds(timeout), failed.asRuntimeException());
                    }
                    throw new RendezvousException("the rendezvous coordinator at " + coordinator + " refused " + who
                            + ": " + why, failed.asRuntimeException());
                }
                long sleep = Math.min(pause, deadline - System.nanoTime());
                if (sleep > 0) TimeUnit.NANOSECONDS.sleep(sleep);
                pause = Math.min(pause * 2, TimeUnit.MILLISECONDS.toNanos(500));
                channel.resetConnectBackoff(); // the coordinator may be up now: try at once, not after gRPC's backoff
            }
        } finally {
            channel.shutdownNow();
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the rendezvous channel to " + coordinator + " did not terminate within 5 s");
            }
        }
    }

    static Membership membershipOf(JoinReply reply) {
        List<HostPort> trainers = new ArrayList<>(reply.getTrainersCount());
        for (String s : reply.getTrainersList()) trainers.add(HostPort.parse(s));
        List<HostPort> servers = new ArrayList<>(reply.getServersCount());
        for (String s : reply.getServersList()) servers.add(HostPort.parse(s));
        return new Membership(trainers, servers);
    }
}
