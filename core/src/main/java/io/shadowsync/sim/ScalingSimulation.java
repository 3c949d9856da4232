package io.shadowsync.sim;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One simulated job on N trainers: every worker's steps (embedding pull, compute, push; async SGD's dense pull and
 * push; synchronous SGD's gradient allreduce), every trainer's rounds (the shadow's loop and its pacing, or the
 * foreground's every K steps), on the hosts' cores ({@link CpuPool}) and links ({@link FifoLink}). Deterministic for
 * a seed: the only randomness is the stragglers', drawn per worker from a {@link SplittableRandom} split from it.
 *
 * <p>Topology, as {@code InProcessCluster} emulates it: each trainer has two links, one for server traffic on the
 * workers' path and one for its rounds; the embedding server has a link per shard (rows spread evenly), the dense
 * server {@code min(shards, dense floats)} contiguous shards with a link each; synchronous SGD's ranks (one per worker)
 * each have a link of their own. A server call is one round trip to every shard at once (two latencies), done when
 * its last part is delivered. In process ({@link SimCluster#inProcess()}) a server call's work runs on the caller's
 * thread; otherwise every shard serves its calls one at a time (its CPU, a {@link FifoLink#server()}, or with
 * {@link SimCluster#serversOnHost()} a {@link ShardQueue} on the trainers' host).
 *
 * <p>The worker step is the job's own, as calibration measured it in runs of one and two trainers ({@link Costs.JobStep}): the
 * workers' CPU per step runs on the worker's thread, the rest of the step's CPU (the reader, GC, the in-process server
 * calls' bookkeeping) alongside it on the same host, and the step waits for both; every process on a host (one JVM
 * of trainers in process, each trainer and each server on the host over the network) {@link CpuPool#reserve reserves}
 * the calibrated process CPU once (its JIT, metrics, timers), so that N trainers in one JVM on C cores train
 * (C − process CPU) / step CPU steps a second between them when the cores are short; in process over an emulated
 * link the worker's CPU beyond the compute-only step is its table calls' ({@link #tableCallCpu(SimJob, SimCluster, Costs)}), spent between
 * their waits. What the one-trainer run's wall time per step holds beyond
 * what this simulation makes of the same configuration (its CPU, the emulated link's latencies and wake-ups) is the
 * step's {@link #residual() residual}, a fixed delay added to every step.
 */
public final class ScalingSimulation {
    /** The longest a self-paced sync thread waits for its workers to step (as the engine's pacer). */
    static final double MAX_STEP_WAIT = 0.020;

    final SimJob job;
    final SimCluster cluster;
    final Costs costs;
    final int n;
    final AlgorithmDescriptor algo;
    final Codec codec;
    final EventQueue q = new EventQueue();
    final CpuPool[] hosts;
    final FifoLink[] nic, syncNic, rankLinks, embShards, embShardCpu, denseShards, denseShardCpu;
    final ShardQueue[] embShardHost;
    final Rounds rounds;
    private final double residual;
    final Timelines timelines = new Timelines();
    private final List<Worker> workers = new ArrayList<>();
    private final long[] trainerSteps;
    private final Runnable[] stepWaiter;
    private final long targetSteps;
    private long totalSteps;
    private boolean measuring;
    private double t0;
    private long examples;
    double syncWait;
    /** Synchronous SGD: the gradient allreduces in flight, by number, and the host of every rank. */
    private final Map<Long, Rounds.Ring> gradientRings = new HashMap<>();
    private int[] hostOfRank;

    private final class Worker {
        final int trainer;
        final int index;
        final SplittableRandom rnd;
        int sinceRound;
        /** Synchronous SGD: this worker's gradient allreduces so far. */
        long allReduces;

        Worker(int trainer, int index, SplittableRandom rnd) {
            this.trainer = trainer;
            this.index = index;
            this.rnd = rnd;
        }
    }

    /**
     * @param stepsPerWorker worker steps to simulate (a fifth of them warm-up, not measured)
     */
    public ScalingSimulation(SimJob job, SimCluster cluster, Costs costs, int n, long seed, int stepsPerWorker) {
        this(job, cluster, costs, n, seed, stepsPerWorker, residual(job, costs, cluster));
    }

    /** A table call's CPU on the worker's thread ({@link #tableCallCpu(SimJob, SimCluster, Costs)}). */
    private final double tableCallCpu;

    private ScalingSimulation(SimJob job, SimCluster cluster, Costs costs, int n, long seed, int stepsPerWorker, double residual) {
        this.residual = residual;
        if (n < 1) throw new IllegalArgumentException("a simulation needs at least 1 trainer, got " + n);
        if (stepsPerWorker < 5) throw new IllegalArgumentException("simulate at least 5 steps per worker, got " + stepsPerWorker);
        this.job = job;
        this.cluster = cluster;
        this.costs = costs;
        this.n = n;
        this.algo = job.algorithm();
        this.codec = job.codec();
        this.tableCallCpu = tableCallCpu(job, cluster, costs);
        LinkModel l = cluster.link();
        hosts = new CpuPool[cluster.hosts(n)];
        for (int h = 0; h < hosts.length; h++) hosts[h] = new CpuPool(q, cluster.coresPerHost(), cluster.quantum());
        nic = links(n, l);
        syncNic = links(n, l);
        rankLinks = links(algo.workerGroup() ? n * job.workers() : 0, l);
        embShards = links(job.embTables() > 0 ? job.psShards() : 0, l);
        embShardCpu = servers(cluster.inProcess() ? 0 : embShards.length);
        int denseShardCount = algo.denseServer() ? Math.min(job.psShards(), job.denseFloats()) : 0;
        denseShards = links(denseShardCount, l);
        denseShardCpu = servers(cluster.inProcess() ? 0 : denseShardCount);
        embShardHost = onHost(cluster.serversOnHost() ? embShards.length : 0);
        double own = costs.step().processCpu().median();
        for (int h = 0; h < hosts.length; h++) {
            // many JVMs on few cores: their own threads get at most half of the host, competing with their workers for the rest
            if (own > 0) hosts[h].reserve(Math.min(own * processesOn(h), hosts[h].cores() / 2));
        }
        rounds = new Rounds(this);
        trainerSteps = new long[n];
        stepWaiter = new Runnable[n];
        SplittableRandom root = new SplittableRandom(seed);
        for (int t = 0; t < n; t++) {
            for (int w = 0; w < job.workers(); w++) workers.add(new Worker(t, w, root.split()));
        }
        targetSteps = (long) stepsPerWorker * workers.size();
    }

    /**
     * The trainer processes on host h, each charged the calibrated process CPU once: in process one JVM holds the
     * host's trainers (as {@code train}); over the network each trainer is a process of its own (as {@code launch}).
     * A server process's own CPU is in its calibrated work a call ({@link Costs.Launched#serverCpu()}).
     */
    int processesOn(int h) {
        int trainers = 0;
        for (int t = 0; t < n; t++) if (cluster.hostOf(t) == h) trainers++;
        if (trainers == 0) return 0;
        if (cluster.inProcess()) return 1;
        return trainers;
    }

    private static FifoLink[] links(int k, LinkModel l) {
        FifoLink[] a = new FifoLink[k];
        for (int i = 0; i < k; i++) a[i] = new FifoLink(l.bytesPerSecond(), l.latencySeconds());
        return a;
    }

    private ShardQueue[] onHost(int k) {
        ShardQueue[] a = new ShardQueue[k];
        for (int i = 0; i < k; i++) a[i] = new ShardQueue(q, hosts[0]);
        return a;
    }

    /**
     * The calibrated step's wall time that a simulation of the calibrated configuration (one trainer, the
     * calibration's workers, shards and emulated link, its host's cores, no sync, no stragglers) does not account
     * for: max(0, measured − simulated) seconds a step. 0 for a step calibrated as compute only.
     */
    public static double residual(SimJob job, Costs costs) {
        return residual(job, costs, 0.0);
    }

    /** As {@link #residual(SimJob, Costs)}, the calibrated machine's cores shared with the given scheduler quantum ({@link CpuPool}). */
    static double residual(SimJob job, Costs costs, double quantum) {
        Costs.JobStep st = costs.step();
        SimCluster c = new SimCluster(st.link(), costs.machine().cores(), 0, true, Stragglers.NONE, false, quantum);
        return residualAt(job, costs, c, st.workers(), st.psShards(), st.wall().median());
    }

    /**
     * The residual for a cluster: over the network with the launched form calibrated, the launched step's (its
     * configuration: one trainer process and its server processes on the calibrated host, rows over loopback, taken
     * as an ideal link); otherwise the in-process step's ({@link #residual(SimJob, Costs)}).
     */
    public static double residual(SimJob job, Costs costs, SimCluster cluster) {
        Costs.Launched l = costs.launch();
        if (cluster.inProcess() || l == null) return residual(job, costs, cluster.quantum());
        SimCluster c = new SimCluster(LinkModel.NONE, costs.machine().cores(), 0, false, Stragglers.NONE, true, cluster.quantum());
        return residualAt(job, costs, c, costs.step().workers(), l.psShards(), l.wall().median());
    }

    private static double residualAt(SimJob job, Costs costs, SimCluster c, int workers, int shards, double wall) {
        SimJob none = job.with("none");
        SimJob cal = new SimJob(none.sync(), workers, job.batch(), job.denseFloats(), job.embTables(), job.embDim(), shards, Codec.FLOAT32);
        SimResult r = new ScalingSimulation(cal, c, costs, 1, 1, 50, 0).run();
        double simulated = workers * (double) job.batch() / r.examplesPerSec();
        return Math.max(0, wall - simulated);
    }

    /** The fixed delay added to every worker step (see {@link #residual(SimJob, Costs)}). */
    public double residual() {
        return residual;
    }

    private static FifoLink[] servers(int k) {
        FifoLink[] a = new FifoLink[k];
        for (int i = 0; i < k; i++) a[i] = FifoLink.server();
        return a;
    }

    /**
     * When a thread that waits for a delivery at t runs again: t, plus in process over an emulated link the host's
     * wake-up lateness (the emulation sleeps; a loaded host runs the sleeper late).
     */
    double resumes(double t) {
        return cluster.inProcess() && !cluster.link().isIdeal() ? t + costs.wakeup().median() : t;
    }

    /** Whether the trainers run as launch runs them, with the launched form calibrated: its step and server costs apply. */
    private boolean launched() {
        return !cluster.inProcess() && costs.launch() != null;
    }

    /** The step's CPU and its workers' part: the launched trainer's, or the in-process calibrated step's. */
    private double stepCpu() {
        return launched() ? costs.launch().cpu().median() : costs.step().cpu().median();
    }

    private double stepWorkerCpu() {
        return launched() ? costs.launch().workerCpu().median() : costs.step().workerCpu().median();
    }

    CpuPool host(int trainer) {
        return hosts[cluster.hostOf(trainer)];
    }

    /** Runs the job and returns what it did over the measured window. */
    public SimResult run() {
        for (Worker w : workers) q.at(0, () -> startStep(w));
        if (algo.background() && !algo.idleAlone(job.sync(), n)) {
            for (int t = 0; t < n; t++) {
                int tr = t;
                q.at(0, () -> shadowLoop(tr));
            }
        }
        q.runUntil(Double.MAX_VALUE, () -> totalSteps < targetSteps);
        double span = q.now() - t0;
        double bytes = 0;
        double link = 0, shard = 0, cpu = 0;
        for (FifoLink[] group : new FifoLink[][] {nic, syncNic, rankLinks}) {
            for (FifoLink f : group) {
                bytes += f.bytes();
                link = Math.max(link, f.utilisation(q.now()));
            }
        }
        for (FifoLink[] group : new FifoLink[][] {embShards, embShardCpu, denseShards, denseShardCpu}) {
            for (FifoLink f : group) shard = Math.max(shard, f.utilisation(q.now()));
        }
        for (ShardQueue f : embShardHost) shard = Math.max(shard, f.utilisation(q.now()));
        int[] threads = new int[hosts.length];
        boolean syncThread = algo.background() && !algo.idleAlone(job.sync(), n);
        boolean helper = stepCpu() > stepWorkerCpu();
        for (int t = 0; t < n; t++) threads[cluster.hostOf(t)] += job.workers() * (helper ? 2 : 1) + (syncThread ? 1 : 0);
        for (int h = 0; h < hosts.length; h++) cpu = Math.max(cpu, hosts[h].utilisation(threads[h]));
        double eps = examples / span;
        Timelines.Staleness st = timelines.staleness(this);
        double roundsPerSec = timelines.rounds0() / span;
        return new SimResult(algo.name(), n, eps, roundsPerSec, st.rounds(), st.seconds(), examples == 0 ? 0 : bytes / examples,
                cpu, shard, link, syncWait / (workers.size() * span));
    }

    boolean measuring() {
        return measuring;
    }

    private void startStep(Worker w) {
        if (algo.serverOptimizer()) {
            double pullAt = q.now();
            rounds.denseCall(w.trainer, nic[w.trainer], false, false, () -> {
                timelines.pull(w.trainer, w.index, pullAt, q.now(), this);
                embeddings(w.trainer, true, () -> compute(w));
            });
        } else {
            embeddings(w.trainer, true, () -> compute(w));
        }
    }

    /**
     * The step's CPU: the worker's own on its thread and the rest of the process's alongside, on the trainer's host;
     * the step goes on when both are through and the residual has passed.
     */
    private void compute(Worker w) {
        double draw = cluster.stragglers().draw(w.rnd);
        double own = (stepWorkerCpu() - tableCallCpu * 2 * job.embTables()) * draw, rest = (stepCpu() - stepWorkerCpu()) * draw;
        Runnable next = () -> q.after(residual, () -> {
            // as the engine's Worker: the step's embedding pushes are committed before its gradient goes to the allreduce
            if (algo.workerGroup()) embeddings(w.trainer, false, () -> allReduceGradients(w, () -> endStep(w)));
            else embeddings(w.trainer, false, () -> afterPush(w));
        });
        int[] left = {rest > 0 ? 2 : 1};
        Runnable part = () -> {
            if (--left[0] == 0) next.run();
        };
        host(w.trainer).run(own, part);
        if (rest > 0) host(w.trainer).run(rest, part);
    }

    private void afterPush(Worker w) {
        if (!algo.serverOptimizer()) {
            endStep(w);
            return;
        }
        double pushAt = q.now();
        rounds.denseCall(w.trainer, nic[w.trainer], true, false, () -> {
            timelines.push(w.trainer, w.index, pushAt, q.now(), this);
            endStep(w);
        });
    }

    /**
     * Synchronous SGD: every worker's gradient allreduced over all N·W ranks, each rank entering the ring when its
     * worker does ({@link Rounds#ringEnter}); a worker goes on when its rank is through, so the slowest worker decides.
     */
    private void allReduceGradients(Worker w, Runnable k) {
        double arrived = q.now();
        int rank = w.trainer * job.workers() + w.index;
        long number = w.allReduces++;
        if (hostOfRank == null) {
            hostOfRank = new int[workers.size()];
            for (int r = 0; r < hostOfRank.length; r++) hostOfRank[r] = cluster.hostOf(r / job.workers());
        }
        rounds.ringEnter(gradientRings, number, rankLinks, hostOfRank, null, rank, () -> {
            if (measuring) syncWait += q.now() - arrived;
            if (rank == 0) timelines.round(0, arrived, q.now(), this);
            k.run();
        });
    }

    /**
     * A step's embedding pull or push, then k; nothing when the job has no tables or uses one local store. In process
     * the engine makes one call per table, each waiting out its emulated delivery (the first also the round trip's
     * two latencies), so each pays the host's wake-up; over the network one call per shard carries every table's rows
     * (the row lane), served by the shard.
     */
    private void embeddings(int t, boolean pull, Runnable k) {
        if (job.embTables() == 0 || (cluster.inProcess() && cluster.link().isIdeal() && job.psShards() == 1)) {
            k.run(); // train's one local store: the rows' work is in the calibrated step
            return;
        }
        double rows = costs.rowsPerStep();
        long bytes = Math.round(rows * (4 + 4L * job.embDim()));
        int s = embShards.length;
        int touched = (int) Math.min(s, Math.max(1, Math.round(rows)));
        if (cluster.inProcess()) {
            Costs.JobStep st = costs.step();
            boolean localCalibrated = st.psShards() == 1 && st.link().isIdeal(); // the calibrated step made no server calls
            double callCpu = localCalibrated ? (pull ? costs.pullPerCall().median() + rows * costs.pullPerRow().median()
                    : costs.pushPerCall().median() + rows * costs.pushPerRow().median()) : 0;
            host(t).run(callCpu, () -> tableCalls(t, 0, bytes / job.embTables(), touched, tableCallCpu, k));
            return;
        }
        double now = q.now();
        double service = serviceOf(pull, rows / touched, touched);
        double done = nic[t].send(now, bytes, 2);
        int[] left = {1 + (cluster.serversOnHost() ? touched : 0)};
        double[] last = {0};
        Runnable part = () -> {
            last[0] = Math.max(last[0], q.now());
            if (--left[0] == 0) k.run();
        };
        for (int i = 0; i < touched; i++) {
            double lat = embShards[i].latency();
            double delivered = embShards[i].send(now, bytes / touched, 2);
            done = Math.max(done, delivered);
            if (cluster.serversOnHost()) {
                ShardQueue sq = embShardHost[i];
                q.at(now + lat, () -> sq.serve(service, () -> q.after(lat, part)));
            } else {
                done = Math.max(done, embShardCpu[i].serve(now + lat, service) + lat);
            }
        }
        q.at(done, part);
    }

    /**
     * A shard's work for one call of a step's pull or push of the given rows: the loopback call's time as calibrated
     * (client and server), or with the launched form calibrated the server processes' measured CPU a step, spread
     * over the touched shards and split between pull and push as the loopback calls' times split.
     */
    private double serviceOf(boolean pull, double rows, int touched) {
        double p = costs.grpcPullPerCall().median() + rows * costs.grpcPullPerRow().median();
        double u = costs.grpcPushPerCall().median() + rows * costs.grpcPushPerRow().median();
        if (!launched()) return pull ? p : u;
        double share = p + u > 0 ? (pull ? p : u) / (p + u) : 0.5;
        return costs.launch().serverCpu().median() * share / touched;
    }

    /**
     * In process: the step's call for table i (of bytes each, spread over touched shards), its cpu on the worker's
     * thread first, then the next; k after the last.
     */
    private void tableCalls(int t, int i, long bytes, int touched, double cpu, Runnable k) {
        if (i == job.embTables()) {
            k.run();
            return;
        }
        host(t).run(cpu, () -> {
            double now = q.now();
            int latencies = i == 0 ? 2 : 0;
            double done = nic[t].send(now, bytes, latencies);
            for (int sh = 0; sh < touched; sh++) done = Math.max(done, embShards[sh].send(now, bytes / touched, latencies));
            q.at(resumes(done), () -> tableCalls(t, i + 1, bytes, touched, cpu, k));
        });
    }

    /**
     * In process, with the step calibrated over the emulated link: the worker's CPU for one table call (a pull or a
     * push of one table), which it spends between the call's waits rather than in its forward and backward pass —
     * what the calibrated step's worker CPU holds beyond the compute-only step's (the calls' parking and waking, the
     * shards' fan-out), spread over the step's 2 × tables calls. A step's worker CPU is unchanged (the pass is charged
     * the rest), but N trainers' calls then use the cores while the others' wait: behind a barrier the trainers do
     * not all wait with the cores idle. 0 where the step made no such calls (one local store, an ideal link) or over
     * the network (the launched costs).
     */
    static double tableCallCpu(SimJob job, SimCluster cluster, Costs costs) {
        Costs.JobStep st = costs.step();
        if (!cluster.inProcess() || job.embTables() == 0 || (st.psShards() == 1 && st.link().isIdeal())
                || (cluster.link().isIdeal() && job.psShards() == 1)) {
            return 0;
        }
        double calls = st.workerCpu().median() - costs.computeStep().median(); // in process: the in-process step's
        return Math.max(0, calls) / (2.0 * job.embTables());
    }

    private void endStep(Worker w) {
        totalSteps++;
        if (measuring) examples += job.batch(); // a step that ends as the window opens is not in it
        if (!measuring && totalSteps >= targetSteps / 5) startMeasuring();
        int t = w.trainer;
        trainerSteps[t]++;
        Runnable waiter = stepWaiter[t];
        if (waiter != null) {
            stepWaiter[t] = null;
            waiter.run();
        }
        if (algo.foreground() && ++w.sinceRound == job.sync().syncEvery()) {
            w.sinceRound = 0;
            double arrived = q.now();
            rounds.foregroundArrive(t, job.workers(), () -> {
                if (measuring) syncWait += q.now() - arrived;
                startStep(w);
            });
            return;
        }
        startStep(w);
    }

    private void startMeasuring() {
        measuring = true;
        t0 = q.now();
        for (FifoLink[] group : new FifoLink[][] {nic, syncNic, rankLinks, embShards, embShardCpu, denseShards, denseShardCpu}) {
            for (FifoLink f : group) f.measureFrom(t0);
        }
        for (CpuPool h : hosts) h.measureFrom(t0);
        for (ShardQueue f : embShardHost) f.measureFrom(t0);
        timelines.measureFrom(t0);
    }

    /** The next shadow round of a trainer, started by its workers' next step or by the pacer giving up waiting for one. */
    private final class StepWait implements Runnable {
        private final int t;
        private boolean fired;

        StepWait(int t) {
            this.t = t;
        }

        @Override
        public void run() {
            if (fired) return;
            fired = true;
            if (stepWaiter[t] == this) stepWaiter[t] = null;
            shadowLoop(t);
        }
    }

    /** The shadow: rounds in a loop on trainer t's sync thread, paced as {@code SyncPacer} paces them. */
    private void shadowLoop(int t) {
        double start = q.now();
        long stepsAtStart = trainerSteps[t];
        rounds.round(t, cpu -> {
            SyncSpec s = job.sync();
            double wait = s.syncIntervalMs() > 0 ? s.syncIntervalMs() / 1000.0 : Math.max(0, cpu / s.syncCpu() - (q.now() - start));
            q.after(wait, () -> {
                if (s.syncIntervalMs() > 0 || trainerSteps[t] != stepsAtStart) {
                    shadowLoop(t);
                    return;
                }
                // the pacer also waits for a worker step since the round began (at most MAX_STEP_WAIT)
                StepWait next = new StepWait(t);
                stepWaiter[t] = next;
                q.after(MAX_STEP_WAIT, next);
            });
        });
    }
}
