package io.shadowsync.net.run;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * How one process of a multi-process job is reached: its transport settings (bind host, token or TLS, call deadline),
 * the port it listens on, the host the others reach it at, and how long it waits for the others to arrive.
 *
 * @param config            the transport's settings; its bind host is where this process listens
 * @param port              the port to listen on; 0: a free one (or, with a {@link Placement#fixed fixed} placement,
 *                          the one its entry names)
 * @param advertise         the host the other processes reach this one at; null: the bind host
 * @param rendezvousTimeout how long to wait for every process to arrive (rendezvous, collective groups, admission)
 */
public record NetSettings(NetConfig config, int port, String advertise, Duration rendezvousTimeout) {
    public NetSettings {
        Objects.requireNonNull(config, "the transport's settings");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " is not in 0..65535");
        if (rendezvousTimeout == null || rendezvousTimeout.isZero() || rendezvousTimeout.isNegative()) {
            throw new IllegalArgumentException("the rendezvous timeout must be positive, got " + rendezvousTimeout);
        }
    }

    /** 127.0.0.1, a free port, no token, a minute to meet: processes of one host in a test or a single machine. */
    public static NetSettings loopback() {
        return new NetSettings(NetConfig.LOOPBACK, 0, null, Duration.ofSeconds(60));
    }

    public NetSettings withConfig(NetConfig c) {
        return new NetSettings(c, port, advertise, rendezvousTimeout);
    }

    public NetSettings withPort(int p) {
        return new NetSettings(config, p, advertise, rendezvousTimeout);
    }

    public NetSettings withAdvertise(String host) {
        return new NetSettings(config, port, host, rendezvousTimeout);
    }

    public NetSettings withRendezvousTimeout(Duration d) {
        return new NetSettings(config, port, advertise, d);
    }

    /**
     * The address the other processes use to reach this one once it listens on {@code boundPort}.
     *
     * @throws IllegalArgumentException when it would listen on a wildcard address and no advertised host is given
     */
    public HostPort advertised(int boundPort) {
        String host = advertise != null ? advertise : config.bindHost();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            throw new IllegalArgumentException("listening on " + host + ": give --advertise HOST, the address the other processes reach this one at");
        }
        return new HostPort(host, boundPort);
    }
}
