package io.shadowsync.engine;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.sync.SyncSpec;

/**
 * A whole job in one JVM (the embedded default): N trainers, each configured by {@code trainer}, synchronized by
 * {@code sync}, with embedding tables on {@code psShards} parameter-server shards, over emulated links.
 */
public record JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link) {
    public JobConfig {
        if (trainers < 1) throw new IllegalArgumentException("--trainers must be at least 1, got " + trainers);
        if (psShards < 1) throw new IllegalArgumentException("--ps-shards must be at least 1, got " + psShards);
        if (sync.mode() == SyncSpec.Mode.SYNC_SGD && trainer.workers() * trainers < 1) throw new IllegalArgumentException("no workers");
    }
}
