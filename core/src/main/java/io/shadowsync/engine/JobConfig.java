package io.shadowsync.engine;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.RowCodec;
import io.shadowsync.sync.SyncSpec;

/**
 * A whole job in one JVM (the embedded default): N trainers, each configured by {@code trainer}, synchronized by
 * {@code sync}, with embedding tables on {@code psShards} parameter-server shards, over emulated links.
 *
 * @param slow  an emulated straggler (testing and benchmarks), or null for none
 * @param codec how sync rounds, the trainers' (and sync-SGD workers') collectives, and pushes to the dense server put
 *              values on the wire ({@code --compress}; null: {@link Codec#FLOAT32}, the identity); control values never
 *              go through it
 * @param rowCodec how embedding rows travel to and from the parameter servers: pulled values and pushed gradients
 *              ({@code --compress-rows}; null: {@link RowCodec#FLOAT32}); the servers keep rows and optimizer state in float32
 */
public record JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link, SlowTrainer slow,
                        Codec codec, RowCodec rowCodec) {
    /** The most trainers a job takes: each is threads and a replica, and a sync round's cost grows with their number. */
    public static final int MAX_TRAINERS = 1024;
    /** The most parameter-server shards a job takes. */
    public static final int MAX_PS_SHARDS = 1024;

    public JobConfig {
        if (codec == null) codec = Codec.FLOAT32;
        if (rowCodec == null) rowCodec = RowCodec.FLOAT32;
        if (trainers < 1) throw new IllegalArgumentException("--trainers must be at least 1, got " + trainers);
        if (trainers > MAX_TRAINERS) throw new IllegalArgumentException("--trainers must be at most " + MAX_TRAINERS + ", got " + trainers);
        if (psShards < 1) throw new IllegalArgumentException("--ps-shards must be at least 1, got " + psShards);
        if (psShards > MAX_PS_SHARDS) throw new IllegalArgumentException("--ps-shards must be at most " + MAX_PS_SHARDS + ", got " + psShards);
        if (sync.descriptor().workerGroup() && trainer.workers() * trainers < 1) throw new IllegalArgumentException("no workers");
        if (slow != null && slow.trainer() >= trainers) {
            throw new IllegalArgumentException("the slow trainer is trainer " + slow.trainer() + ", but the job's trainers are 0.." + (trainers - 1));
        }
    }

    /** A job whose rows travel in float32. */
    public JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link, SlowTrainer slow,
                     Codec codec) {
        this(trainers, trainer, sync, psShards, link, slow, codec, RowCodec.FLOAT32);
    }

    /** A job whose collectives send float32 (the identity codec). */
    public JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link, SlowTrainer slow) {
        this(trainers, trainer, sync, psShards, link, slow, Codec.FLOAT32);
    }

    /** This job with another codec for its collectives. */
    public JobConfig withCodec(Codec c) {
        return new JobConfig(trainers, trainer, sync, psShards, link, slow, c, rowCodec);
    }

    /** This job with another codec for its embedding rows. */
    public JobConfig withRowCodec(RowCodec c) {
        return new JobConfig(trainers, trainer, sync, psShards, link, slow, codec, c);
    }

    /** A job without an emulated straggler. */
    public JobConfig(int trainers, TrainerConfig trainer, SyncSpec sync, int psShards, LinkModel link) {
        this(trainers, trainer, sync, psShards, link, null);
    }
}
