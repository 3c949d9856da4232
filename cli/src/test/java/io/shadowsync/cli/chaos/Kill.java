package io.shadowsync.cli.chaos;

/**
 * What a chaos trial kills with SIGKILL ({@link Process#destroyForcibly()}): nothing gets to clean up, no shutdown hook
 * runs, a file being written stays as far as it got. Each kind says whether this build can run it; {@link ChaosTest}
 * draws only the available ones. A new kind is a constant here plus its case in {@link ChaosTest#killOnce}.
 *
 * <p>The kills of one process of a multi-process job have their own harnesses, because they need other set-ups than
 * this checkpointed embedded job: one trainer ({@code ElasticProcessTest}: SIGKILL of a trainer JVM of
 * {@code launch --elastic}, with and without {@code --respawn}), one server ({@code ReplicationProcessTest}: SIGKILL
 * of a {@code ps} JVM under {@code --ps-replicas 2}; {@code ReplicationTest}: seeded crash trials that count every
 * acknowledged update in the rows afterwards).
 */
enum Kill {
    /** The embedded job ({@code shadowsync train}, one JVM, trainers as threads) at a moment uniform over its run. */
    WHOLE_JOB(true, "whole job"),
    /**
     * The embedded job the moment a new {@code ckpt-<seq>/} without its {@code MANIFEST} appears (a checkpoint being
     * written); whether the kill really landed before the manifest is judged afterwards, from the directory.
     */
    DURING_CHECKPOINT_WRITE(true, "mid-checkpoint");

    /** Whether this build has what the kind needs. */
    final boolean available;
    /** The kind in the report's table. */
    final String label;

    Kill(boolean available, String label) {
        this.available = available;
        this.label = label;
    }
}
