package io.shadowsync.sim;

import io.shadowsync.comm.Codec;
import io.shadowsync.sync.SyncSpec;
import java.util.Map;

/** Costs and jobs for the simulator's tests: everything free but the worker step, unless a test says otherwise. */
final class SimFixtures {
    private SimFixtures() {}

    static final Measure ZERO = new Measure(0, 0);

    static Costs costs(double step) {
        return costs(Costs.JobStep.computeOnly(new Measure(step, 0)), 2);
    }

    /** Costs with the given calibrated step on a machine of the given cores; everything else free. */
    static Costs costs(Costs.JobStep step, int cores) {
        return new Costs(step, step.wall(), 100, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, Map.of(), Map.of(), ZERO, ZERO, ZERO, ZERO,
                new Costs.Machine(cores, "test", "test", 0, "now"));
    }

    /** A job of the given algorithm: one worker per trainer, batch 100, the given dense floats, no embedding tables. */
    static SimJob job(String algorithm, int syncEvery, int denseFloats) {
        SyncSpec s = new SyncSpec(algorithm, syncEvery, 0, Double.NaN, 1, false, Double.NaN, 0.05);
        return new SimJob(s, 1, 100, denseFloats, 0, 0, 1, Codec.FLOAT32);
    }
}
