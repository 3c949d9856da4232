package io.shadowsync.sim;

import io.shadowsync.comm.LinkModel;

/**
 * Where a simulated job runs.
 *
 * @param link            every link: trainers' NICs and the servers' (bandwidth, one-way latency)
 * @param coresPerHost    cores a host gives the job (fractional: a shared machine's share)
 * @param trainersPerHost trainers that share a host's cores (0: all of them, on one host)
 * @param inProcess       the servers live in the trainers' JVM and a server call runs on the caller's thread, as in
 *                        {@code train} with an emulated network; false: servers on hosts of their own, over gRPC
 * @param stragglers      how steps vary
 * @param serversOnHost   (servers over the network only) the embedding server shards run on the trainers' host and share its
 *                        cores, as {@code launch --local} runs them; false: each shard on a host of its own
 * @param quantum         how a host's cores are shared ({@link CpuPool}): 0, processor sharing; a positive quantum
 *                        (seconds), time slices of it, as an operating system's scheduler runs threads
 */
public record SimCluster(LinkModel link, double coresPerHost, int trainersPerHost, boolean inProcess, Stragglers stragglers,
                         boolean serversOnHost, double quantum) {
    public SimCluster(LinkModel link, double coresPerHost, int trainersPerHost, boolean inProcess, Stragglers stragglers) {
        this(link, coresPerHost, trainersPerHost, inProcess, stragglers, false);
    }

    /** Hosts of processor-sharing cores. */
    public SimCluster(LinkModel link, double coresPerHost, int trainersPerHost, boolean inProcess, Stragglers stragglers, boolean serversOnHost) {
        this(link, coresPerHost, trainersPerHost, inProcess, stragglers, serversOnHost, 0);
    }

    public SimCluster {
        if (serversOnHost && (inProcess || trainersPerHost != 0)) {
            throw new IllegalArgumentException("servers share the trainers' host only over the network with every trainer on one host (trainers per host 0)");
        }
        if (link == null || stragglers == null) throw new IllegalArgumentException("a cluster needs a link model and a straggler model");
        if (!(coresPerHost > 0) || Double.isInfinite(coresPerHost)) throw new IllegalArgumentException("cores per host must be positive, got " + coresPerHost);
        if (trainersPerHost < 0) throw new IllegalArgumentException("trainers per host must be ≥ 0 (0: all on one host), got " + trainersPerHost);
        if (!(quantum >= 0) || Double.isInfinite(quantum)) throw new IllegalArgumentException("a scheduler quantum is finite and ≥ 0 seconds, got " + quantum);
    }

    /** Hosts for n trainers. */
    public int hosts(int n) {
        return trainersPerHost == 0 ? 1 : (n + trainersPerHost - 1) / trainersPerHost;
    }

    /** The host of trainer t. */
    public int hostOf(int t) {
        return trainersPerHost == 0 ? 0 : t / trainersPerHost;
    }
}
