package io.shadowsync.sim;

import java.util.Map;

/**
 * What calibration measured on one machine ({@code shadowsync calibrate}), each cost a {@link Measure} in seconds of
 * one thread's time. The simulator charges them to the CPU of the host where the work runs.
 *
 * @param step           one worker step of the job's model and batch, compute only: forward, backward and the updates,
 *                       the embedding rows read and written in a local table (no server, no network)
 * @param rowsPerStep    distinct embedding rows one step pulls (and pushes), all tables, counted on the job's data
 * @param pullPerCall    the in-process sharded embedding server: a pull call's fixed cost (beyond the rows' copies)
 * @param pullPerRow     ... and per row pulled
 * @param pushPerCall    ... a push call's fixed cost
 * @param pushPerRow     ... and per row pushed (the row optimizer's update)
 * @param grpcPullPerCall the embedding server over loopback gRPC: a pull call (client and server), fixed part
 * @param grpcPullPerRow ... and per row
 * @param grpcPushPerCall ... a push call, fixed part
 * @param grpcPushPerRow ... and per row
 * @param encodePerFloat codec name → encoding one float (HalfCodec fp16, Int8Codec, TopKCodec)
 * @param decodePerFloat codec name → decoding (adding) one float
 * @param ringHopPerFloat one hop of the in-process ring allreduce, per float of its chunk (copy, send, add)
 * @param roundPerFloat  a round's local work per dense float (snapshot, target, write back)
 * @param applyPerFloat  the dense server applying a pushed change or gradient, per float
 * @param wakeup         how much later than asked a thread that waits out an emulated link's delay runs again (the
 *                       host's timer and scheduler; large on a loaded machine); charged to every emulated wait in process
 * @param effectiveCores cores this machine gave a job of many threads when calibrated (below its cores when shared)
 * @param machine        where it was measured
 */
public record Costs(Measure step, double rowsPerStep, Measure pullPerCall, Measure pullPerRow, Measure pushPerCall,
                    Measure pushPerRow, Measure grpcPullPerCall, Measure grpcPullPerRow, Measure grpcPushPerCall,
                    Measure grpcPushPerRow, Map<String, Measure> encodePerFloat, Map<String, Measure> decodePerFloat,
                    Measure ringHopPerFloat, Measure roundPerFloat, Measure applyPerFloat, Measure wakeup, double effectiveCores,
                    Machine machine) {
    /** The machine a calibration ran on. */
    public record Machine(int cores, String jdk, String os, double loadAverage, String when) {}

    public Costs {
        if (!(rowsPerStep >= 0)) throw new IllegalArgumentException("rows per step must be ≥ 0, got " + rowsPerStep);
        if (!(effectiveCores > 0)) throw new IllegalArgumentException("effective cores must be positive, got " + effectiveCores);
        encodePerFloat = Map.copyOf(encodePerFloat);
        decodePerFloat = Map.copyOf(decodePerFloat);
    }

    /** Encoding one float with the named codec; 0 for float32 (a copy, inside the hop's cost). */
    public double encode(String codec) {
        return perFloat(encodePerFloat, codec, "encode");
    }

    /** Decoding one float with the named codec; 0 for float32. */
    public double decode(String codec) {
        return perFloat(decodePerFloat, codec, "decode");
    }

    private static double perFloat(Map<String, Measure> m, String codec, String what) {
        if (codec.equals("float32")) return 0;
        Measure c = m.get(codec);
        if (c == null) {
            c = m.get(codec.replaceAll(":.*", "")); // topk:0.01 → topk, int8:stochastic → int8
        }
        if (c == null) throw new IllegalArgumentException("the costs hold no " + what + " cost for codec '" + codec + "' (calibrated: " + m.keySet() + ")");
        return c.median();
    }
}
