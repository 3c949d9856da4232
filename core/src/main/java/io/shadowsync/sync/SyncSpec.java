package io.shadowsync.sync;


/**
 * How the trainers of a job synchronize: the algorithm ({@code --sync}) and its settings. The algorithms are those of
 * {@link SyncAlgorithms}, the registry; {@link #descriptor()} is this spec's, which says where it runs and what it needs.
 * Built in:
 *
 * <ul>
 *   <li>{@code s-ma}, {@code s-bmuf}, {@code s-easgd}: shadow (background) mode, a sync thread per trainer loops
 *       rounds while the workers train, at a fixed pace of {@code syncIntervalMs} when it is set, else pacing itself to
 *       at most {@code syncCpu} of its trainer's CPU and to rounds the workers have stepped between (1 = as fast as it
 *       can);</li>
 *   <li>{@code fr-ma}, {@code fr-bmuf}, {@code fr-easgd}: foreground mode, the workers of a trainer stop every
 *       {@code syncEvery} steps while their trainer runs one round;</li>
 *   <li>{@code sync-sgd}: fully synchronous data-parallel SGD, gradients averaged over all workers every step;</li>
 *   <li>{@code async-ps}: Downpour-style asynchronous SGD, dense parameters on the parameter server;</li>
 *   <li>{@code none}: independent trainers (the final model is trainer 0's).</li>
 * </ul>
 *
 * @param bmufMomentum block momentum μ; NaN = 1 − 1/N in the foreground, min(0.5, 1 − 1/N) in shadow mode (see
 *                     {@link #momentumFor})
 * @param bmufBlockLr  block learning rate ζ
 * @param easgdAlpha   elastic force α; NaN = 0.5/N
 * @param syncCpu      shadow mode without an interval: the sync thread's most share of its trainer's CPU, in (0, 1];
 *                     1 = unpaced
 * @param gossipSchedule gossip: who averages with whom each round; null = {@link GossipSchedule#DEFAULT}
 */
public record SyncSpec(String algorithm, int syncEvery, long syncIntervalMs, double bmufMomentum, double bmufBlockLr,
                       boolean nesterov, double easgdAlpha, double syncCpu, GossipSchedule gossipSchedule) {
    /** The default share of the CPU a self-paced sync thread takes at most (--sync-cpu). */
    public static final double DEFAULT_SYNC_CPU = 0.05;

    /** Where a job's synchronization runs. */
    public enum Mode { NONE, SHADOW, FOREGROUND, SYNC_SGD, ASYNC_PS }

    public SyncSpec {
        algorithm = SyncAlgorithms.get(algorithm).name(); // refuses an unknown name, naming the valid ones
        if (syncEvery < 1) throw new IllegalArgumentException("--sync-every must be at least 1 worker step, got " + syncEvery);
        if (syncIntervalMs < 0) throw new IllegalArgumentException("--sync-interval-ms must be ≥ 0, got " + syncIntervalMs);
        if (!Double.isNaN(bmufMomentum) && !(bmufMomentum >= 0 && bmufMomentum < 1)) throw new IllegalArgumentException("BMUF block momentum must be in [0, 1), got " + bmufMomentum);
        if (!(bmufBlockLr > 0) || Double.isInfinite(bmufBlockLr)) throw new IllegalArgumentException("BMUF block learning rate must be positive, got " + bmufBlockLr);
        if (!Double.isNaN(easgdAlpha) && !(easgdAlpha > 0 && easgdAlpha <= 1)) throw new IllegalArgumentException("EASGD alpha must be in (0, 1], got " + easgdAlpha);
        if (!(syncCpu > 0 && syncCpu <= 1)) throw new IllegalArgumentException("--sync-cpu must be in (0, 1], got " + syncCpu);
        if (gossipSchedule == null) gossipSchedule = GossipSchedule.DEFAULT;
    }

    /** A spec with the default gossip schedule. */
    public SyncSpec(String algorithm, int syncEvery, long syncIntervalMs, double bmufMomentum, double bmufBlockLr,
                    boolean nesterov, double easgdAlpha, double syncCpu) {
        this(algorithm, syncEvery, syncIntervalMs, bmufMomentum, bmufBlockLr, nesterov, easgdAlpha, syncCpu, null);
    }

    /** A spec whose shadow paces itself to the default CPU share when no interval is set. */
    public SyncSpec(String algorithm, int syncEvery, long syncIntervalMs, double bmufMomentum, double bmufBlockLr,
                    boolean nesterov, double easgdAlpha) {
        this(algorithm, syncEvery, syncIntervalMs, bmufMomentum, bmufBlockLr, nesterov, easgdAlpha, DEFAULT_SYNC_CPU);
    }

    /** This spec with the shadow's CPU share (1: unpaced). */
    public SyncSpec withSyncCpu(double share) {
        return new SyncSpec(algorithm, syncEvery, syncIntervalMs, bmufMomentum, bmufBlockLr, nesterov, easgdAlpha, share, gossipSchedule);
    }

    /** This spec with the gossip schedule (--gossip-schedule). */
    public SyncSpec withGossipSchedule(GossipSchedule schedule) {
        return new SyncSpec(algorithm, syncEvery, syncIntervalMs, bmufMomentum, bmufBlockLr, nesterov, easgdAlpha, syncCpu, schedule);
    }

    /** A spec with default settings for the named algorithm. */
    public static SyncSpec of(String algorithm) {
        return new SyncSpec(algorithm, 50, 0, Double.NaN, 1.0, false, Double.NaN);
    }

    /** The registry's descriptor of this spec's algorithm. */
    public AlgorithmDescriptor descriptor() {
        return SyncAlgorithms.get(algorithm);
    }

    public Mode mode() {
        return descriptor().mode();
    }

    /** The round algorithm's short name (e.g. "ma") for shadow and foreground algorithms; the algorithm otherwise. */
    public String base() {
        RoundAlgorithm r = descriptor().rounds();
        return r != null ? r.name() : algorithm;
    }

    /**
     * The block momentum for N trainers. Chen and Huo's μ = 1 − 1/N assumes a block holds many local steps, as in
     * the foreground every K steps; a shadow round holds only the few steps the workers made while it ran, and there
     * that μ amplifies the noise of the averages (measured, DLRM with 8 trainers: eval logloss 0.587 at μ = 0.875
     * against 0.526 at 0.5 and 0.527 at 0, i.e. model averaging). So shadow mode caps the default at 0.5.
     */
    public double momentumFor(int trainers) {
        if (!Double.isNaN(bmufMomentum)) return bmufMomentum;
        double chenHuo = BlockMomentum.defaultMomentum(trainers);
        return mode() == Mode.SHADOW ? Math.min(0.5, chenHuo) : chenHuo;
    }

    public double alphaFor(int trainers) {
        return Double.isNaN(easgdAlpha) ? ElasticAveraging.defaultAlpha(trainers) : easgdAlpha;
    }
}
