package io.shadowsync.cli;

import io.shadowsync.api.FederatedJob;
import io.shadowsync.fed.FederatedResult;
import io.shadowsync.fed.RoundRecord;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.TokenFile;
import io.shadowsync.net.fed.FederationServer;
import io.shadowsync.net.run.NetSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The server side of {@code federate --local P} and {@code federate --client-processes P}: the job's token (made
 * for a local run), the {@link FederationServer}, with --local the P client JVMs ({@code federate-client}, their
 * stderr passed through), and their end: they exit when the server finishes; one still running after a grace is
 * killed. A local run's client processes get the server's flags as they were given, so that they build the same job.
 */
final class FederationProcesses implements AutoCloseable {
    /** Flags that set how this process runs, not the job: left out of the digest and not passed to the clients. */
    static final Map<String, Integer> OWN = Map.ofEntries(Map.entry("--local", 1), Map.entry("--client-processes", 1), Map.entry("--listen", 1),
            Map.entry("--token-file", 1), Map.entry("--round-timeout", 1), Map.entry("--rendezvous-timeout", 1), Map.entry("--coordinator", 1),
            Map.entry("--index", 1), Map.entry("--save", 1), Map.entry("--summary-json", 1), Map.entry("--verbose", 0),
            Map.entry("--split-rows", 1), Map.entry("--parallel", 1));

    private final FederateCommand cmd;
    private final int processes;
    private final PrintWriter err;
    private final List<Process> children = new ArrayList<>();
    private Path generatedToken;
    private FederationServer server;

    FederationProcesses(FederateCommand cmd, int processes, PrintWriter err) {
        this.cmd = cmd;
        this.processes = processes;
        this.err = err;
        if (cmd.local != null && cmd.clientProcesses != null) throw new UsageException("give --local P or --client-processes P, not both");
        if (processes < 1) throw new UsageException((cmd.local != null ? "--local" : "--client-processes") + " must be at least 1, got " + processes);
        if (!(cmd.roundTimeout > 0)) throw new UsageException("--round-timeout must be positive, got " + cmd.roundTimeout);
        if (!(cmd.rendezvousTimeout > 0)) throw new UsageException("--rendezvous-timeout must be positive, got " + cmd.rendezvousTimeout);
        if (cmd.local != null && cmd.listen != null) throw new UsageException("--local runs every process on 127.0.0.1; --listen goes with --client-processes");
    }

    FederatedResult run(FederatedJob job, Consumer<RoundRecord> progress) throws IOException, InterruptedException {
        if (job.config().clients() < processes) {
            throw new UsageException(processes + " client processes for --clients " + job.config().clients() + ": some would hold no client");
        }
        Path token = cmd.tokenFile;
        if (token == null && cmd.local != null) {
            // loopback is shared by every user of the host; the children get the file's path, never the token
            token = generatedToken = TokenFile.generate(Path.of(System.getProperty("java.io.tmpdir")));
        }
        HostPort listen = cmd.listen != null ? HostPort.parse(cmd.listen) : null;
        NetConfig c = listen == null ? NetConfig.LOOPBACK : NetConfig.LOOPBACK.withBindHost(listen.host());
        if (token != null) c = c.withToken(token);
        NetSettings net = new NetSettings(c, listen == null ? 0 : listen.port(), null, seconds(cmd.rendezvousTimeout));
        server = FederationServer.start(net, processes, digest(cmd));
        err.println("shadowsync federate: server at " + server.address() + ", waiting for " + processes + " client process(es)");
        err.flush();
        if (cmd.local != null) {
            List<String> passOn = passOn(cmd.spec.commandLine().getParseResult().originalArgs());
            for (int p = 0; p < processes; p++) {
                List<String> args = new ArrayList<>(List.of("federate-client", "--coordinator", server.address().toString(), "--index",
                        Integer.toString(p), "--client-processes", Integer.toString(processes), "--token-file", token.toString(),
                        "--rendezvous-timeout", Double.toString(cmd.rendezvousTimeout)));
                args.addAll(passOn);
                ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(ChildJvm.inheritedOptions(), args));
                pb.redirectOutput(Redirect.DISCARD).redirectError(Redirect.INHERIT);
                children.add(pb.start());
            }
        }
        return server.run(job.model(), job.evalData(), job.config(), seconds(cmd.roundTimeout), progress);
    }

    List<Integer> lostProcesses() {
        return server == null ? List.of() : server.lostProcesses();
    }

    /** The arguments minus this process's own flags (and the command's name). */
    static List<String> passOn(List<String> original) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < original.size(); i++) {
            String a = original.get(i);
            if (i == 0 && (a.equals("federate") || a.equals("federate-client"))) continue;
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            Integer arity = OWN.get(name);
            if (arity == null) {
                out.add(a);
            } else if (arity == 1 && !a.contains("=")) {
                i++;
            }
        }
        return out;
    }

    /** SHA-256 of the job's flags and its job file's contents: alike in the server and every client process. */
    static String digest(FederateCommand cmd) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String a : passOn(cmd.spec.commandLine().getParseResult().originalArgs())) {
                md.update(a.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            if (cmd.jobFile != null) md.update(Files.readAllBytes(cmd.jobFile));
            return "federate:" + HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Duration seconds(double s) {
        return Duration.ofMillis(Math.max(1, Math.round(s * 1000)));
    }

    @Override
    public void close() {
        if (server != null) server.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        boolean interrupted = false;
        for (Process p : children) {
            try {
                if (!interrupted && p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) continue;
            } catch (InterruptedException e) {
                interrupted = true;
            }
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (generatedToken != null) TokenFile.delete(generatedToken);
    }
}
