package io.shadowsync.engine;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.sync.SyncSpec;

/**
 * A whole job in one JVM (the embedded default): N trainers, each configured by {@code trainer}, synchronized by
 * {@code sync}, with embedding tables on {@code psShards} parameter-server shards, over emulated links.
 *
 * @param slow an emulated straggler (testing and benchmarks), or null for none
 */
public record JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link, SlowTrainer slow) {
    public JobConfig {
        if (trainers < 1) throw new IllegalArgumentException("--trainers must be at least 1, got " + trainers);
        if (psShards < 1) throw new IllegalArgumentException("--ps-shards must be at least 1, got " + psShards);
        if (sync.mode() == SyncSpec.Mode.SYNC_SGD && trainer.workers() * trainers < 1) throw new IllegalArgumentException("no workers");
        if (slow != null && slow.trainer() >= trainers) {
            throw new IllegalArgumentException("the slow trainer is trainer " + slow.trainer() + ", but the job's trainers are 0.." + (trainers - 1));
        }
    }

    /** A job without an emulated straggler. */
    public JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link) {
        this(trainers, trainer, sync, psShards, link, null);
    }
}
