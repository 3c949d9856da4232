package io.shadowsync.net.rdv;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.proto.JoinReply;
import io.shadowsync.net.proto.JoinRequest;
import io.shadowsync.net.proto.RendezvousGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The job's rendezvous point, served by the first process: it expects T trainers and S parameter servers, and every
 * process's {@code Join} waits until all have joined, then gets the whole {@link Membership}. It refuses, at once
 * and naming both processes, a process whose config digest differs from the first joiner's, and a process that
 * claims an index another address holds; when {@code timeout} (counted from construction) passes first, every
 * waiting joiner gets an error naming who never arrived: {@code "rendezvous timed out after 60 s: trainer 2, ps 1
 * never arrived"}. A process that asks again from the same address (a retried call) gets the same answer.
 * <pre>
 *   Coordinator rdv = new Coordinator(4, 2, Duration.ofSeconds(60));
 *   Server server = transport.serve(port, List.of(rdv, ...));
 *   Membership m = Rendezvous.join(transport, coordinatorAddress, Role.TRAINER, 0, self, digest, timeout);
 * </pre>
 * Sharing contract: thread-safe (one monitor); its one timer thread ends with {@link #close()}.
 */
public final class Coordinator extends RendezvousGrpc.RendezvousImplBase implements AutoCloseable {
    private final int trainers;
    private final int servers;
    private final Duration timeout;
    private final ScheduledExecutorService timer;
    /** The timer's one thread, joined by {@link #close}. */
    private volatile Thread timerThread;

    // guarded by this
    private final Seat[] seats;
    private final List<String> refused = new ArrayList<>();
    private String firstDigest;
    private String firstWho;
    private JoinReply reply; // set when everyone has joined
    private Status ended; // the timeout's (or close's) status, once one came first

    /** One expected process: its address once it joined, and its calls still waiting for the answer. */
    private static final class Seat {
        HostPort address;
        final List<StreamObserver<JoinReply>> waiting = new ArrayList<>();
    }

    /**
     * @param trainers trainer processes to expect, at least 1
     * @param servers  parameter-server processes to expect, at least 0
     * @param timeout  how long, from now, every process has to join
     */
    public Coordinator(int trainers, int servers, Duration timeout) {
        if (trainers < 1) throw new IllegalArgumentException("a job needs at least 1 trainer, got " + trainers);
        if (servers < 0) throw new IllegalArgumentException("the number of parameter servers cannot be negative: " + servers);
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the rendezvous timeout must be positive, got " + timeout);
        }
        this.trainers = trainers;
        this.servers = servers;
        this.timeout = timeout;
        this.seats = new Seat[trainers + servers];
        for (int i = 0; i < seats.length; i++) seats[i] = new Seat();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rendezvous-timeout");
            t.setDaemon(true);
            timerThread = t;
            return t;
        });
        timer.schedule(this::expire, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void join(JoinRequest req, StreamObserver<JoinReply> responses) {
        Role role = Role.of(req.getRole());
        if (role == null) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription("a joiner must say whether it is a trainer or a ps")
                    .asRuntimeException());
            return;
        }
        int count = role == Role.TRAINER ? trainers : servers;
        String who = role.label() + " " + req.getIndex();
        if (req.getIndex() < 0 || req.getIndex() >= count) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription(who + " is not expected: this job has " + count + " "
                    + role.label() + (count == 1 ? "" : "s") + (count == 0 ? "" : " (0.." + (count - 1) + ")")).asRuntimeException());
            return;
        }
        HostPort address;
        try {
            address = HostPort.parse(req.getAddress());
        } catch (IllegalArgumentException e) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription(who + ": " + e.getMessage()).asRuntimeException());
            return;
        }
        who = who + " at " + address;
        Status refusal = null;
        JoinReply answer = null;
        synchronized (this) {
            Seat seat = seats[role == Role.TRAINER ? req.getIndex() : trainers + req.getIndex()];
            String holder = holderOf(address);
            if (ended != null) {
                refusal = ended;
            } else if (firstDigest != null && !firstDigest.equals(req.getDigest())) {
                refusal = Status.FAILED_PRECONDITION.withDescription(who + " has config digest '" + req.getDigest()
                        + "', but " + firstWho + ", the first to join, has '" + firstDigest
                        + "': every process of a job must run the same job configuration and version");
                refused.add(who + " was refused (config digest differs)");
            } else if (seat.address != null && !seat.address.equals(address)) {
                refusal = Status.ALREADY_EXISTS.withDescription(role.label() + " " + req.getIndex() + " is already taken by "
                        + seat.address + "; " + address + " cannot join as " + role.label() + " " + req.getIndex()
                        + " (is an index given twice?)");
                refused.add(who + " was refused (index taken)");
            } else if (holder != null && seat.address == null) {
                refusal = Status.ALREADY_EXISTS.withDescription(address + " has already joined as " + holder + "; it cannot"
                        + " also join as " + role.label() + " " + req.getIndex() + " (is an address given twice?)");
                refused.add(who + " was refused (address taken)");
            } else {
                if (firstDigest == null) {
                    firstDigest = req.getDigest();
                    firstWho = who;
                }
                seat.address = address;
                if (reply != null) {
                    answer = reply;
                } else {
                    seat.waiting.add(responses);
                    if (responses instanceof ServerCallStreamObserver<JoinReply> call) {
                        call.setOnCancelHandler(() -> forget(seat, responses));
                    }
                    if (everyoneJoined()) finish();
                }
            }
        }
        if (refusal != null) {
            responses.onError(refusal.asRuntimeException());
        } else if (answer != null) {
            responses.onNext(answer);
            responses.onCompleted();
        }
    }

    /** Processes that have joined so far. */
    public synchronized int joined() {
        int k = 0;
        for (Seat s : seats) if (s.address != null) k++;
        return k;
    }

    /** The membership, once every expected process has joined; null before. */
    public synchronized Membership membership() {
        return reply == null ? null : Rendezvous.membershipOf(reply);
    }

    /** The config digest every process of the job gave (the first joiner's), or null before anyone joined. */
    synchronized String digest() {
        return firstDigest;
    }

    /** Stops the timer; joiners still waiting get UNAVAILABLE. Idempotent. */
    @Override
    public void close() {
        timer.shutdownNow();
        endAll(Status.UNAVAILABLE.withDescription("the rendezvous coordinator was closed before every process joined"));
        try {
            if (!timer.awaitTermination(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the rendezvous timer did not stop within 5 s");
            }
            // the executor reports termination from its thread just before that thread ends: wait for the end itself,
            // so that nothing of a closed coordinator is left running
            Thread t = timerThread;
            if (t != null) t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String holderOf(HostPort address) {
        for (int i = 0; i < seats.length; i++) {
            if (address.equals(seats[i].address)) {
                return i < trainers ? "trainer " + i : "ps " + (i - trainers);
            }
        }
        return null;
    }

    private boolean everyoneJoined() {
        for (Seat s : seats) if (s.address == null) return false;
        return true;
    }

    /** Builds the answer and sends it to everyone waiting (called with the monitor held; onNext does not block). */
    private void finish() {
        JoinReply.Builder b = JoinReply.newBuilder();
        for (int i = 0; i < seats.length; i++) {
            if (i < trainers) b.addTrainers(seats[i].address.toString());
            else b.addServers(seats[i].address.toString());
        }
        reply = b.build();
        timer.shutdownNow(); // cancels the pending timeout, so the timer thread ends now
        for (Seat s : seats) {
            for (StreamObserver<JoinReply> w : s.waiting) {
                try {
                    w.onNext(reply);
                    w.onCompleted();
                } catch (RuntimeException cancelled) {
                    // that caller gave up meanwhile; it will ask again and get the same reply
                }
            }
            s.waiting.clear();
        }
    }

    private synchronized void forget(Seat seat, StreamObserver<JoinReply> call) {
        seat.waiting.remove(call);
    }

    private void expire() {
        StringBuilder missing = new StringBuilder();
        synchronized (this) {
            if (reply != null || ended != null) return;
            for (int i = 0; i < seats.length; i++) {
                if (seats[i].address != null) continue;
                if (!missing.isEmpty()) missing.append(", ");
                missing.append(i < trainers ? "trainer " + i : "ps " + (i - trainers));
            }
        }
        String msg = "rendezvous timed out after " + seconds(timeout) + ": " + missing + " never arrived";
        synchronized (this) {
            if (!refused.isEmpty()) msg += " (" + String.join("; ", refused) + ")";
        }
        endAll(Status.DEADLINE_EXCEEDED.withDescription(msg));
    }

    private void endAll(Status status) {
        List<StreamObserver<JoinReply>> waiting = new ArrayList<>();
        synchronized (this) {
            if (reply != null || ended != null) return;
            ended = status;
            for (Seat s : seats) {
                waiting.addAll(s.waiting);
                s.waiting.clear();
            }
        }
        for (StreamObserver<JoinReply> w : waiting) w.onError(status.asRuntimeException());
    }

    /** "60 s", "1.5 s". */
    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms / 1e3 + " s";
    }
}
