package io.shadowsync.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;

/**
 * {@code train}'s flags and job file, parsed for another command ({@code calibrate}, {@code simulate}) exactly as
 * {@code train} parses them, so that the job those commands measure or simulate is the job {@code train} runs.
 */
final class TrainFlags {
    private TrainFlags() {}

    /** A train command holding args (a JOB.yaml among them, as for train) parsed; bad flags are refused naming them. */
    static TrainCommand parse(List<String> args, PrintWriter out, PrintWriter err) throws java.io.IOException {
        CommandLine train = new CommandLine(new TrainCommand());
        train.setOut(out);
        train.setErr(err);
        train.setCaseInsensitiveEnumValuesAllowed(true);
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("-")) {
                var opt = train.getCommandSpec().findOption(a.contains("=") ? a.substring(0, a.indexOf('=')) : a);
                if (opt != null && opt.arity().max() > 0 && !a.contains("=")) i++;
                continue;
            }
            if (a.endsWith(".yaml") || a.endsWith(".yml")) {
                train.setDefaultValueProvider(JobFile.read(Path.of(a), train.getCommandSpec()));
                break;
            }
        }
        try {
            train.parseArgs(args.toArray(new String[0]));
        } catch (CommandLine.ParameterException e) {
            throw new UsageException(e.getMessage() + " (the job's flags are train's: see shadowsync train --help)");
        }
        return train.getCommand();
    }
}
