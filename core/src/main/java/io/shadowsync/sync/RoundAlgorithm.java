package io.shadowsync.sync;

import java.util.Map;

/**
 * The definition of a synchronization algorithm that runs in rounds ({@link SyncAlgorithm}): one definition gives both
 * of its {@code --sync} names, {@code s-NAME} (shadow: a sync thread per trainer loops rounds while the workers train)
 * and {@code fr-NAME} (foreground: the workers of a trainer stop every {@code --sync-every} steps for one round). It
 * says what the algorithm needs from the cluster, whether trainers may join a running job, how to build one trainer's
 * instance, and what of its settings a checkpoint must match. The algorithm's checkpoint state is its instances'
 * {@link SyncAlgorithm#state()}.
 *
 * <p>Register one with {@link SyncAlgorithms#register}, or list its class (with a public no-argument constructor) in a
 * {@code META-INF/services/io.shadowsync.sync.RoundAlgorithm} file on the class path: the engine, the checkpoints, the
 * CLI and the test suites that iterate {@link SyncAlgorithms#all()} then run it like the built-in ones.
 */
public interface RoundAlgorithm {
    /** The short name, e.g. "ma": lower case, without the {@code s-}/{@code fr-} prefix. */
    String name();

    /** One line for the help text, e.g. "model averaging". */
    String summary();

    /**
     * Whether every trainer takes part in every round, in lockstep, over the N-rank trainer group
     * ({@link SyncContext#trainerGroup()}). Such rounds return how many trainers are still training, and the last one
     * (every trainer's workers done) must leave every replica with the same bits (see {@link SyncAlgorithm}).
     */
    boolean collective();

    /**
     * Whether the algorithm keeps a center on the dense parameter server ({@link SyncContext#center()}); the job's final
     * model is then the center, not trainer 0's replica.
     */
    default boolean center() {
        return false;
    }

    /**
     * Whether a round exchanges the replica with one peer (a pairwise exchange over the trainer group) rather than
     * reducing it over every trainer: what a round sends and how long it takes no longer grow with N (the scaling
     * simulator asks this).
     */
    default boolean pairwise() {
        return false;
    }

    /** Whether a trainer may join a running job (elastic {@code --join}): the rounds admit newcomers and hand them the state. */
    default boolean joinable() {
        return false;
    }

    /** Builds one trainer's instance. */
    SyncAlgorithm create(SyncContext ctx);

    /**
     * Whether rounds with one trainer would change nothing (nobody to synchronize with): such a job says so instead of
     * silently training as with {@code none}, and runs no shadow loop. By default, a collective algorithm's.
     */
    default boolean idleAlone(SyncSpec spec) {
        return collective();
    }

    /** The settings of spec that shape the training (a resumed checkpoint must match them), e.g. BMUF's momentum for N trainers. */
    default Map<String, String> settings(SyncSpec spec, int trainers) {
        return Map.of();
    }

    /** Floats per dense parameter that one trainer's instance keeps (snapshot, sums, state), for the memory estimate. */
    int stateFloats(int trainers);
}
