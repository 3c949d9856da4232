package io.shadowsync.net.rdv;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.proto.EnterRequest;
import io.shadowsync.net.proto.FinishRequest;
import io.shadowsync.net.proto.GroupReply;
import io.shadowsync.net.proto.GroupsGrpc;
import io.shadowsync.net.proto.BatchFilter;
import io.shadowsync.net.proto.Leftover;
import io.shadowsync.net.proto.Progress;
import io.shadowsync.net.proto.RegroupRequest;
import io.shadowsync.net.proto.StatusReply;
import io.shadowsync.net.proto.StatusRequest;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The membership of a job's elastic trainers, served by the coordinator beside the {@link Coordinator}'s rendezvous.
 * After the rendezvous, epoch 0's members are every trainer in index order. The membership changes only in a
 * <em>regroup</em>: every member of epoch e asks ({@code Regroup(e)}) — because its collective failed (a peer died or
 * straggled), or, with {@code admit}, because a round said trainers wait to join. The regroup completes when every
 * member of e has asked, or {@code window} after the first asked; who has not asked by then is dropped (dead, or
 * stuck beyond the bound). Epoch e+1's members are those who asked, in their old order, then — in an admitting
 * regroup — the waiting trainers in index order. So rank 0 of every epoch is a member that already had the state
 * (unless every earlier member is gone), which is what newcomers receive it from.
 *
 * <p>A trainer that is not a member (started later, restarted after a crash, or dropped as a straggler) asks to
 * {@code Enter} and waits until an admitting regroup takes it in; once the leader says {@code Finish}, waiting and
 * later entrants are refused: the job is over. Every change is logged and sent to the members with the epoch.
 *
 * <p><b>Shares.</b> Each member reports its progress on its index's share (its progress mark, see
 * {@code io.shadowsync.engine.feed.Takeover}) with its status polls and regroups; the latest of the index's current process
 * is kept. A process that leaves is credited with the examples from where it started to its mark. A new process for
 * that index resumes from the mark (sent with its admission). When the members have trained all they were given,
 * they re-form with {@code finishing}: the answer lists what departed members left (each departed index's share from
 * its mark), which the members share by Takeover's rule; from then on nobody is admitted. If a member leaves while it
 * trains its take, the next finishing regroup hands out that take again, filtered once more.
 *
 * <p>Sharing contract: thread-safe (one monitor); its timer thread ends with {@link #close()}.
 */
public final class Groups extends GroupsGrpc.GroupsImplBase implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Groups.class.getName());

    private final Coordinator rendezvous;
    private final Duration window;
    private final ScheduledExecutorService timer;

    // guarded by this
    private boolean started;
    private boolean finished;
    private long epoch;
    private List<Integer> members = List.of();
    private HostPort[] addresses;
    private List<String> servers = List.of();
    private Round open;
    private final TreeMap<Integer, Entrant> entrants = new TreeMap<>();
    /** Per trainer index: the latest progress of its current process (or, once it left, its last). */
    private Progress[] progress;
    /** Per trainer index: the examples of the mark its current process started from. */
    private long[] startExamples;
    /** Per departed trainer index: the process that left and what it was credited with. */
    private final Map<Integer, Departure> departed = new LinkedHashMap<>();
    /** Examples trained by processes that left, up to their marks. */
    private long departedExamples;
    /** After the first finishing regroup: the shares are done or taken over; nobody is admitted any more. */
    private boolean ending;
    /** The leftovers handed out at the last finishing regroup, and the members that share them, in rank order. */
    private List<Leftover> handedOut = List.of();
    private List<Integer> handedTo = List.of();

    private record Departure(HostPort address, long credited) {}

    /** One regroup in progress: who asked, and their calls waiting for the answer. */
    private static final class Round {
        final long epoch;
        final Map<Integer, StreamObserver<GroupReply>> asked = new LinkedHashMap<>();
        final List<String> reasons = new ArrayList<>();
        boolean admit;
        boolean finishing = true;
        ScheduledFuture<?> expiry;

        Round(long epoch) {
            this.epoch = epoch;
        }
    }

    /** A trainer waiting to be admitted. */
    private record Entrant(HostPort address, StreamObserver<GroupReply> call) {}

    /**
     * @param rendezvous the job's rendezvous (epoch 0 is its membership)
     * @param window     how long a regroup waits, after the first member asked, for the others
     */
    public Groups(Coordinator rendezvous, Duration window) {
        if (window == null || window.isNegative() || window.isZero()) throw new IllegalArgumentException("the regroup window must be positive, got " + window);
        this.rendezvous = rendezvous;
        this.window = window;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "groups-timer");
            t.setDaemon(true);
            return t;
        });
    }

    /** Epoch 0 from the rendezvous, on the first call after it completed; false while it has not. */
    private boolean start() {
        if (started) return true;
        Membership m = rendezvous.membership();
        if (m == null) return false;
        addresses = m.trainers().toArray(new HostPort[0]);
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < addresses.length; i++) all.add(i);
        members = List.copyOf(all);
        progress = new Progress[addresses.length];
        java.util.Arrays.fill(progress, Progress.getDefaultInstance());
        startExamples = new long[addresses.length];
        List<String> s = new ArrayList<>();
        for (HostPort h : m.servers()) s.add(h.toString());
        servers = List.copyOf(s);
        started = true;
        return true;
    }

    @Override
    public void regroup(RegroupRequest req, StreamObserver<GroupReply> call) {
        Status refusal = null;
        GroupReply now = null;
        synchronized (this) {
            int who = req.getIndex();
            if (!start()) {
                refusal = Status.FAILED_PRECONDITION.withDescription("trainer " + who + " asked to re-form before the rendezvous completed");
            } else if (finished) {
                refusal = Status.FAILED_PRECONDITION.withDescription("the job has finished");
            } else if (req.getEpoch() > epoch || req.getEpoch() < 0) {
                refusal = Status.INVALID_ARGUMENT.withDescription("trainer " + who + " asked to re-form epoch " + req.getEpoch()
                        + ", but the group is at epoch " + epoch);
            } else if (!members.contains(who)) {
                now = reply(List.of()).toBuilder().setDropped(true).build();
            } else if (req.getEpoch() < epoch) {
                now = reply(List.of()); // a retried call: the regroup it asked for is over; here is where it ended
            } else {
                if (open == null) {
                    open = new Round(epoch);
                    Round r = open;
                    open.expiry = timer.schedule(() -> expire(r), window.toNanos(), TimeUnit.NANOSECONDS);
                }
                StreamObserver<GroupReply> earlier = open.asked.put(who, call);
                if (earlier != null) fail(earlier, Status.ABORTED.withDescription("trainer " + who + " asked again"));
                open.admit |= req.getAdmit();
                open.finishing &= req.getFinishing();
                if (req.hasProgress()) progress[who] = req.getProgress();
                if (!req.getReason().isEmpty()) open.reasons.add(req.getReason());
                if (open.asked.keySet().containsAll(members)) complete(open);
            }
        }
        if (refusal != null) fail(call, refusal);
        if (now != null) answer(call, now);
    }

    @Override
    public void enter(EnterRequest req, StreamObserver<GroupReply> call) {
        Status refusal = null;
        synchronized (this) {
            int who = req.getIndex();
            HostPort address = null;
            try {
                address = HostPort.parse(req.getAddress());
            } catch (IllegalArgumentException e) {
                refusal = Status.INVALID_ARGUMENT.withDescription("trainer " + who + ": " + e.getMessage());
            }
            if (refusal != null) {
                // named above
            } else if (!start()) {
                refusal = Status.FAILED_PRECONDITION.withDescription("trainer " + who + " asked to join a running job, but the job has "
                        + "not started (its rendezvous has not completed): start it without --join");
            } else if (finished) {
                refusal = Status.FAILED_PRECONDITION.withDescription("the job has finished: trainer " + who + " has nothing to join");
            } else if (ending) {
                refusal = Status.FAILED_PRECONDITION.withDescription("the job has finished its shares (the members took over what departed "
                        + "trainers left): trainer " + who + " has nothing to join");
            } else if (rendezvous.digest() != null && !rendezvous.digest().equals(req.getDigest())) {
                refusal = Status.FAILED_PRECONDITION.withDescription("trainer " + who + " at " + address + " has config digest '"
                        + req.getDigest() + "', the job '" + rendezvous.digest() + "': a joiner must run the job's configuration and version");
            } else if (who < 0 || who >= addresses.length) {
                refusal = Status.INVALID_ARGUMENT.withDescription("trainer " + who + " is not a trainer of this job (0.." + (addresses.length - 1) + ")");
            } else if (members.contains(who) && addresses[who].equals(address)) {
                refusal = Status.ALREADY_EXISTS.withDescription("trainer " + who + " is running at " + addresses[who]
                        + " and is a member: it cannot join again");
            } else {
                Entrant earlier = entrants.put(who, new Entrant(address, call));
                if (earlier != null) fail(earlier.call(), Status.ABORTED.withDescription("trainer " + who + " asked to join again from " + address));
                if (call instanceof ServerCallStreamObserver<GroupReply> c) c.setOnCancelHandler(() -> forget(who, call));
                LOG.log(Level.INFO, "trainer " + who + " at " + address + " waits to join the running job (epoch " + epoch + ")"
                        + (members.contains(who) ? "; trainer " + who + " at " + addresses[who] + " is still a member: it is admitted once that one has left" : ""));
            }
        }
        if (refusal != null) fail(call, refusal);
    }

    @Override
    public void status(StatusRequest req, StreamObserver<StatusReply> call) {
        StatusReply r;
        synchronized (this) {
            if (!start()) {
                r = StatusReply.newBuilder().build();
            } else {
                int who = req.getIndex();
                // a member's report; a process that is not the index's member (dropped, or gone and replaced) is not heard
                if (req.hasProgress() && members.contains(who) && addresses[who].toString().equals(req.getAddress())) progress[who] = req.getProgress();
                r = statusReply();
            }
        }
        call.onNext(r);
        call.onCompleted();
    }

    @Override
    public void finish(FinishRequest req, StreamObserver<StatusReply> call) {
        List<Entrant> refused;
        StatusReply r;
        synchronized (this) {
            start();
            if (!finished) LOG.log(Level.INFO, "trainer " + req.getIndex() + " says the job has finished (epoch " + epoch + ", members " + members + ")");
            finished = true;
            refused = new ArrayList<>(entrants.values());
            entrants.clear();
            r = statusReply();
        }
        for (Entrant e : refused) fail(e.call(), Status.FAILED_PRECONDITION.withDescription("the job finished before this trainer could be admitted"));
        call.onNext(r);
        call.onCompleted();
    }

    /** The current epoch. */
    public synchronized long epoch() {
        return epoch;
    }

    /** The current members' trainer indices, in ring order. */
    public synchronized List<Integer> members() {
        return members;
    }

    @Override
    public void close() {
        List<StreamObserver<GroupReply>> waiting = new ArrayList<>();
        synchronized (this) {
            finished = true;
            for (Entrant e : entrants.values()) waiting.add(e.call());
            entrants.clear();
            if (open != null) waiting.addAll(open.asked.values());
            open = null;
        }
        timer.shutdownNow();
        for (StreamObserver<GroupReply> w : waiting) fail(w, Status.UNAVAILABLE.withDescription("the coordinator was closed"));
        try {
            if (!timer.awaitTermination(5, TimeUnit.SECONDS)) throw new IllegalStateException("the groups timer did not stop within 5 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private StatusReply statusReply() {
        int admissible = 0;
        for (int who : entrants.keySet()) if (!members.contains(who)) admissible++;
        StatusReply.Builder b = StatusReply.newBuilder().setEpoch(epoch).addAllMembers(members).setWaiting(admissible)
                .setFinished(finished || ending).addAllServers(servers);
        for (HostPort h : addresses) b.addTrainers(h.toString());
        return b.build();
    }

    private GroupReply reply(List<String> changes) {
        GroupReply.Builder b = GroupReply.newBuilder().setEpoch(epoch).addAllMembers(members).addAllServers(servers).addAllChanges(changes)
                .setDepartedExamples(departedExamples);
        for (int m : members) b.addAddresses(addresses[m].toString());
        return b.build();
    }

    private void expire(Round r) {
        synchronized (this) {
            if (open == r) complete(r);
        }
    }

    /** Ends a regroup: the new epoch's members get the answer (called with the monitor held; onNext does not block). */
    private void complete(Round r) {
        open = null;
        if (r.expiry != null) r.expiry.cancel(false);
        String why = r.reasons.isEmpty() ? (r.admit ? "trainers wait to join" : "a member asked") : r.reasons.get(0);
        List<String> changes = new ArrayList<>();
        List<Integer> next = new ArrayList<>();
        for (int m : members) {
            if (r.asked.containsKey(m)) {
                next.add(m);
            } else {
                long credited = Math.max(0, progress[m].getExamples() - startExamples[m]);
                departed.put(m, new Departure(addresses[m], credited));
                departedExamples += credited;
                changes.add("trainer " + m + " at " + addresses[m] + " left: it did not re-form within " + Coordinator.seconds(window)
                        + " (" + why + ")");
            }
        }
        Map<Integer, StreamObserver<GroupReply>> admitted = new LinkedHashMap<>();
        Map<Integer, com.google.protobuf.ByteString> resume = new LinkedHashMap<>();
        if (r.admit && !ending) {
            for (var it = entrants.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Integer, Entrant> e = it.next();
                int who = e.getKey();
                if (next.contains(who)) continue; // its old process is still a member
                it.remove();
                next.add(who);
                Departure d = departed.remove(who);
                if (d != null && d.address().equals(e.getValue().address())) {
                    departedExamples -= d.credited(); // the same process, dropped and back: it goes on with its own data
                } else {
                    startExamples[who] = progress[who].getExamples(); // a new process: it resumes from the mark
                    resume.put(who, progress[who].getMark());
                }
                addresses[who] = e.getValue().address();
                admitted.put(who, e.getValue().call());
                changes.add("trainer " + who + " at " + e.getValue().address() + " joined"
                        + (resume.containsKey(who) && progress[who].getExamples() > 0
                        ? " (it goes on with its share after the " + progress[who].getExamples() + " examples trained before it)" : ""));
            }
        }
        epoch = r.epoch + 1;
        members = List.copyOf(next);
        List<Leftover> leftovers = List.of();
        boolean finishing = r.finishing && !r.asked.isEmpty();
        if (finishing) leftovers = handOut(changes);
        GroupReply answer = reply(changes);
        if (finishing) answer = answer.toBuilder().setFinishing(true).addAllLeftovers(leftovers).build();
        for (String c : changes) LOG.log(Level.INFO, "epoch " + epoch + ": " + c);
        if (changes.isEmpty()) LOG.log(Level.INFO, "epoch " + epoch + ": re-formed with the same members " + members + " (" + why + ")");
        Set<StreamObserver<GroupReply>> calls = new LinkedHashSet<>(r.asked.values());
        calls.removeAll(admitted.values());
        for (StreamObserver<GroupReply> c : calls) answer(c, answer);
        for (Map.Entry<Integer, StreamObserver<GroupReply>> a : admitted.entrySet()) {
            GroupReply mine = resume.containsKey(a.getKey()) ? answer.toBuilder().setResume(resume.get(a.getKey())).build() : answer;
            answer(a.getValue(), mine);
        }
    }

    /**
     * A finishing regroup (called with the monitor held): what the departed left, for the new members to share. The
     * first one hands out the share of every index that has no member, from its mark, and closes the door to
     * entrants; a later one hands out again the takes of the members that left since the last one.
     */
    private List<Leftover> handOut(List<String> changes) {
        List<Leftover> out = new ArrayList<>();
        if (!ending) {
            ending = true;
            for (int i = 0; i < addresses.length; i++) {
                if (members.contains(i)) continue;
                out.add(Leftover.newBuilder().setTrainer(i).setMark(progress[i].getMark()).build());
                changes.add("the members take over the rest of trainer " + i + "'s share (" + progress[i].getExamples()
                        + " examples of it were trained up to its last mark)");
            }
            for (Entrant e : entrants.values()) fail(e.call(), Status.FAILED_PRECONDITION.withDescription(
                    "the job has finished its shares (the members took over what departed trainers left): nothing to join"));
            entrants.clear();
        } else {
            for (int j = 0; j < handedTo.size(); j++) {
                int x = handedTo.get(j);
                if (members.contains(x)) continue;
                for (Leftover l : handedOut) {
                    out.add(l.toBuilder().addFilters(BatchFilter.newBuilder().setOf(handedTo.size()).setPick(j)).build());
                }
                if (!handedOut.isEmpty()) changes.add("the members take over again what trainer " + x + " was given to take over");
            }
        }
        handedOut = List.copyOf(out);
        handedTo = members;
        return out;
    }

    /** The examples of the latest progress mark heard for trainer {@code index} (0: none yet); for tests. */
    synchronized long reportedExamples(int index) {
        return started ? progress[index].getExamples() : 0;
    }

    /** Examples trained by trainer processes that left, up to their progress marks. */
    public synchronized long departedExamples() {
        return departedExamples;
    }

    private synchronized void forget(int who, StreamObserver<GroupReply> call) {
        Entrant e = entrants.get(who);
        if (e != null && e.call() == call) entrants.remove(who);
    }

    private static void answer(StreamObserver<GroupReply> call, GroupReply r) {
        try {
            call.onNext(r);
            call.onCompleted();
        } catch (RuntimeException cancelled) {
            // that caller gave up meanwhile
        }
    }

    private static <T> void fail(StreamObserver<T> call, Status s) {
        try {
            call.onError(s.asRuntimeException());
        } catch (RuntimeException cancelled) {
            // that caller gave up meanwhile
        }
    }
}
