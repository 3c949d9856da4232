package io.shadowsync.sync;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;

/**
 * What a {@link RoundAlgorithm} builds one trainer's {@link SyncAlgorithm} from: the settings, the job's size and the
 * parts of the cluster it declared it needs.
 *
 * @param spec         the user's settings ({@code --sync} and its options)
 * @param trainers     N, the number of trainers of the whole job
 * @param initial      the common initial dense parameters (every trainer is given the same values; do not write them)
 * @param trainerGroup this trainer's handle in the N-rank group of trainers, or null unless the algorithm is
 *                     {@link RoundAlgorithm#collective() collective}
 * @param center       the dense server as this trainer's sync thread reaches it, or null unless the algorithm
 *                     {@link RoundAlgorithm#center() keeps a center}
 * @param codec        the job's codec ({@code --compress}): what a round sends goes through it (the trainer group
 *                     applies it to its operations; a center's pushes take an {@link Codec#encoder} of it)
 * @param seed         the job's seed ({@code --seed}, the same in every trainer): what an algorithm draws at random
 *                     and every trainer must draw alike (gossip's random pairings) comes from it
 */
public record SyncContext(SyncSpec spec, int trainers, float[] initial, Collective trainerGroup, DenseParameterServer center,
                          Codec codec, long seed) {
    public SyncContext {
        java.util.Objects.requireNonNull(codec, "codec (Codec.FLOAT32 for none)");
    }

    /** A context whose codec is the trainer group's (float32 without one), for a job of seed 0. */
    public SyncContext(SyncSpec spec, int trainers, float[] initial, Collective trainerGroup, DenseParameterServer center) {
        this(spec, trainers, initial, trainerGroup, center, trainerGroup != null ? trainerGroup.codec() : Codec.FLOAT32, 0);
    }

    /** The number of dense parameters. */
    public int size() {
        return initial.length;
    }
}
