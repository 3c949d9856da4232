package io.shadowsync.sim;

import io.shadowsync.comm.Codec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;

/**
 * The sync rounds of a {@link ScalingSimulation} and the transports they use: a trainer's round (its local work,
 * then a ring allreduce over the trainer group, a pairwise exchange, or a pull and push of the center on the dense
 * server, as its descriptor says), the foreground's trainer barrier, dense server calls, and the ring itself.
 */
final class Rounds {
    private final ScalingSimulation s;
    private final Runnable[] groupArrived;
    private int groupCount;
    private long groupRound;
    /** Per trainer: its collective rounds so far (a trainer's k-th round is ring k); the rings in flight by number. */
    private final long[] roundOf;
    private final Map<Long, Ring> trainerRings = new HashMap<>();
    private int[] trainerHosts;
    private final List<List<Runnable>> foregroundWaiting = new ArrayList<>();
    /** Per trainer: the CPU seconds its current round charged (the self-paced shadow's measure of its share). */
    private final double[] roundCpu;

    Rounds(ScalingSimulation s) {
        this.s = s;
        groupArrived = new Runnable[s.n];
        roundOf = new long[s.n];
        roundCpu = new double[s.n];
        for (int t = 0; t < s.n; t++) foregroundWaiting.add(new ArrayList<>());
    }

    private double d() {
        return s.job.denseFloats();
    }

    /** Runs work on trainer t's host, counted as its round's CPU, then k. */
    private void charge(int t, double work, Runnable k) {
        roundCpu[t] += work;
        s.host(t).run(work, k);
    }

    /** One round of trainer t; done gets the CPU seconds it took on the trainer's host. */
    void round(int t, DoubleConsumer done) {
        double start = s.q.now();
        roundCpu[t] = 0;
        Runnable finish = () -> {
            s.timelines.round(t, start, s.q.now(), s);
            done.accept(roundCpu[t]);
        };
        charge(t, s.costs.roundPerFloat().median() * d(), () -> {
            if (s.algo.centerOnServer()) {
                denseCall(t, s.syncNic[t], false, true, () -> denseCall(t, s.syncNic[t], true, true, finish));
            } else if (s.algo.trainerGroup() && s.n > 1) {
                groupArrive(t, finish);
            } else {
                finish.run();
            }
        });
    }

    /** Foreground: a worker of trainer t has made its K steps; the last of the trainer's W runs the round, then all resume. */
    void foregroundArrive(int t, int workers, Runnable resume) {
        List<Runnable> waiting = foregroundWaiting.get(t);
        waiting.add(resume);
        if (waiting.size() < workers) return;
        List<Runnable> all = new ArrayList<>(waiting);
        waiting.clear();
        round(t, cpu -> all.forEach(Runnable::run));
    }

    /**
     * A collective round of trainer t. A ring allreduce starts on each trainer as it enters, as the ranks of
     * {@code RingCollective} run it ({@link #ringEnter}); the slowest trainer decides when the others can finish. Gossip's
     * pairs start when every trainer has entered.
     */
    private void groupArrive(int t, Runnable finish) {
        if (!s.algo.pairwise()) {
            ringEnter(trainerRings, roundOf[t]++, s.syncNic, trainerHosts(), roundCpu, t, finish);
            return;
        }
        groupArrived[t] = finish;
        if (++groupCount < s.n) return;
        groupCount = 0;
        Runnable[] done = groupArrived.clone();
        Arrays.fill(groupArrived, null);
        pairs(groupRound++, done);
    }

    private int[] trainerHosts() {
        if (trainerHosts == null) {
            trainerHosts = new int[s.n];
            for (int i = 0; i < s.n; i++) trainerHosts[i] = s.cluster.hostOf(i);
        }
        return trainerHosts;
    }

    /** Gossip: each trainer exchanges its replica with the schedule's partner and averages; one sitting out only ends. */
    private void pairs(long round, Runnable[] done) {
        double now = s.q.now();
        long bytes = s.codec.encodedBytes(s.job.denseFloats());
        double avg = (s.costs.ringHopPerFloat().median() + s.costs.decode(s.codec.name())) * d();
        for (int t = 0; t < s.n; t++) {
            int p = s.job.sync().gossipSchedule().partner(t, s.n, round, io.shadowsync.sync.Gossip.scheduleSeed(0L));
            int tr = t;
            if (p == t) {
                done[t].run();
                continue;
            }
            double arrives = s.syncNic[p].send(now, bytes, 1);
            s.q.at(s.resumes(arrives), () -> charge(tr, avg, done[tr]));
        }
    }

    /**
     * A dense server call of trainer t over its link own (a pull of every float, or a push of a change or gradient in
     * the job's codec), one round trip to every dense shard, then k.
     */
    void denseCall(int t, FifoLink own, boolean push, boolean forRound, Runnable k) {
        double d = d();
        long bytes = push ? s.codec.encodedBytes(s.job.denseFloats()) : 4L * s.job.denseFloats();
        double apply = s.costs.applyPerFloat().median() * d + s.costs.decode(s.codec.name()) * d;
        double callerCpu = push ? s.costs.encode(s.codec.name()) * d + (s.cluster.inProcess() ? apply : 0) : 0;
        Runnable send = () -> {
            double now = s.q.now();
            double done = own.send(now, bytes, 2);
            int shards = s.denseShards.length;
            for (int i = 0; i < shards; i++) {
                done = Math.max(done, s.denseShards[i].send(now, bytes / shards, 2));
                if (push && !s.cluster.inProcess()) {
                    double lat = s.denseShards[i].latency();
                    done = Math.max(done, s.denseShardCpu[i].serve(now + lat, apply / shards) + lat);
                }
            }
            s.q.at(s.resumes(done), k);
        };
        if (forRound) charge(t, callerCpu, send);
        else s.host(t).run(callerCpu, send);
    }

    /**
     * Rank r of ring number {@code number} (its ranks' k-th allreduce) enters: the ring is made when its first rank
     * enters and dropped when its last is through; done runs when rank r is.
     */
    void ringEnter(Map<Long, Ring> rings, long number, FifoLink[] links, int[] hostOf, double[] cpuOf, int r, Runnable done) {
        Ring ring = rings.computeIfAbsent(number, k -> new Ring(links, hostOf, cpuOf, () -> rings.remove(k)));
        ring.enter(r, done);
    }

    /**
     * A ring allreduce of the dense floats over links.length ranks (rank r sends on links[r] to r + 1), as the ranks of
     * {@code RingCollective} run it: no step waits for the other ranks' hops, only for the part it forwards. A rank
     * starts when it enters (its first part goes at once), and goes on to step k + 1 as soon as its predecessor's
     * step-k part has been delivered (plus the host's wake-up when the rank was already waiting for it) and its add
     * (and the codec's rounding) has run on its host; it is through after its last step, whatever the ranks after it
     * still do. A fixed-width codec: reduce-scatter and all-gather, 2(m−1) steps of a 1/m chunk. A message codec: the
     * rank encodes, the messages go round in m−1 steps, and the rank decodes and adds all m. With every rank entering
     * at once and equal hops every rank ends after 2(m−1) hops, the ring's closed form; with one rank late, ranks end
     * between m−1 and 2(m−1) hops after it, in ring order.
     */
    final class Ring {
        private final FifoLink[] links;
        private final int[] hostOf;
        private final double[] cpuOf;
        private final Runnable dropped;
        private final int m, steps;
        private final long bytes;
        private final double hopCpu, pre, post;
        /** arrival[r][k]: when rank r's step-k part (from r − 1) is delivered; NaN until it is sent. */
        private final double[][] arrival;
        /** Per rank: the step whose part it waits for (−1: not waiting), and what to run when it is through. */
        private final int[] waitingFor;
        private final Runnable[] done;
        private int through;

        Ring(FifoLink[] links, int[] hostOf, double[] cpuOf, Runnable dropped) {
            this.links = links;
            this.hostOf = hostOf;
            this.cpuOf = cpuOf;
            this.dropped = dropped;
            m = links.length;
            String c = s.codec.name();
            double hop = s.costs.ringHopPerFloat().median();
            if (s.codec.fixedWidth()) {
                long chunk = (s.job.denseFloats() + m - 1) / m;
                bytes = chunk * s.codec.linkCodec().bytesPerValue();
                hopCpu = chunk * (hop + s.costs.encode(c) + s.costs.decode(c));
                steps = 2 * (m - 1);
                pre = 0;
                post = 0;
            } else {
                bytes = s.codec.encodedBytes(s.job.denseFloats());
                hopCpu = hop * bytes / 4.0;
                steps = m - 1;
                pre = s.costs.encode(c) * d();
                post = s.costs.decode(c) * d() * m;
            }
            arrival = new double[m][steps];
            for (double[] a : arrival) Arrays.fill(a, Double.NaN);
            waitingFor = new int[m];
            Arrays.fill(waitingFor, -1);
            done = new Runnable[m];
        }

        void enter(int r, Runnable k) {
            done[r] = k;
            if (m == 1) {
                finish(r);
                return;
            }
            work(r, pre, () -> send(r, 0));
        }

        private void work(int r, double cpu, Runnable k) {
            if (cpuOf != null) cpuOf[r] += cpu;
            s.hosts[hostOf[r]].run(cpu, k);
        }

        /** Rank r sends its step-k part to r + 1, then waits for its own step-k part. */
        private void send(int r, int k) {
            int dest = (r + 1) % m;
            double at = links[r].send(s.q.now(), bytes, 1);
            arrival[dest][k] = at;
            if (waitingFor[dest] == k) {
                waitingFor[dest] = -1;
                s.q.at(s.resumes(at), () -> received(dest, k));
            }
            double mine = arrival[r][k];
            if (Double.isNaN(mine)) waitingFor[r] = k;
            else if (mine <= s.q.now()) received(r, k);
            else s.q.at(s.resumes(mine), () -> received(r, k));
        }

        /** Rank r has its step-k part: adds it, then forwards (the next step) or is through. */
        private void received(int r, int k) {
            work(r, hopCpu, () -> {
                if (k + 1 < steps) send(r, k + 1);
                else work(r, post, () -> finish(r));
            });
        }

        private void finish(int r) {
            Runnable k = done[r];
            done[r] = null;
            if (++through == m) dropped.run();
            k.run();
        }
    }
}
