package io.shadowsync.cli;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.TokenFile;
import io.shadowsync.net.run.NetSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** How a process of a multi-process job finds the others and proves who it is (ps, trainer, launch). */
final class NetOptions {
    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Where this process's server listens (default: 127.0.0.1:0, a free port on loopback). Any other address needs --token-file or TLS.")
    String listen = "127.0.0.1:0";

    @Option(names = "--advertise", paramLabel = "HOST",
            description = "The host name or address the other processes reach this one at (default: the --listen host; required when listening on 0.0.0.0).")
    String advertise;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT", description = "Rendezvous: the coordinator every process registers with.")
    String coordinator;

    @Option(names = "--start-coordinator", description = "Trainer 0 only: run the coordinator itself, listening at --coordinator.")
    boolean startCoordinator;

    @Option(names = "--peers", paramLabel = "HOST:PORT,...", split = ",",
            description = "Rendezvous without a coordinator: every trainer's address, in rank order (torchrun style).")
    List<String> peers = new ArrayList<>();

    @Option(names = "--servers", paramLabel = "HOST:PORT,...", split = ",",
            description = "With --peers: every parameter-server shard's address, in shard order.")
    List<String> servers = new ArrayList<>();

    @Option(names = "--rendezvous-timeout", paramLabel = "SEC", description = "How long to wait for every process to arrive (default: 60).")
    double rendezvousTimeout = 60;

    @Option(names = "--call-timeout", paramLabel = "SEC", description = "Deadline of every remote call (default: 30).")
    double callTimeout = 30;

    @Option(names = "--elastic", description = "Elastic trainers: when a trainer dies the others go on without it, and a trainer started later "
            + "with 'trainer --join' enters the running job (needs --coordinator; not with sync-sgd).")
    boolean elastic;

    @Option(names = "--straggler-timeout", paramLabel = "SEC", description = "With --elastic: how long a sync round waits for one trainer "
            + "before the others re-form the group without it (default: 30).")
    double stragglerTimeout = 30;

    @Option(names = "--regroup-window", paramLabel = "SEC", description = "With --elastic, for the coordinator: how long a re-forming group "
            + "waits, after the first member asked, for the others; who has not asked by then is dropped (default: 5).")
    double regroupWindow = 5;

    @Option(names = "--ps-rows", paramLabel = "WIRE", description = "How trainers' embedding rows reach the parameter servers: lane (a raw "
            + "TCP connection per worker and server on a port the server picks, proved by the job's token; gRPC streams under TLS) or "
            + "stream (gRPC streams on the listed ports only); either side's 'stream' keeps the rows on gRPC (default: lane).")
    String psRows = "lane";

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the job's shared secret; every call carries it and every server checks it.")
    Path tokenFile;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Mutual TLS: this process's certificate chain.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "Mutual TLS: this process's private key (PKCS#8).")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "Mutual TLS: the CA every peer's certificate must chain to.")
    Path tlsCa;

    Duration stragglerTimeout() {
        if (!(stragglerTimeout > 0) || Double.isInfinite(stragglerTimeout)) throw new UsageException("--straggler-timeout must be positive, got " + stragglerTimeout);
        return Duration.ofMillis(Math.max(1, (long) (stragglerTimeout * 1000)));
    }

    Duration regroupWindow() {
        if (!(regroupWindow > 0) || Double.isInfinite(regroupWindow)) throw new UsageException("--regroup-window must be positive, got " + regroupWindow);
        return Duration.ofMillis(Math.max(1, (long) (regroupWindow * 1000)));
    }

    /** The network settings; a token file that others may read gets a warning on err (as ssh gives for a private key). */
    NetConfig config(java.io.PrintWriter err) {
        HostPort l = listenAddress();
        if (!(rendezvousTimeout > 0)) throw new UsageException("--rendezvous-timeout must be positive, got " + rendezvousTimeout);
        if (!(callTimeout > 0)) throw new UsageException("--call-timeout must be positive, got " + callTimeout);
        try {
            if (!psRows.equals("lane") && !psRows.equals("stream")) {
                throw new UsageException("--ps-rows must be lane or stream, got '" + psRows + "'");
            }
            NetConfig c = NetConfig.LOOPBACK.withBindHost(l.host()).withCallDeadline(Duration.ofMillis((long) (callTimeout * 1000)))
                    .withRowLanes(psRows.equals("lane"));
            if (tokenFile != null) {
                TokenFile.read(tokenFile); // missing, unreadable or malformed: refused here, as bad input
                String warning = TokenFile.permissionWarning(tokenFile);
                if (warning != null) {
                    err.println("shadowsync: warning: " + warning);
                    err.flush();
                }
                c = c.withToken(tokenFile);
            }
            if (tlsCert != null || tlsKey != null || tlsCa != null) c = c.withTls(tlsCert, tlsKey, tlsCa);
            return c;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** This process's network settings for the library: transport, --listen port, --advertise, --rendezvous-timeout. */
    NetSettings settings(java.io.PrintWriter err) {
        NetConfig c = config(err);
        return new NetSettings(c, listenAddress().port(), advertise, rendezvousTimeout());
    }

    HostPort listenAddress() {
        String s = listen.strip();
        int colon = s.lastIndexOf(':');
        if (colon > 0 && s.substring(colon + 1).equals("0")) {
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            return new HostPort(host, 0);
        }
        try {
            return HostPort.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--listen: " + e.getMessage());
        }
    }

    Duration rendezvousTimeout() {
        return Duration.ofMillis((long) (rendezvousTimeout * 1000));
    }

    static List<HostPort> parseList(List<String> list, String flag) {
        List<HostPort> r = new ArrayList<>();
        for (String s : list) {
            try {
                r.add(HostPort.parse(s));
            } catch (IllegalArgumentException e) {
                throw new UsageException(flag + ": " + e.getMessage());
            }
        }
        return r;
    }
}
