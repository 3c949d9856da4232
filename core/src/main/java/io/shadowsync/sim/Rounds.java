package io.shadowsync.sim;

import io.shadowsync.comm.Codec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
    private final List<List<Runnable>> foregroundWaiting = new ArrayList<>();
    /** Per trainer: the CPU seconds its current round charged (the self-paced shadow's measure of its share). */
    private final double[] roundCpu;

    Rounds(ScalingSimulation s) {
        this.s = s;
        groupArrived = new Runnable[s.n];
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

    /** A collective round: every trainer enters (the slowest decides), then the ring or the pairs run. */
    private void groupArrive(int t, Runnable finish) {
        groupArrived[t] = finish;
        if (++groupCount < s.n) return;
        groupCount = 0;
        Runnable[] done = groupArrived.clone();
        Arrays.fill(groupArrived, null);
        long r = groupRound++;
        if (s.algo.pairwise()) {
            pairs(r, done);
            return;
        }
        int[] hostOf = new int[s.n];
        for (int i = 0; i < s.n; i++) hostOf[i] = s.cluster.hostOf(i);
        ring(s.syncNic, hostOf, roundCpu, () -> {
            for (Runnable k : done) k.run();
        });
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
     * A ring allreduce of the dense floats over links.length ranks (rank r sends on links[r] to r + 1), then done.
     * A fixed-width codec: reduce-scatter and all-gather, 2(m−1) steps of a 1/m chunk, each hop's add (and the
     * codec's rounding) on the receiver's host; every step waits for its slowest hop. A message codec: every rank
     * encodes, the messages go round in m−1 steps, and every rank decodes and adds all m.
     *
     * @param cpuOf per rank, where the rank's CPU seconds are added (null: not counted)
     */
    void ring(FifoLink[] links, int[] hostOf, double[] cpuOf, Runnable done) {
        int m = links.length;
        if (m == 1) {
            done.run();
            return;
        }
        String c = s.codec.name();
        double hop = s.costs.ringHopPerFloat().median();
        if (s.codec.fixedWidth()) {
            long chunk = (s.job.denseFloats() + m - 1) / m;
            long bytes = chunk * s.codec.linkCodec().bytesPerValue();
            double hopCpu = chunk * (hop + s.costs.encode(c) + s.costs.decode(c));
            ringStep(links, hostOf, cpuOf, 0, 2 * (m - 1), bytes, hopCpu, done);
        } else {
            long bytes = s.codec.encodedBytes(s.job.denseFloats());
            double hopCpu = hop * bytes / 4.0;
            double encode = s.costs.encode(c) * d(), decode = s.costs.decode(c) * d() * m;
            allRanks(hostOf, cpuOf, encode, () -> ringStep(links, hostOf, cpuOf, 0, m - 1, bytes, hopCpu,
                    () -> allRanks(hostOf, cpuOf, decode, done)));
        }
    }

    private void ringStep(FifoLink[] links, int[] hostOf, double[] cpuOf, int step, int steps, long bytes, double hopCpu, Runnable done) {
        if (step == steps) {
            done.run();
            return;
        }
        int m = links.length;
        int[] pending = {m};
        double now = s.q.now();
        Runnable arrived = () -> {
            if (--pending[0] == 0) ringStep(links, hostOf, cpuOf, step + 1, steps, bytes, hopCpu, done);
        };
        for (int r = 0; r < m; r++) {
            int dest = (r + 1) % m;
            s.q.at(s.resumes(links[r].send(now, bytes, 1)), () -> {
                if (cpuOf != null) cpuOf[dest] += hopCpu;
                s.hosts[hostOf[dest]].run(hopCpu, arrived);
            });
        }
    }

    /** work on every rank's host at once, then next when all are through. */
    private void allRanks(int[] hostOf, double[] cpuOf, double work, Runnable next) {
        int[] pending = {hostOf.length};
        for (int r = 0; r < hostOf.length; r++) {
            if (cpuOf != null) cpuOf[r] += work;
            s.hosts[hostOf[r]].run(work, () -> {
                if (--pending[0] == 0) next.run();
            });
        }
    }
}
