package io.shadowsync.cli;

import io.shadowsync.cli.dashboard.DashboardFeed;
import io.shadowsync.cli.dashboard.DashboardServer;
import io.shadowsync.net.TokenFile;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Stack;
import picocli.CommandLine.IParameterPreprocessor;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** {@code train --dashboard [PORT]} and its companions: the live page of the job's metrics (docs/dashboard.md). */
final class DashboardOptions {
    /** The flags that choose how the job is watched, not what it trains: left out of --run-dir's job.yaml. */
    static final List<String> NAMES = List.of("--dashboard", "--dashboard-host", "--dashboard-keep", "--token-file");

    @Option(names = "--dashboard", arity = "0..1", paramLabel = "PORT", fallbackValue = "0", preprocessor = OptionalPort.class,
            description = "Serve a page of live charts of the job's metrics (one line per trainer) on 127.0.0.1:PORT while it trains; "
                    + "no PORT: a free port. The address is printed on stderr (see docs/dashboard.md).")
    Integer port;

    @Option(names = "--dashboard-host", paramLabel = "ADDR", description = "Where the dashboard listens (default: 127.0.0.1); an address "
            + "other than loopback needs --token-file.")
    String host;

    @Option(names = "--dashboard-keep", description = "Keep the dashboard up after the job has ended, until Ctrl-C.")
    boolean keep;

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the job's secret (one line, at least 16 characters): "
            + "the dashboard then answers only requests that carry it.")
    Path tokenFile;

    private byte[] token;

    /** A bare --dashboard is port 0, a free one (the fallback value), also when the job file follows it: {@code train --dashboard JOB.yaml}. */
    static final class OptionalPort implements IParameterPreprocessor {
        @Override
        public boolean preprocess(Stack<String> args, CommandSpec spec, ArgSpec arg, Map<String, Object> info) {
            if (!" ".equals(info.get("separator")) || args.isEmpty() || !args.peek().matches(".*\\.ya?ml")) return false; // picocli's way
            arg.setValue(0);
            return true;
        }
    }

    boolean on() {
        return port != null;
    }

    /** Refuses bad flags before anything is trained or written (exit 2). */
    void check() {
        if (!on()) {
            for (String[] f : new String[][] {{"--dashboard-host", host}, {"--dashboard-keep", keep ? "on" : null}, {"--token-file", tokenFile == null ? null : "on"}}) {
                if (f[1] != null) throw new UsageException(f[0] + " is an option of the dashboard: give --dashboard [PORT] too");
            }
            return;
        }
        if (port < 0 || port > 65535) throw new UsageException("--dashboard PORT must be in 0..65535 (0: a free port), got " + port);
        if (tokenFile != null) {
            try {
                token = TokenFile.read(tokenFile);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--token-file: " + e.getMessage());
            }
        }
        String h = host();
        InetAddress addr;
        try {
            addr = InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            throw new UsageException("--dashboard-host " + h + " is not an address this machine can listen on");
        }
        if (!addr.isLoopbackAddress() && token == null) {
            throw new UsageException("--dashboard-host " + h + " is not a loopback address: the dashboard listens elsewhere only for a job "
                    + "with a token (--token-file FILE); or keep it on 127.0.0.1 and reach it through ssh -L");
        }
    }

    private String host() {
        return host == null ? "127.0.0.1" : host;
    }

    /** Starts the dashboard (null without --dashboard) and prints its address; title names the job on the page. */
    Live start(String title, PrintWriter err) {
        if (!on()) return null;
        DashboardFeed feed = new DashboardFeed();
        DashboardServer server;
        try {
            server = DashboardServer.start(feed, host(), port, token, title);
        } catch (java.io.IOException e) {
            throw new UsageException("--dashboard " + port + ": cannot listen on " + host() + ":" + port + ": " + Main.describe(e));
        }
        err.println("shadowsync train: dashboard at " + server.url() + (token == null ? "" : " (open it once as " + server.url()
                + "?token=TOKEN, TOKEN from " + tokenFile + ")"));
        err.flush();
        return new Live(feed, server, keep);
    }

    /** A running dashboard: its feed is one of the metrics log's sinks. */
    record Live(DashboardFeed feed, DashboardServer server, boolean keep) implements AutoCloseable {
        /** After a job that ended well: with --dashboard-keep, pages get the end of the job and the page stays up until Ctrl-C. */
        void holdIfKept(PrintWriter err) throws InterruptedException {
            if (!keep) return;
            feed.close();
            err.println("shadowsync train: the job is over; the dashboard stays up at " + server.url() + " until Ctrl-C");
            err.flush();
            new java.util.concurrent.CountDownLatch(1).await();
        }

        /** Pages get the last records and the end of the job (a second to take them), then the server stops. */
        @Override
        public void close() {
            feed.close();
            server.stop(1);
        }
    }
}
