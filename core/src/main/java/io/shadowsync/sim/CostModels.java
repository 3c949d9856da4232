package io.shadowsync.sim;

/**
 * Closed forms of what the simulation does step by step, to check it against (and for a quick estimate): the ring
 * allreduce, single-server queues, and the expected slowest of N stragglers. Times in seconds, sizes in bytes.
 */
public final class CostModels {
    private CostModels() {}

    /**
     * A ring allreduce of {@code bytes} over n ranks whose links have the given bandwidth (bytes/s) and one-way
     * latency: reduce-scatter then all-gather, 2(n−1) steps each moving 1/n of the data on every link,
     * {@code 2(n−1)/n · S/B + 2(n−1) · latency} (0 for one rank).
     */
    public static double ringAllReduce(int n, double bytes, double bandwidth, double latency) {
        if (n < 1) throw new IllegalArgumentException("a ring has at least 1 rank, got " + n);
        if (n == 1) return 0;
        return 2.0 * (n - 1) / n * bytes / bandwidth + 2.0 * (n - 1) * latency;
    }

    /** A queue's utilisation ρ = λ·s: arrivals per second times the mean service time. */
    public static double utilisation(double arrivalsPerSecond, double meanService) {
        return arrivalsPerSecond * meanService;
    }

    /** M/D/1 (Poisson arrivals, fixed service s): mean wait in the queue ρ·s / (2(1 − ρ)); infinite when ρ ≥ 1. */
    public static double md1MeanWait(double arrivalsPerSecond, double service) {
        double rho = utilisation(arrivalsPerSecond, service);
        return rho >= 1 ? Double.POSITIVE_INFINITY : rho * service / (2 * (1 - rho));
    }

    /** M/M/1 (Poisson arrivals, exponential service of mean s): mean wait in the queue ρ·s / (1 − ρ); infinite when ρ ≥ 1. */
    public static double mm1MeanWait(double arrivalsPerSecond, double meanService) {
        double rho = utilisation(arrivalsPerSecond, meanService);
        return rho >= 1 ? Double.POSITIVE_INFINITY : rho * meanService / (1 - rho);
    }

    /** The n-th harmonic number H_n = 1 + 1/2 + … + 1/n. */
    public static double harmonic(int n) {
        double h = 0;
        for (int i = n; i >= 1; i--) h += 1.0 / i;
        return h;
    }

    /** The expected largest of n independent exponential delays of the given mean: mean · H_n (a barrier waits for it). */
    public static double expectedMaxExponential(int n, double mean) {
        if (n < 1) throw new IllegalArgumentException("the largest of n ≥ 1 delays, got n = " + n);
        return mean * harmonic(n);
    }
}
