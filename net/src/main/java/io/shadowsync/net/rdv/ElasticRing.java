package io.shadowsync.net.rdv;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;
import io.shadowsync.comm.GroupChangedException;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.NetCollective;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.proto.EnterRequest;
import io.shadowsync.net.proto.FinishRequest;
import io.shadowsync.net.proto.GroupReply;
import io.shadowsync.net.proto.GroupsGrpc;
import io.shadowsync.net.proto.BatchFilter;
import io.shadowsync.net.proto.Leftover;
import io.shadowsync.net.proto.Progress;
import io.shadowsync.engine.JobState;
import io.shadowsync.engine.feed.Takeover;
import io.shadowsync.net.proto.RegroupRequest;
import io.shadowsync.net.proto.StatusReply;
import io.shadowsync.net.proto.StatusRequest;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One trainer's handle in the job's elastic trainer group: a {@link NetCollective} ring over the current members,
 * re-formed through the coordinator's {@link Groups} service when a member vanishes or straggles beyond the bound,
 * and when trainers wait to join (see {@link ElasticGroup} for what the sync algorithm does around it).
 *
 * <p>An operation that fails because of the ring (a peer gone, a timeout) asks the coordinator to re-form, builds the
 * ring of the next epoch ({@code "trainers@<epoch>"}, so frames of the old ring can never reach it) and runs again
 * from this rank's input as it was before the failed attempt. A rank the coordinator dropped (it did not ask in time:
 * stuck or slow beyond the bound) enters again as a newcomer and, once admitted, its operation throws {@link
 * GroupChangedException} with {@code rejoined()}: the algorithm receives the state and goes on.
 *
 * <p>A background poller asks the coordinator every {@code pollMillis} whether trainers wait to join. Used by one
 * thread at a time, like every {@link Collective}.
 */
public final class ElasticRing implements ElasticGroup {
    private static final System.Logger LOG = System.getLogger(ElasticRing.class.getName());

    private final Transport transport;
    private final RingEndpoint endpoint;
    private final HostPort coordinator;
    private final int index;
    private final Duration straggler;
    private final Duration enterTimeout;
    private final ManagedChannel channel;
    private final GroupsGrpc.GroupsBlockingStub stub;
    private final Thread poller;
    private final List<String> changes = Collections.synchronizedList(new ArrayList<>());

    private volatile boolean waiting;
    private volatile boolean closed;
    private volatile long epoch;
    private List<Integer> members;
    private Collective ring;
    private boolean needsState;
    private String self;
    private String digest;
    private long bytesBefore;
    private float[] backup = new float[0];
    /** This member's progress mark on its share, reported with status polls and regroups; null: none to report. */
    private volatile java.util.function.Supplier<JobState.DataPosition> marks;
    /** A joiner's: where its share resumes (its index's previous process's mark); null: from the start. */
    private JobState.DataPosition resume;

    private ElasticRing(Transport transport, RingEndpoint endpoint, HostPort coordinator, int index, Duration straggler,
                        Duration enterTimeout, long pollMillis) {
        if (straggler == null || straggler.isNegative() || straggler.isZero()) throw new IllegalArgumentException("the straggler bound must be positive, got " + straggler);
        if (pollMillis < 1) throw new IllegalArgumentException("the poll interval must be at least 1 ms, got " + pollMillis);
        this.transport = transport;
        this.endpoint = endpoint;
        this.coordinator = coordinator;
        this.index = index;
        this.straggler = straggler;
        this.enterTimeout = enterTimeout;
        this.channel = transport.channel(coordinator.toString());
        GroupsGrpc.GroupsBlockingStub s = GroupsGrpc.newBlockingStub(channel);
        CallCredentials creds = transport.callCredentials();
        this.stub = creds == null ? s : s.withCallCredentials(creds);
        this.poller = new Thread(() -> poll(pollMillis), "elastic-poll-" + index);
        poller.setDaemon(true);
    }

    /**
     * Trainer {@code index}'s handle in epoch 0, right after the rendezvous: every trainer is a member.
     *
     * @param self       this process's address (to enter again if it is ever dropped)
     * @param digest     the job's config digest
     * @param trainers   every trainer's address, by index (the rendezvous's membership)
     * @param straggler  how long a rank waits for a peer without progress before the group re-forms without it
     * @param pollMillis how often to ask whether trainers wait to join
     */
    public static ElasticRing start(Transport transport, RingEndpoint endpoint, HostPort coordinator, int index, HostPort self,
                                    String digest, List<HostPort> trainers, Duration straggler, Duration enterTimeout,
                                    long pollMillis) {
        ElasticRing r = new ElasticRing(transport, endpoint, coordinator, index, straggler, enterTimeout, pollMillis);
        r.self = self.toString();
        r.digest = digest;
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < trainers.size(); i++) all.add(i);
        r.form(0, all, trainers);
        r.poller.start();
        return r;
    }

    /**
     * Joins a running job as trainer {@code index}: waits (at most {@code enterTimeout}) until the members admit it;
     * its first operation must then be the state's broadcast ({@link #needsState()}).
     *
     * @throws RendezvousException when the coordinator refuses (the job finished, the index is running, another
     *                             configuration) or does not admit it in time
     */
    public static ElasticRing enter(Transport transport, RingEndpoint endpoint, HostPort coordinator, int index, HostPort self,
                                    String digest, Duration straggler, Duration enterTimeout, long pollMillis)
            throws InterruptedException {
        ElasticRing r = new ElasticRing(transport, endpoint, coordinator, index, straggler, enterTimeout, pollMillis);
        try {
            r.self = self.toString();
            r.digest = digest;
            GroupReply admitted = r.enterAgain();
            r.resume = Takeover.decode(admitted.getResume().toByteArray());
        } catch (RuntimeException | InterruptedException e) {
            r.close();
            throw e;
        }
        r.poller.start();
        return r;
    }

    /** The job's state as the coordinator sees it now (servers, trainers, members): for a joiner before it enters. */
    public static StatusReply status(Transport transport, HostPort coordinator, Duration timeout) {
        ManagedChannel ch = transport.channel(coordinator.toString());
        try {
            GroupsGrpc.GroupsBlockingStub s = GroupsGrpc.newBlockingStub(ch);
            CallCredentials creds = transport.callCredentials();
            if (creds != null) s = s.withCallCredentials(creds);
            return s.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).status(StatusRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw new RendezvousException("the coordinator at " + coordinator + " did not tell the job's state: " + describe(e.getStatus()), e);
        } finally {
            ch.shutdownNow();
        }
    }

    private GroupReply enterAgain() throws InterruptedException {
        GroupReply r;
        try {
            r = stub.withDeadlineAfter(enterTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .enter(EnterRequest.newBuilder().setIndex(index).setAddress(self).setDigest(digest).build());
        } catch (StatusRuntimeException e) {
            if (Thread.interrupted()) throw new InterruptedException("trainer " + index + " was interrupted while waiting to join");
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION && String.valueOf(e.getStatus().getDescription()).contains("finished")) {
                throw new JobFinishedException("the job at " + coordinator + " finished before trainer " + index + " was admitted: nothing to join");
            }
            throw new RendezvousException("trainer " + index + " could not join the running job at " + coordinator + ": "
                    + describe(e.getStatus()), e);
        }
        adopt(r);
        needsState = true;
        return r;
    }

    @Override
    public int rank() {
        return members.indexOf(index);
    }

    @Override
    public int size() {
        return members.size();
    }

    /** This trainer's index in the job (its data split), which the ring rank is not. */
    public int index() {
        return index;
    }

    /** The current epoch (0 until the first change). */
    public long epoch() {
        return epoch;
    }

    /** The current members' trainer indices, in ring order. */
    public List<Integer> members() {
        return members;
    }

    @Override
    public void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException {
        checkState("allReduce");
        if (backup.length < len) backup = new float[len];
        System.arraycopy(data, off, backup, 0, len);
        while (true) {
            try {
                ring.allReduce(data, off, len, op);
                return;
            } catch (RuntimeException e) {
                System.arraycopy(backup, 0, data, off, len); // this rank's input, as before the failed attempt
                regroup(e, "allReduce");
            }
        }
    }

    /** Retried after a change only from root 0 (a member that had the state before the change, see {@link Groups}). */
    @Override
    public void broadcast(float[] data, int off, int len, int root) throws InterruptedException {
        while (true) {
            try {
                ring.broadcast(data, off, len, root);
                return;
            } catch (RuntimeException e) {
                regroup(e, "broadcast");
                if (root != 0) throw new GroupChangedException("the group changed during a broadcast from rank " + root, false);
            }
        }
    }

    /** Throws {@link GroupChangedException} after a change: the layout of recv depends on the size. */
    @Override
    public void allGather(float[] send, int sOff, int len, float[] recv, int rOff) throws InterruptedException {
        checkState("allGather");
        try {
            ring.allGather(send, sOff, len, recv, rOff);
        } catch (RuntimeException e) {
            regroup(e, "allGather");
            throw new GroupChangedException("the group changed during an allGather; it now has " + size() + " members", false);
        }
    }

    /**
     * The ring's own exchange (each vector sent once, straight to its peer on a direct connection); throws
     * {@link GroupChangedException} after a change: the pairing was drawn over the old members.
     */
    @Override
    public void exchange(int peer, float[] send, int sOff, float[] recv, int rOff, int len) throws InterruptedException {
        checkState("exchange");
        try {
            ring.exchange(peer, send, sOff, recv, rOff, len);
        } catch (RuntimeException e) {
            regroup(e, "exchange");
            throw new GroupChangedException("the group changed during an exchange; it now has " + size() + " members", false);
        }
    }

    @Override
    public void barrier() throws InterruptedException {
        checkState("barrier");
        while (true) {
            try {
                ring.barrier();
                return;
            } catch (RuntimeException e) {
                regroup(e, "barrier");
            }
        }
    }

    @Override
    public boolean joinersWaiting() {
        return waiting;
    }

    @Override
    public int admitJoiners() throws InterruptedException {
        checkState("admitJoiners");
        GroupReply r = ask(true, "trainers wait to join", false);
        waiting = false;
        if (r.getDropped()) return rejoin("while the members admitted newcomers"); // its next operation says rejoined
        List<Integer> old = members;
        adopt(r);
        int admitted = 0;
        for (int m : members) if (!old.contains(m)) admitted++; // newcomers only: the survivors have the state
        return admitted;
    }

    /** A member that must receive the state may take part in nothing else first. */
    private void checkState(String op) {
        if (needsState) throw new GroupChangedException("trainer " + index + " (re)joined the group and must receive the state before " + op, true);
    }

    @Override
    public boolean needsState() {
        return needsState;
    }

    @Override
    public void stateReceived() {
        needsState = false;
    }

    @Override
    public List<String> changes() {
        synchronized (changes) {
            return List.copyOf(changes);
        }
    }

    @Override
    public long bytesSent() {
        return bytesBefore + (ring == null ? 0 : ring.bytesSent());
    }

    /**
     * Where this member's progress mark comes from (read twice a second and at every regroup, and sent to the
     * coordinator, which hands it to whoever takes over this trainer's share if it leaves).
     */
    public void reportProgress(java.util.function.Supplier<JobState.DataPosition> marks) {
        this.marks = marks;
    }

    /** A joiner's: where its share resumes (the mark its index's previous process reported), or null: from the start. */
    public JobState.DataPosition resume() {
        return resume;
    }

    /** This member's progress to report, or null: none yet (or none to tell: the poller must go on polling). */
    private Progress progress() {
        var m = marks;
        if (m == null) return null;
        JobState.DataPosition p;
        try {
            p = m.get();
        } catch (RuntimeException e) {
            return null; // a supply that keeps no position: the coordinator keeps the last mark it heard
        }
        if (p == null) return null;
        return Progress.newBuilder().setMark(com.google.protobuf.ByteString.copyFrom(Takeover.encode(p))).setExamples(p.examples()).build();
    }

    /** What the members do after they finished what they were given: the rest of departed members' shares to share. */
    public record Shares(List<Takeover.Part> leftovers, long departedExamples) {}

    /**
     * Called by every member once it has trained all it was given (its share; then its take of what departed members
     * left): the members agree on it (a barrier), then re-form with the coordinator, whose answer lists what departed
     * members left untrained. This member's take is {@link Takeover#supply} of those leftovers with its rank of the
     * size (both now current); an empty list: the job's data is done. Throws {@link JobFinishedException} when this
     * member was dropped meanwhile (the others took over its share).
     */
    public Shares finishShares() throws InterruptedException {
        while (true) {
            barrier();
            GroupReply r = ask(false, "the members finished their data", true);
            if (r.getDropped()) {
                rejoin("as the members finished their data"); // refused: the job is finishing without it
                throw new JobFinishedException("trainer " + index + " was dropped as the job finished its data: the others took over its share");
            }
            adopt(r);
            if (!r.getFinishing()) continue; // the group changed between the barrier and the regroup: agree again
            List<Takeover.Part> parts = new ArrayList<>();
            for (Leftover l : r.getLeftoversList()) {
                List<Takeover.Filter> filters = new ArrayList<>();
                for (BatchFilter f : l.getFiltersList()) filters.add(new Takeover.Filter(f.getOf(), f.getPick()));
                parts.add(new Takeover.Part(l.getTrainer(), Takeover.decode(l.getMark().toByteArray()), filters));
            }
            return new Shares(parts, r.getDepartedExamples());
        }
    }

    /** Tells the coordinator the job is over: trainers still waiting to join are sent away. The leader calls it. */
    public void finish() {
        try {
            stub.withDeadlineAfter(straggler.toMillis(), TimeUnit.MILLISECONDS).finish(FinishRequest.newBuilder().setIndex(index).build());
        } catch (StatusRuntimeException e) {
            LOG.log(Level.ERROR, "could not tell the coordinator at " + coordinator + " that the job finished: " + describe(e.getStatus()));
        }
    }

    @Override
    public void close() {
        closed = true;
        poller.interrupt();
        if (ring != null) ring.close();
        channel.shutdownNow();
    }

    /** After a failed operation: re-forms (or, when dropped, enters again) and builds the new ring. */
    private void regroup(RuntimeException failure, String op) throws InterruptedException {
        if (closed) throw failure;
        if (failure instanceof IllegalArgumentException) throw failure; // a caller's mistake, not a peer's
        if (Thread.currentThread().isInterrupted()) throw failure;
        String reason = failure.getMessage() == null ? failure.toString() : failure.getMessage();
        LOG.log(Level.INFO, "the group of epoch " + epoch + " failed in " + op + " (" + reason + "); re-forming");
        GroupReply r = ask(false, reason, false);
        if (r.getDropped()) {
            rejoin("after " + op + " failed");
            throw new GroupChangedException("trainer " + index + " was dropped from the group and admitted again", true);
        }
        adopt(r);
    }

    /** Dropped (it did not re-form in time): enter again as a newcomer and wait to be admitted. */
    private int rejoin(String when) throws InterruptedException {
        LOG.log(Level.INFO, "dropped from the group " + when + " (it did not answer within the regroup window); joining again");
        enterAgain();
        return 0;
    }

    private GroupReply ask(boolean admit, String reason, boolean finishing) throws InterruptedException {
        RegroupRequest.Builder b = RegroupRequest.newBuilder().setIndex(index).setEpoch(epoch).setAdmit(admit).setReason(reason).setFinishing(finishing);
        Progress p = progress();
        if (p != null) b.setProgress(p);
        RegroupRequest req = b.build();
        try {
            // a long poll: the regroup waits up to its window for the other members
            return stub.withDeadlineAfter(straggler.toMillis() + TimeUnit.MINUTES.toMillis(1), TimeUnit.MILLISECONDS).regroup(req);
        } catch (StatusRuntimeException e) {
            if (Thread.interrupted()) throw new InterruptedException("trainer " + index + " was interrupted while re-forming its group");
            throw new RendezvousException("trainer " + index + " could not re-form its group at the coordinator " + coordinator
                    + " (epoch " + epoch + "): " + describe(e.getStatus()), e);
        }
    }

    private void adopt(GroupReply r) {
        List<HostPort> addresses = new ArrayList<>(r.getAddressesCount());
        for (String a : r.getAddressesList()) addresses.add(HostPort.parse(a));
        for (String c : r.getChangesList()) {
            changes.add("epoch " + r.getEpoch() + ": " + c);
            LOG.log(Level.INFO, "epoch " + r.getEpoch() + ": " + c);
        }
        form(r.getEpoch(), r.getMembersList(), addresses);
    }

    private void form(long newEpoch, List<Integer> newMembers, List<HostPort> addresses) {
        if (ring != null) {
            bytesBefore += ring.bytesSent();
            ring.close();
        }
        int rank = newMembers.indexOf(index);
        if (rank < 0) throw new IllegalStateException("trainer " + index + " is not among the members " + newMembers + " of epoch " + newEpoch);
        epoch = newEpoch;
        members = List.copyOf(newMembers);
        ring = NetCollective.join(transport, endpoint, "trainers@" + newEpoch, rank, addresses, straggler);
    }

    private void poll(long millis) {
        while (!closed) {
            try {
                Thread.sleep(millis);
                StatusRequest.Builder req = StatusRequest.newBuilder().setIndex(index).setAddress(self);
                Progress p = progress();
                if (p != null) req.setProgress(p);
                StatusReply s = stub.withDeadlineAfter(Math.max(1000, millis), TimeUnit.MILLISECONDS).status(req.build());
                if (s.getWaiting() > 0 && !s.getFinished() && s.getEpoch() >= epoch) waiting = true; // not a stale answer
            } catch (InterruptedException e) {
                return;
            } catch (StatusRuntimeException e) {
                // the coordinator is busy or gone: a regroup will say so if it matters
            }
        }
    }

    private static String describe(Status s) {
        return s.getDescription() == null ? s.getCode().toString() : s.getCode() + ": " + s.getDescription();
    }
}
