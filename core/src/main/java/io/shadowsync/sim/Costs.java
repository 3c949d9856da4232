package io.shadowsync.sim;

import io.shadowsync.comm.LinkModel;
import java.util.Map;

/**
 * What calibration measured on one machine ({@code shadowsync calibrate}), each cost a {@link Measure} in seconds of
 * one thread's time. The simulator charges them to the CPU of the host where the work runs.
 *
 * @param step           the job's own worker step, from short real runs of the job as one and two trainers (its
 *                       workers, its servers and emulated link, no sync): wall time, CPU time per step and per process,
 *                       and the calibrated configuration
 * @param computeStep    one worker step of the job's model and batch in isolation, compute only: forward, backward and
 *                       the updates, the embedding rows read and written in a local table (no server, no network), for
 *                       reference; the simulator does not use it
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
 * @param machine        where it was measured
 * @param launch         the job as {@code launch --local} runs it (a trainer process, its server processes), or null
 *                       where not calibrated: then the servers over the network cost the loopback calls' times
 */
public record Costs(JobStep step, Measure computeStep, double rowsPerStep, Measure pullPerCall, Measure pullPerRow, Measure pushPerCall,
                    Measure pushPerRow, Measure grpcPullPerCall, Measure grpcPullPerRow, Measure grpcPushPerCall,
                    Measure grpcPushPerRow, Map<String, Measure> encodePerFloat, Map<String, Measure> decodePerFloat,
                    Measure ringHopPerFloat, Measure roundPerFloat, Measure applyPerFloat, Measure wakeup, Machine machine, Launched launch) {
    /** The machine a calibration ran on. */
    public record Machine(int cores, String jdk, String os, double loadAverage, String when) {}

    /**
     * The job's worker step as runs of the job measured it in their steady state (seconds per worker step, medians
     * over the repetitions), its CPU split into what every trainer's steps cost and what its process costs however
     * many trainers it holds.
     *
     * @param wall       wall time of one worker step of one trainer alone: workers × batch over its examples/s (waiting
     *                   for batches and for the servers' emulated link included)
     * @param cpu        CPU time per worker step that the step itself costs: the worker, the reader, the in-process
     *                   server calls, the garbage it makes; N trainers' steps cost N times it
     * @param workerCpu  the worker threads' own CPU time per worker step (a part of cpu)
     * @param processCpu the process's own CPU, in cores, whatever its trainers do: the JIT compiling, the metrics, the
     *                   timers; charged once per process (N trainers in one JVM share it)
     * @param workers    the run's workers (the job's)
     * @param psShards   the run's embedding server shards (1 with an ideal link: one local table store)
     * @param link       the run's emulated link (the job's {@code --net-bandwidth} and {@code --net-latency})
     * @param stepCv     how much one worker step's time varies, step to step (its coefficient of variation), or null
     *                   where not measured: simulate's default stragglers
     */
    public record JobStep(Measure wall, Measure cpu, Measure workerCpu, Measure processCpu, int workers, int psShards, LinkModel link,
                          Measure stepCv) {
        public JobStep {
            if (stepCv != null && !(stepCv.median() >= 0)) throw new IllegalArgumentException("a step's coefficient of variation must be ≥ 0, got " + stepCv.median());
            if (wall == null || cpu == null || workerCpu == null || processCpu == null || link == null) {
                throw new IllegalArgumentException("a job step needs its wall, CPU, process CPU and link");
            }
            if (workers < 1 || psShards < 1) throw new IllegalArgumentException("a calibrated step has at least 1 worker and 1 shard, got " + workers + ", " + psShards);
            if (workerCpu.median() > cpu.median() * (1 + 1e-9)) {
                throw new IllegalArgumentException("the workers' CPU per step (" + workerCpu.median() + " s) exceeds the step's (" + cpu.median() + " s)");
            }
        }

        /** A step without a measure of how its time varies. */
        public JobStep(Measure wall, Measure cpu, Measure workerCpu, Measure processCpu, int workers, int psShards, LinkModel link) {
            this(wall, cpu, workerCpu, processCpu, workers, psShards, link, null);
        }

        /**
         * How a step's time varies for the simulation's default stragglers: the measured step-to-step coefficient, or
         * without one the spread of the step's wall time between repetitions (which is smaller: it is of medians).
         */
        public double variation() {
            return stepCv != null ? stepCv.median() : wall.relativeSpread();
        }

        /** A step without a per-process part (a costs file of format 2, and tests): all of the CPU is the step's. */
        public JobStep(Measure wall, Measure cpu, Measure workerCpu, int workers, int psShards, LinkModel link) {
            this(wall, cpu, workerCpu, new Measure(0, 0), workers, psShards, link);
        }

        /** A step of s seconds of one worker's CPU and nothing else, on one local store with an ideal link (tests, estimates). */
        public static JobStep computeOnly(Measure s) {
            return new JobStep(s, s, s, 1, 1, LinkModel.NONE);
        }
    }

    /** Costs without the launched form. */
    public Costs(JobStep step, Measure computeStep, double rowsPerStep, Measure pullPerCall, Measure pullPerRow, Measure pushPerCall,
                 Measure pushPerRow, Measure grpcPullPerCall, Measure grpcPullPerRow, Measure grpcPushPerCall,
                 Measure grpcPushPerRow, Map<String, Measure> encodePerFloat, Map<String, Measure> decodePerFloat,
                 Measure ringHopPerFloat, Measure roundPerFloat, Measure applyPerFloat, Measure wakeup, Machine machine) {
        this(step, computeStep, rowsPerStep, pullPerCall, pullPerRow, pushPerCall, pushPerRow, grpcPullPerCall, grpcPullPerRow, grpcPushPerCall,
                grpcPushPerRow, encodePerFloat, decodePerFloat, ringHopPerFloat, roundPerFloat, applyPerFloat, wakeup, machine, null);
    }

    /**
     * The job as {@code launch --local} runs it, from runs of one trainer process and its server processes on this
     * host (rows over loopback row lanes), in their steady state; seconds per worker step of the trainer. Every
     * process's own CPU is the step's {@link JobStep#processCpu()} and is not in these.
     *
     * @param wall      wall time of a worker step of the one trainer
     * @param cpu       the trainer process's CPU per worker step
     * @param workerCpu its worker threads' own (a part of cpu)
     * @param serverCpu the server processes' CPU per worker step of the trainer, all shards, the step's pull and push
     * @param psShards  the server processes (shards) of those runs
     */
    public record Launched(Measure wall, Measure cpu, Measure workerCpu, Measure serverCpu, int psShards) {
        public Launched {
            if (wall == null || cpu == null || workerCpu == null || serverCpu == null) throw new IllegalArgumentException("a launched step needs its wall and CPU");
            if (psShards < 1) throw new IllegalArgumentException("a launched step has at least 1 server shard, got " + psShards);
            if (workerCpu.median() > cpu.median() * (1 + 1e-9)) {
                throw new IllegalArgumentException("the launched workers' CPU per step (" + workerCpu.median() + " s) exceeds the trainer's (" + cpu.median() + " s)");
            }
        }
    }

    public Costs {
        if (step == null || computeStep == null || machine == null) throw new IllegalArgumentException("costs need a step, a compute step and a machine");
        if (!(rowsPerStep >= 0)) throw new IllegalArgumentException("rows per step must be ≥ 0, got " + rowsPerStep);
        if (machine.cores() < 1) throw new IllegalArgumentException("the calibrated machine has at least 1 core, got " + machine.cores());
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
