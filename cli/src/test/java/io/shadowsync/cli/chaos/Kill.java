package io.shadowsync.cli.chaos;

/**
 * What a chaos trial kills with SIGKILL ({@link Process#destroyForcibly()}): nothing gets to clean up, no shutdown hook
 * runs, a file being written stays as far as it got. Each kind says whether this build can run it; {@link ChaosTest}
 * draws only the available ones. A new kind (once elastic trainers and replicated servers land) is a constant here
 * plus its case in {@link ChaosTest#killOnce}.
 */
enum Kill {
    /** The embedded job ({@code shadowsync train}, one JVM, trainers as threads) at a moment uniform over its run. */
    WHOLE_JOB(true, "whole job"),
    /**
     * The embedded job the moment a new {@code ckpt-<seq>/} without its {@code MANIFEST} appears (a checkpoint being
     * written); whether the kill really landed before the manifest is judged afterwards, from the directory.
     */
    DURING_CHECKPOINT_WRITE(true, "mid-checkpoint"),
    /** One trainer process of {@code launch --local N}; its peers go on (needs elastic trainers). */
    TRAINER(false, "one trainer"),
    /** One parameter-server process; with {@code --ps-replicas R} a replica serves on (needs replication). */
    SERVER(false, "one server");

    /** Whether this build has what the kind needs. */
    final boolean available;
    /** The kind in the report's table. */
    final String label;

    Kill(boolean available, String label) {
        this.available = available;
        this.label = label;
    }
}
