package io.shadowsync.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Server;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.TokenFile;
import io.shadowsync.net.Transport;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.Groups;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.Launcher;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync launch --local N [--ps S] [JOB.yaml] [train flags]}: the whole job as separate processes on this
 * host — S parameter-server shards and N trainers, each a JVM, meeting at a coordinator this process runs on
 * 127.0.0.1. Their logs stream here with a prefix; when one fails (or on Ctrl-C) all are stopped. The summary is
 * trainer 0's, which is the same as {@code train}'s in-process summary plus {@code processes}.
 */
@Command(name = "launch", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Run the job as separate local processes (S parameter servers + N trainers) over gRPC on 127.0.0.1.",
                "Takes every flag train takes. The last line on stdout is trainer 0's (--elastic: the leader's) JSON summary plus \"processes\"."})
public final class LaunchCommand extends JobCommand implements Callable<Integer> {
    @Option(names = "--local", paramLabel = "N", required = true, description = "Trainer processes to start on this host.")
    int local;

    @Option(names = "--ps", paramLabel = "S", description = "Parameter-server processes (shards) to start (default: --ps-shards, 1).")
    Integer ps;

    @Option(names = "--colocate", description = "Run parameter-server shard i inside trainer i's JVM (trainer --host-shard i) for i < min(N, S): "
            + "--local 2 --ps 2 starts 2 processes, not 4; shards beyond N still get their own.")
    boolean colocate;

    @Option(names = "--respawn", paramLabel = "R", description = "With --elastic: start a trainer that died again, as 'trainer --join', "
            + "at most R times in all (default: 0, the others go on without it).")
    int respawn;

    @Option(names = "--stop-grace", paramLabel = "SEC", description = "When stopping the processes, seconds to wait after SIGTERM before killing them (default: 5).")
    double stopGrace = 5;

    @Mixin
    NetOptions net = new NetOptions();

    /** Set by the shutdown hook: the processes are being stopped in order. */
    private volatile boolean stopping;

    /** Options this command sets for its children itself (with their arity: 1 takes a value). */
    private static final Map<String, Integer> OWN = Map.ofEntries(Map.entry("--local", 1), Map.entry("--ps", 1),
            Map.entry("--stop-grace", 1), Map.entry("--respawn", 1), Map.entry("--trainers", 1), Map.entry("--ps-shards", 1), Map.entry("--summary-json", 1),
            Map.entry("--coordinator", 1), Map.entry("--start-coordinator", 0), Map.entry("--listen", 1), Map.entry("--peers", 1),
            Map.entry("--servers", 1), Map.entry("--rank", 1), Map.entry("--shard", 1), Map.entry("--advertise", 1),
            Map.entry("--colocate", 0), Map.entry("--host-shard", 1));

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync launch");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (local < 1) throw new UsageException("--local must be at least 1, got " + local);
        if (spec.commandLine().getParseResult().hasMatchedOption("--trainers") && trainers != local) {
            throw new UsageException("--trainers " + trainers + " disagrees with --local " + local + ": give one of them");
        }
        trainers = local;
        if (ps != null) psShards = ps;
        if (colocate && psShards < 1) throw new UsageException("--colocate puts the parameter servers into the trainers: --ps must be at least 1, got " + psShards);
        if (psShards < 1) throw new UsageException("--ps must be at least 1, got " + psShards);
        if (respawn < 0) throw new UsageException("--respawn must be zero or positive, got " + respawn);
        if (respawn > 0 && !net.elastic) throw new UsageException("--respawn needs --elastic: a restarted trainer joins a running job only with elastic trainers");
        if (colocate && net.elastic) {
            throw new UsageException("--colocate does not work with --elastic: elastic trainers come and go, and a shard that dies with its trainer takes its rows along");
        }
        if (colocate && checkpointDir != null) {
            throw new UsageException("--colocate and --checkpoint-dir do not go together yet: on a signal each trainer writes a final checkpoint and ends, "
                    + "and its shard must outlive it for the others' part; leave out --colocate");
        }
        if (!(stopGrace >= 0)) throw new UsageException("--stop-grace must be zero or positive, got " + stopGrace);
        checkFiles(); // trainer 0 writes --save and --summary-json here: refuse a bad one before starting anything
        Plan plan = plan(err, false); // refuse bad flags here, before starting anything
        if (net.elastic) TrainerCommand.refuseElasticCheckpoints(checkpointDir);
        if (checkpointDir != null) lockCheckpoints().close(); // trainer 0 takes it for the job; a busy one is refused now
        if (respawn > 0 && !TrainerCommand.joinable(plan)) {
            throw new UsageException("--respawn needs a collective sync algorithm (s-ma, s-bmuf, or their foreground forms): a restarted trainer "
                    + "is admitted at their rounds; with " + plan.algorithm() + " the others finish without a dead one");
        }
        if (!net.listenAddress().host().equals("127.0.0.1") && !net.listenAddress().host().equals("localhost")) {
            throw new UsageException("launch --local runs every process on 127.0.0.1; --listen " + net.listen + " is for 'shadowsync trainer' and 'ps' across hosts");
        }

        if (net.tokenFile == null && net.tlsCert == null) {
            // loopback is shared by every user of the host: without a secret any of them could read rows or stop the
            // servers; the children get the file's path (only this user can read it), never the token itself
            generatedToken = TokenFile.generate(Path.of(System.getProperty("java.io.tmpdir")));
            net.tokenFile = generatedToken;
            // removed at the end below; should this process fail before, at its exit (the file first, then its directory)
            generatedToken.getParent().toFile().deleteOnExit();
            generatedToken.toFile().deleteOnExit();
        }
        Transport transport = new Transport(net.config(err));
        Coordinator rdv = new Coordinator(local, psShards, net.rendezvousTimeout());
        Groups groups = new Groups(rdv, net.regroupWindow());
        Server coordinator = transport.serve(0, List.of(rdv, groups));
        HostPort coord = new HostPort("127.0.0.1", coordinator.getPort());
        List<String> passOn = passOn(spec.commandLine().getParseResult().originalArgs());
        hosted = colocate ? Math.min(local, psShards) : 0;
        launcher = new LocalJvms(passOn, local, psShards, hosted, generatedToken);
        List<Child> children = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread hook = new Thread(() -> {
            stopping = true;
            stopAll(children, err, true);
            deleteGeneratedToken();
        }, "launch/stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            for (int s = hosted; s < psShards; s++) { // shards below hosted run in trainer s (--colocate)
                children.add(start("ps-" + s, Role.PS, s, false, coord, err));
            }
            for (int t = 0; t < local; t++) {
                children.add(start("trainer-" + t, Role.TRAINER, t, false, coord, err));
            }
            err.println("shadowsync launch: " + local + " trainer(s) and " + psShards + " parameter server(s) started"
                    + (hosted > 0 ? " in " + children.size() + " process(es), shard(s) 0.." + (hosted - 1) + " inside trainer(s) 0.." + (hosted - 1) : "") + " ("
                    + plan.algorithm() + "), coordinator at " + coord);
            err.flush();
            return supervise(children, coord, out, err);
        } finally {
            stopAll(children, err, false);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running (Ctrl-C) and stops the children itself
            }
            coordinator.shutdownNow();
            deleteGeneratedToken();
        }
    }

    /** With --colocate, how many shards run inside trainers (shard i in trainer i); 0 without. */
    private int hosted;

    /** How the job's processes are started: child JVMs on this host. */
    private Launcher launcher;

    /** The per-job token file this command wrote (none given, no TLS), or null. */
    private volatile Path generatedToken;

    private void deleteGeneratedToken() {
        Path t = generatedToken;
        if (t != null) TokenFile.delete(t);
    }

    /**
     * Waits for the trainers; the first process that fails stops the job — except, with --elastic, a trainer that
     * dies (not of bad input): the others go on, and it is started again as a joiner while --respawn allows. Returns
     * the exit code.
     */
    private int supervise(List<Child> children, HostPort coord, PrintWriter out, PrintWriter err) throws Exception {
        int respawned = 0;
        boolean anyFinished = false;
        List<Child> gone = new ArrayList<>();
        while (true) {
            if (stopping) { // a signal: the shutdown hook stops the processes in order, then the JVM exits
                Thread.sleep(50);
                continue;
            }
            boolean trainersRunning = false;
            for (int i = 0; i < children.size(); i++) {
                Child c = children.get(i);
                if (c.lost) continue;
                if (c.process.isAlive()) {
                    if (c.name.startsWith("trainer")) trainersRunning = true;
                    continue;
                }
                int code = c.process.exitValue();
                if (code == 0) {
                    anyFinished |= c.name.startsWith("trainer");
                    continue;
                }
                if (code == TrainerCommand.EXIT_STOPPED && c.name.startsWith("trainer") && checkpointDir != null) {
                    c.drain();
                    err.println("shadowsync launch: " + c.name + " stopped after a final checkpoint (a trainer was sent a signal); "
                            + "continue with launch --resume; stopping the other processes");
                    err.flush();
                    return Main.EXIT_FAILURE;
                }
                if (psReplicas > 1 && c.name.startsWith("ps-")) {
                    // its shards go on at their backups; a shard with no copy left fails the trainers, which ends the job
                    c.lost = true;
                    c.drain();
                    err.println("shadowsync launch: " + c.name + " died (exit code " + code + "); with --ps-replicas " + psReplicas
                            + " the job goes on, its shards served by their backups");
                    err.flush();
                    continue;
                }
                c.drain();
                if (net.elastic && c.name.startsWith("trainer") && code != Main.EXIT_BAD_INPUT) {
                    String rank = c.name.substring("trainer-".length());
                    String line = "shadowsync launch: " + c.name + " died (exit code " + code + ")" + (c.lastError == null ? "" : ": " + c.lastError);
                    if (respawned < respawn && !anyFinished) {
                        respawned++;
                        line += "; starting it again to join the running job (" + respawned + " of --respawn " + respawn + ")";
                        children.set(i, start(c.name, Role.TRAINER, Integer.parseInt(rank), true, coord, err));
                        trainersRunning = true;
                    } else {
                        line += "; the other trainers go on (--elastic)";
                        children.remove(i--);
                    }
                    gone.add(c);
                    synchronized (err) {
                        err.println(line);
                        err.flush();
                    }
                    continue;
                }
                if (code == Main.EXIT_FAILURE) {
                    // a trainer fails with 1 when another's failure broke their collectives: that one, if it failed on
                    // bad input (exit 2, a malformed data line), is the cause to report; it ends a moment later
                    Child cause = badInputWithin(children, c, 2000);
                    if (cause != null) {
                        c = cause;
                        code = Main.EXIT_BAD_INPUT;
                        c.drain();
                    }
                }
                err.println("shadowsync launch: " + c.name + " failed (exit code " + code + ")" + hostedNote(c)
                        + (c.lastError == null ? "" : ": " + c.lastError) + "; stopping the other processes");
                err.flush();
                if (code == Main.EXIT_FAILURE) emitFailedSummary(children, out, err);
                return code == Main.EXIT_BAD_INPUT ? Main.EXIT_BAD_INPUT : Main.EXIT_FAILURE;
            }
            if (!trainersRunning) break;
            Thread.sleep(50);
        }
        // the leader told the servers to stop; give them a moment to do so cleanly
        for (Child c : children) {
            if (!c.process.waitFor(10, TimeUnit.SECONDS)) {
                err.println("shadowsync launch: " + c.name + " did not stop after the job ended; stopping it");
            }
        }
        for (Child c : children) c.drain();
        String last = null;
        for (Child c : children) {
            if (c.name.startsWith("trainer") && c.lastStdout != null && c.lastStdout.startsWith("{")) last = c.lastStdout;
        }
        if (last == null) {
            err.println("shadowsync launch: the job ended without a JSON summary" + (gone.isEmpty() ? "" : " (" + gone.size() + " trainer process(es) died)"));
            return Main.EXIT_FAILURE;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = new ObjectMapper().readValue(last, LinkedHashMap.class);
        summary.put("processes", children.size() + gone.size());
        Json.emit(out, summaryJson, summary);
        return 0;
    }

    /** " (it hosted parameter-server shard i, lost with it)" for a trainer that ran a shard (--colocate), else "". */
    private String hostedNote(Child c) {
        if (!c.name.startsWith("trainer-")) return "";
        int t = Integer.parseInt(c.name.substring("trainer-".length()));
        return t < hosted ? " (it hosted parameter-server shard " + t + ", lost with it)" : "";
    }

    /** Another trainer of the job that ends with exit code 2 (bad input) within {@code millis}, or null. */
    private static Child badInputWithin(List<Child> children, Child failed, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (true) {
            boolean running = false;
            for (Child o : children) {
                if (o == failed || o.lost || !o.name.startsWith("trainer")) continue;
                if (o.process.isAlive()) {
                    running = true;
                } else if (o.process.exitValue() == Main.EXIT_BAD_INPUT) {
                    return o;
                }
            }
            if (!running || System.nanoTime() - deadline >= 0) return null;
            Thread.sleep(20);
        }
    }

    /**
     * A job that failed inside training after trainer 0 printed its summary (checkpoints that kept failing stop every
     * trainer, trainer 0 reporting): the other processes are stopped and that summary is this command's, as train's.
     */
    private void emitFailedSummary(List<Child> children, PrintWriter out, PrintWriter err) throws IOException {
        Child first = children.stream().filter(x -> x.name.equals("trainer-0")).findFirst().orElse(null);
        if (first == null) return;
        stopAll(children, err, false); // trainer 0 printed its summary before the others could end: all of it is in the pipe
        String last = first.lastStdout;
        if (last == null || !last.startsWith("{")) return;
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = new ObjectMapper().readValue(last, LinkedHashMap.class);
        summary.put("processes", children.size());
        Json.emit(out, summaryJson, summary);
    }

    /** This command's arguments minus the options it sets for its children, which get those from it. */
    static List<String> passOn(List<String> original) {
        List<String> r = new ArrayList<>();
        int i = 0;
        while (i < original.size() && !original.get(i).equals("launch")) i++;
        for (i++; i < original.size(); i++) {
            String a = original.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            Integer arity = OWN.get(name);
            if (arity == null) {
                r.add(a);
            } else if (arity == 1 && !a.contains("=")) {
                i++; // its value
            }
        }
        return r;
    }

    /** Starts one process of the job through the {@link LocalJvms} launcher, its output streamed here with its name. */
    private Child start(String name, Role role, int index, boolean join, HostPort coord, PrintWriter err) throws IOException {
        Process p = launcher.start(role, index, coord, join);
        Child c = new Child(name, p);
        c.pump(p.getInputStream(), err, true);
        c.pump(p.getErrorStream(), err, false);
        return c;
    }

    /**
     * {@code launch --local}'s {@link Launcher}: each process a child JVM on this host ({@link ChildJvm}, with this JVM's
     * options) running {@code trainer} or {@code ps} with this command's flags, the job's counts, the coordinator, a free
     * loopback port and the job's token file.
     */
    static final class LocalJvms implements Launcher {
        private final List<String> passOn;
        private final int trainers;
        private final int shards;
        private final int hosted;
        private final Path token;

        /** {@code hosted}: trainers 0 .. hosted-1 each run the shard of their rank (--host-shard; --colocate). */
        LocalJvms(List<String> passOn, int trainers, int shards, int hosted, Path token) {
            this.passOn = List.copyOf(passOn);
            this.trainers = trainers;
            this.shards = shards;
            this.hosted = hosted;
            this.token = token;
        }

        @Override
        public Process start(Role role, int index, HostPort coordinator, boolean join) throws IOException {
            return new ProcessBuilder(command(role, index, coordinator, join, System.getenv())).start();
        }

        /**
         * The child's command line: this JVM's options, then the role's extra flags from env
         * ({@link ChildJvm#TRAINER_OPTIONS}, {@link ChildJvm#PS_OPTIONS}), then the command.
         */
        List<String> command(Role role, int index, HostPort coordinator, boolean join, Map<String, String> env) {
            List<String> args = new ArrayList<>(role == Role.TRAINER ? List.of("trainer", "--rank", Integer.toString(index))
                    : List.of("ps", "--shard", Integer.toString(index)));
            if (join) args.add("--join");
            if (role == Role.TRAINER && index < hosted) args.addAll(List.of("--host-shard", Integer.toString(index)));
            args.addAll(passOn);
            args.addAll(List.of("--trainers", Integer.toString(trainers), "--ps-shards", Integer.toString(shards),
                    "--coordinator", coordinator.toString(), "--listen", "127.0.0.1:0"));
            if (token != null) args.addAll(List.of("--token-file", token.toString()));
            List<String> options = ChildJvm.inheritedOptions();
            options.addAll(ChildJvm.roleOptions(role == Role.TRAINER ? ChildJvm.TRAINER_OPTIONS : ChildJvm.PS_OPTIONS, env));
            return ChildJvm.command(options, args);
        }
    }

    /** How long the trainers get for a final checkpoint after SIGTERM, before the servers are stopped anyway. */
    private static final long CHECKPOINT_GRACE_SECONDS = 300;

    /**
     * Stops every child still running: SIGTERM, then after --stop-grace a kill. On a signal with --checkpoint-dir the
     * trainers go first and get up to {@value #CHECKPOINT_GRACE_SECONDS} s to write a final checkpoint (the servers
     * write theirs in it), and the servers are stopped after them.
     */
    private synchronized void stopAll(List<Child> children, PrintWriter err, boolean signalled) {
        if (signalled && checkpointDir != null) {
            boolean any = false;
            for (Child c : children) {
                if (c.name.startsWith("trainer") && c.process.isAlive()) {
                    // SIGTERM: each trainer's hook asks for the final checkpoint (through the handle: Process.destroy would
                    // also close the pipes, and the trainers' last lines would be lost)
                    c.process.toHandle().destroy();
                    any = true;
                }
            }
            if (any) {
                synchronized (err) {
                    err.println("shadowsync launch: stopping; the trainers write a final checkpoint into " + checkpointDir);
                    err.flush();
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHECKPOINT_GRACE_SECONDS);
                for (Child c : children) {
                    if (!c.name.startsWith("trainer")) continue;
                    try {
                        c.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        boolean any = false;
        for (Child c : children) {
            if (c.process.isAlive()) {
                c.process.destroy();
                any = true;
            }
        }
        if (!any) {
            for (Child c : children) c.drain();
            err.flush();
            return;
        }
        long deadline = System.nanoTime() + (long) (stopGrace * 1e9);
        for (Child c : children) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !c.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    c.process.destroyForcibly();
                    c.process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                c.process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        for (Child c : children) c.drain();
        err.flush();
    }

    /** One child process and the threads copying its output here, each line prefixed with its name. */
    private static final class Child {
        final String name;
        final Process process;
        final List<Thread> pumps = new ArrayList<>(2);
        volatile String lastStdout;
        volatile String lastError;
        /** A replicated job's parameter server that died; the job went on without it. */
        boolean lost;

        Child(String name, Process process) {
            this.name = name;
            this.process = process;
        }

        void pump(InputStream in, PrintWriter err, boolean stdout) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (stdout) {
                            lastStdout = line;
                        } else if (!line.isBlank() && !line.startsWith("WARNING: Using incubator modules")) {
                            lastError = line;
                        }
                        synchronized (err) {
                            err.println("[" + name + "] " + line);
                            err.flush();
                        }
                    }
                } catch (IOException e) {
                    // the process went away; its exit code tells what happened
                }
            }, "launch/" + name + (stdout ? "/out" : "/err"));
            t.setDaemon(true);
            t.start();
            pumps.add(t);
        }

        /** Waits (briefly) until everything the process wrote has been copied. */
        void drain() {
            for (Thread t : pumps) {
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

}
