package io.shadowsync.sim;

import io.shadowsync.comm.Codec;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncSpec;

/**
 * The job a simulation runs, as the engine would (from {@code train}'s flags and job file): how it synchronizes, the
 * shape of one step's traffic, and the codec.
 *
 * @param sync        the algorithm and its settings (sync-every, the interval or CPU share, gossip's schedule); what
 *                    it does is asked of its {@link AlgorithmDescriptor}
 * @param workers     Hogwild workers per trainer
 * @param batch       examples per worker step
 * @param denseFloats dense parameters (what a round or an async-PS step moves)
 * @param embTables   embedding tables (0: none, no embedding server traffic)
 * @param embDim      floats per embedding row
 * @param psShards    embedding (and dense) server shards
 * @param codec       how rounds, rings, the dense server and async-PS pushes put values on the wire
 */
public record SimJob(SyncSpec sync, int workers, int batch, int denseFloats, int embTables, int embDim, int psShards, Codec codec) {
    public SimJob {
        if (sync == null || codec == null) throw new IllegalArgumentException("a simulated job needs a sync spec and a codec");
        if (workers < 1 || batch < 1 || denseFloats < 1 || psShards < 1) {
            throw new IllegalArgumentException("workers, batch, dense floats and shards are at least 1, got " + workers + ", "
                    + batch + ", " + denseFloats + ", " + psShards);
        }
        if (embTables < 0 || embDim < 0) throw new IllegalArgumentException("embedding tables and dimension are ≥ 0, got " + embTables + ", " + embDim);
    }

    public AlgorithmDescriptor algorithm() {
        return sync.descriptor();
    }

    /** This job with another algorithm (its settings kept). */
    public SimJob with(String algorithm) {
        SyncSpec s = new SyncSpec(algorithm, sync.syncEvery(), sync.syncIntervalMs(), sync.bmufMomentum(), sync.bmufBlockLr(),
                sync.nesterov(), sync.easgdAlpha(), sync.syncCpu(), sync.gossipSchedule());
        return new SimJob(s, workers, batch, denseFloats, embTables, embDim, psShards, codec);
    }
}
