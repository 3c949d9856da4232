package io.shadowsync.cli;

import io.shadowsync.sim.Costs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/** {@code shadowsync calibrate JOB.yaml --out costs.json}: what the job's pieces cost on this machine, for {@code simulate}. */
@Command(name = "calibrate", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Measure on this machine what a job's pieces cost (a worker step and a process's own CPU, from runs of the job as "
                + "1 and 2 trainers in JVMs of their own; parameter-server calls in process and over loopback gRPC, codecs, a ring hop, "
                + "the cores a job gets) and write them for 'shadowsync simulate'.",
                "The job is given as to 'train' (JOB.yaml and train's flags). See docs/simulator.md."})
public final class CalibrateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where the costs go (JSON).")
    Path out;

    @Option(names = "--reps", paramLabel = "R", description = "Repetitions of every measurement (default: 5).")
    int reps = 5;

    @Option(names = "--calibrate-examples", paramLabel = "N", description = "Examples a trainer per timed training run; measure as the job "
            + "will run, its steady state is the last 60 %% of the run (default: 20000).")
    long examples = 20_000;

    @Option(names = "--launch", description = "Also measure the job as 'launch --local' runs it: one trainer process and its server processes "
            + "on this host, rows over loopback (for simulate without --in-process).")
    boolean launch;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Unmatched
    List<String> job = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync calibrate");
        var err = spec.commandLine().getErr();
        if (reps < 1) throw new UsageException("--reps must be at least 1, got " + reps);
        if (examples < 1000) throw new UsageException("--calibrate-examples must be at least 1000, got " + examples);
        new Outputs().output("--out", out).check();
        TrainCommand train = TrainFlags.parse(job, spec.commandLine().getOut(), err);
        Costs costs;
        try {
            costs = new Calibration(err, reps).measure(train, job, examples, launch);
        } catch (RuntimeException e) {
            if (verbose) e.printStackTrace(err);
            throw e;
        }
        io.shadowsync.ckpt.AtomicFiles.writeString(out, CostsFile.toJson(costs));
        err.println("shadowsync calibrate: wrote " + out + " (load average " + costs.machine().loadAverage() + " on "
                + costs.machine().cores() + " cores)");
        return 0;
    }
}
