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

    /**
     * args without the named flags and their values (as train's options take them: {@code --flag value} or
     * {@code --flag=value}), to be given again by the caller.
     */
    static List<String> without(List<String> args, java.util.Set<String> flags) {
        var spec = new CommandLine(new TrainCommand()).getCommandSpec();
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            var opt = a.startsWith("-") ? spec.findOption(name) : null;
            boolean takesNext = opt != null && !a.contains("=") && opt.arity().max() > 0 && i + 1 < args.size()
                    && (opt.arity().min() > 0 || !args.get(i + 1).startsWith("-"));
            if (opt != null && flags.contains(opt.longestName())) {
                if (takesNext) i++;
                continue;
            }
            out.add(a);
            if (takesNext) out.add(args.get(++i));
        }
        return out;
    }
}
