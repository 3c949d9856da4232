package io.shadowsync.cli;

import io.shadowsync.ckpt.ModelFileException;
import io.shadowsync.data.DataException;
import io.shadowsync.engine.TrainingException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code shadowsync} command. Exit codes: 0 success, 1 a failure inside training, 2 bad input
 * (flags, job file, data, model file), with one sentence on stderr (the stack trace too with --verbose). What the
 * library logs prints as the command's own stderr lines ({@link CliLogging}).
 */
@Command(name = "shadowsync", mixinStandardHelpOptions = true, versionProvider = Version.class, description = Main.DESCRIPTION,
        subcommands = {TrainCommand.class, TuneCommand.class, CvCommand.class, FederateCommand.class, FederateClientCommand.class, CalibrateCommand.class, SimulateCommand.class, LaunchCommand.class, TrainerCommand.class, PsCommand.class, NodeCommand.class, EvalCommand.class, PredictCommand.class, ServeCommand.class, ExportCommand.class, ReportCommand.class, GenDataCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_BAD_INPUT = 2;
    static final String DESCRIPTION = "Distributed training of CTR models and MLPs on CPUs: Hogwild workers, background synchronization.";

    /** The root command with no subcommands: {@link #commandLine(PrintWriter, PrintWriter, String[])} adds the one it runs. */
    @Command(name = "shadowsync", mixinStandardHelpOptions = true, versionProvider = Version.class, description = DESCRIPTION)
    static final class Root {}

    public static void main(String[] args) {
        // before anything touches java.util.logging: keep its handlers while the JVM shuts down (see CliLogManager)
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", CliLogManager.class.getName());
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given output streams and returns the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CliLogging.configure(err, java.util.Arrays.asList(args).contains("--verbose"));
        CommandLine cl = commandLine(out, err, args);
        try {
            attachJobFile(cl, args);
        } catch (UsageException e) {
            err.println("shadowsync: " + e.getMessage());
            err.flush();
            return EXIT_BAD_INPUT;
        } catch (java.io.IOException e) {
            err.println("shadowsync: cannot read the job file: " + describe(e));
            err.flush();
            return EXIT_BAD_INPUT;
        }
        return cl.execute(args);
    }

    /** The commands that run (part of) a job and take its job file. */
    static final java.util.Set<String> JOB_COMMANDS = java.util.Set.of("train", "tune", "cv", "federate", "launch", "trainer", "ps", "node");

    /**
     * {@code train JOB.yaml ...} (and launch, trainer, ps): the job file's values become the defaults of the
     * command, so flags given on the command line override them. The job file is the first argument after the
     * command that ends in .yaml or .yml and is not the value of an option.
     */
    static void attachJobFile(CommandLine cl, String[] args) throws java.io.IOException {
        int sub = -1;
        for (int i = 0; i < args.length; i++) {
            if (JOB_COMMANDS.contains(args[i])) {
                sub = i;
                break;
            }
            if (!args[i].startsWith("-")) return;
        }
        if (sub < 0) return;
        CommandLine train = cl.getSubcommands().get(args[sub]);
        for (int i = sub + 1; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-")) {
                var opt = train.getCommandSpec().findOption(a.contains("=") ? a.substring(0, a.indexOf('=')) : a);
                // skip the option's value; an optional one (--dashboard [PORT]) followed by JOB.yaml has none
                boolean bare = opt != null && opt.arity().min() == 0 && i + 1 < args.length && args[i + 1].matches(".*\\.ya?ml");
                if (opt != null && opt.arity().max() > 0 && !a.contains("=") && !bare) i++;
                continue;
            }
            if (a.endsWith(".yaml") || a.endsWith(".yml")) {
                train.setDefaultValueProvider(JobFile.read(java.nio.file.Path.of(a), train.getCommandSpec()));
                return;
            }
        }
    }

    /** Every command (as {@code shadowsync help} and {@code --version} see them). */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        return configure(new CommandLine(new Main()), out, err);
    }

    /**
     * The command line that runs args: when args start with a command's name (not {@code help}), the root with that one
     * command, the same as it is among all of them; otherwise every command. Building a command's model loads its
     * classes and those of its options: all 18 took 0.8 s of the main thread's CPU in a fresh JVM, one 0.35 s; a
     * trainer's start-up (2.0-2.3 s of CPU before) is 0.3-0.5 s cheaper, for every trainer, server and launcher of a job.
     */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, String[] args) {
        if (args.length > 0 && !args[0].equals("help")) {
            for (Class<?> c : Main.class.getAnnotation(Command.class).subcommands()) {
                if (c.getAnnotation(Command.class).name().equals(args[0])) {
                    return configure(new CommandLine(new Root()).addSubcommand(c), out, err);
                }
            }
        }
        return commandLine(out, err);
    }

    private static CommandLine configure(CommandLine cl, PrintWriter out, PrintWriter err) {
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // every command answers --help and -h (and --version, -V), as the top-level command does
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) sub.getCommandSpec().mixinStandardHelpOptions(true);
        }
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            boolean verbose = parseResult.hasMatchedOption("--verbose");
            Throwable root = ex instanceof TrainingException && ex.getCause() != null ? ex.getCause() : ex;
            cmd.getErr().println("shadowsync " + cmd.getCommandName() + ": " + describe(root));
            if (verbose) root.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return isBadInput(root) ? EXIT_BAD_INPUT : EXIT_FAILURE;
        });
        cl.setParameterExceptionHandler((ex, argsGiven) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("shadowsync " + cmd.getCommandName() + ": " + ex.getMessage());
            cmd.getErr().println("(see: shadowsync " + cmd.getCommandName() + " --help)");
            cmd.getErr().flush();
            return EXIT_BAD_INPUT;
        });
        return cl;
    }

    static boolean isBadInput(Throwable t) {
        return t instanceof DataException || t instanceof ModelFileException || t instanceof UsageException
                || t instanceof IllegalArgumentException || t instanceof NoSuchFileException;
    }

    static String describe(Throwable t) {
        if (t instanceof NoSuchFileException e) return e.getFile() + ": no such file";
        if (t instanceof java.nio.file.AccessDeniedException e) return e.getFile() + ": permission denied";
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
