package io.shadowsync.net.run;

import java.time.Duration;

/**
 * What every process of one multi-process job is given alike besides its {@link io.shadowsync.api.TrainingJob}: they
 * all take part in the job's {@linkplain JobTerms#digest digest}, which the rendezvous compares.
 *
 * @param psReplicas  copies of every parameter-server shard (1: none), at most the job's shards
 * @param inMemory    whether the trainers read their data from memory (it shapes the data positions a checkpoint holds)
 * @param checkpoints the job's checkpoints, or null for none
 * @param straggler   elastic trainers: how long a sync round waits for one trainer before the others go on without it;
 *                    null: not elastic (every trainer is needed to the end)
 */
public record JobOptions(int psReplicas, boolean inMemory, CheckpointOptions checkpoints, Duration straggler) {
    public JobOptions {
        if (psReplicas < 1) throw new IllegalArgumentException("--ps-replicas must be at least 1 (1: no copies), got " + psReplicas);
        if (straggler != null && (straggler.isZero() || straggler.isNegative())) {
            throw new IllegalArgumentException("--straggler-timeout must be positive, got " + straggler);
        }
        if (straggler != null && checkpoints != null) {
            throw new IllegalArgumentException("--elastic and --checkpoint-dir do not go together yet: a job survives a trainer's death with --elastic, or a "
                    + "whole-job crash with checkpoints; pick one");
        }
    }

    /** No replicas, streamed data, no checkpoints, not elastic. */
    public static JobOptions defaults() {
        return new JobOptions(1, false, null, null);
    }

    /** Whether the job's trainers are elastic. */
    public boolean elastic() {
        return straggler != null;
    }

    public JobOptions withPsReplicas(int r) {
        return new JobOptions(r, inMemory, checkpoints, straggler);
    }

    public JobOptions withInMemory(boolean m) {
        return new JobOptions(psReplicas, m, checkpoints, straggler);
    }

    public JobOptions withCheckpoints(CheckpointOptions c) {
        return new JobOptions(psReplicas, inMemory, c, straggler);
    }

    /** Elastic trainers with this straggler timeout (null: not elastic). */
    public JobOptions withElastic(Duration stragglerTimeout) {
        return new JobOptions(psReplicas, inMemory, checkpoints, stragglerTimeout);
    }
}
