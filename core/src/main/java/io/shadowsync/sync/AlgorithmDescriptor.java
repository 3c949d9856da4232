package io.shadowsync.sync;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code --sync} algorithm as the engine, the clusters, the checkpoints and the CLI see it: its name, where it runs
 * ({@link SyncSpec.Mode}), what it needs from the cluster, whether trainers may join, and how a trainer's round
 * algorithm is built. The shadow and foreground forms of a {@link RoundAlgorithm} are two descriptors with the same
 * {@link #rounds()}; {@code none}, {@code sync-sgd} and {@code async-ps} are step rules of the engine, without rounds.
 * Get them from {@link SyncAlgorithms}.
 *
 * @param rounds the round algorithm, or null for a step rule
 */
public record AlgorithmDescriptor(String name, SyncSpec.Mode mode, RoundAlgorithm rounds, String summary) {
    /** Whether the trainers need the N-rank trainer group: collective rounds, in lockstep. */
    public boolean trainerGroup() {
        return rounds != null && rounds.collective();
    }

    /** Whether a round exchanges the replica with one peer rather than reducing it over all trainers (gossip). */
    public boolean pairwise() {
        return rounds != null && rounds.pairwise();
    }

    /** Whether the job's rounds run on a sync thread beside the workers (shadow) rather than in the workers' place. */
    public boolean background() {
        return mode == SyncSpec.Mode.SHADOW;
    }

    /** Whether the workers stop every {@code syncEvery} steps for one round of their trainer (foreground). */
    public boolean foreground() {
        return mode == SyncSpec.Mode.FOREGROUND;
    }

    /** Whether a round keeps a center on the dense server (EASGD) that each trainer pulls and pushes on its own. */
    public boolean centerOnServer() {
        return rounds != null && rounds.center();
    }

    /** Whether the workers need the N·W-rank group of all workers (synchronous SGD). */
    public boolean workerGroup() {
        return mode == SyncSpec.Mode.SYNC_SGD;
    }

    /** Whether the job needs a dense parameter server: asynchronous SGD's parameters, or a round algorithm's center. */
    public boolean denseServer() {
        return mode == SyncSpec.Mode.ASYNC_PS || (rounds != null && rounds.center());
    }

    /** Whether the dense server applies gradients with the job's optimizer (asynchronous SGD) rather than holding a center. */
    public boolean serverOptimizer() {
        return mode == SyncSpec.Mode.ASYNC_PS;
    }

    /** Whether the final dense model is the dense server's (asynchronous SGD's parameters, a center) rather than trainer 0's replica. */
    public boolean modelOnServer() {
        return denseServer();
    }

    /** Whether trainers may join a running job of this algorithm (elastic {@code --join}): its rounds admit them. */
    public boolean joinable() {
        return rounds != null && rounds.joinable() && (mode == SyncSpec.Mode.SHADOW || mode == SyncSpec.Mode.FOREGROUND);
    }

    /** One trainer's round algorithm; null for a step rule (no rounds). */
    public SyncAlgorithm create(SyncContext ctx) {
        return rounds == null ? null : rounds.create(ctx);
    }

    /** Whether the rounds of a one-trainer job would change nothing; see {@link RoundAlgorithm#idleAlone}. */
    public boolean idleAlone(SyncSpec spec, int trainers) {
        return trainers == 1 && rounds != null && rounds.idleAlone(spec);
    }

    /**
     * A sentence for the user when the configuration is pointless (one trainer with an algorithm that has nobody to
     * synchronize with), or null.
     */
    public String note(SyncSpec spec, int trainers) {
        if (!idleAlone(spec, trainers)) return null;
        return "with one trainer, " + name + " has nobody to synchronize with: " + (mode == SyncSpec.Mode.SHADOW
                ? "no sync thread runs, and the job trains as with --sync none" : "its rounds leave the model as it is")
                + " (give --trainers 2 or more to synchronize)";
    }

    /** The settings that shape training (a resumed checkpoint must match them), beside the name. */
    public Map<String, String> settings(SyncSpec spec, int trainers) {
        Map<String, String> m = new LinkedHashMap<>();
        if (mode == SyncSpec.Mode.FOREGROUND) m.put("sync-every", Integer.toString(spec.syncEvery()));
        if (rounds != null) m.putAll(rounds.settings(spec, trainers));
        return m;
    }

    /** Floats per dense parameter that one trainer's synchronization keeps (snapshots, sums, state; sync-SGD's gradients). */
    public int stateFloats(int trainers, int workers) {
        if (rounds != null) return rounds.stateFloats(trainers);
        return mode == SyncSpec.Mode.SYNC_SGD ? workers : 0;
    }
}
