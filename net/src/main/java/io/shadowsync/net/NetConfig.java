package io.shadowsync.net;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How one process talks to the others: where its servers listen, how peers prove who they are (a shared token,
 * mutual TLS, or neither on loopback), and the time limits every call runs under.
 *
 * @param bindHost       the address servers listen on; 127.0.0.1 unless told otherwise
 * @param tokenFile      a file holding the job's shared secret (first line, trimmed), or null
 * @param tlsCert        this process's certificate chain (PEM), or null for plaintext
 * @param tlsKey         its private key (PEM, PKCS#8)
 * @param tlsCa          the CA certificate(s) that peers' certificates must chain to (PEM); mutual TLS
 * @param callDeadline   the deadline of every unary call
 * @param keepalive      idle time after which a connection is pinged; a peer that does not answer within
 *                       {@code keepaliveTimeout} is reported as gone
 * @param keepaliveTimeout how long a ping may go unanswered
 * @param maxMessageBytes the largest message a server accepts or a client receives
 * @param rowLanes       whether embedding rows travel on the parameter servers' raw TCP row lanes (a server opens
 *                       one, a trainer uses it; not under TLS) or on gRPC streams only ({@code --ps-rows stream})
 */
public record NetConfig(String bindHost, Path tokenFile, Path tlsCert, Path tlsKey, Path tlsCa, Duration callDeadline,
                        Duration keepalive, Duration keepaliveTimeout, int maxMessageBytes, boolean rowLanes) {
    /** Loopback, plaintext, 30 s call deadline, 2 s keepalive with a 5 s timeout, 64 MiB messages, row lanes. */
    public static final NetConfig LOOPBACK = new NetConfig("127.0.0.1", null, null, null, null, Duration.ofSeconds(30),
            Duration.ofSeconds(2), Duration.ofSeconds(5), 64 << 20, true);

    public NetConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(callDeadline, "callDeadline");
        Objects.requireNonNull(keepalive, "keepalive");
        Objects.requireNonNull(keepaliveTimeout, "keepaliveTimeout");
        boolean anyTls = tlsCert != null || tlsKey != null || tlsCa != null;
        if (anyTls && (tlsCert == null || tlsKey == null || tlsCa == null)) {
            throw new IllegalArgumentException("TLS needs all three of --tls-cert, --tls-key and --tls-ca (mutual TLS); got "
                    + (tlsCert == null ? "no" : "a") + " certificate, " + (tlsKey == null ? "no" : "a") + " key and "
                    + (tlsCa == null ? "no" : "a") + " CA");
        }
        if (callDeadline.isNegative() || callDeadline.isZero()) throw new IllegalArgumentException("call deadline must be positive: " + callDeadline);
        if (maxMessageBytes < 1024) throw new IllegalArgumentException("max message size must be at least 1 KiB: " + maxMessageBytes);
    }

    public boolean tls() {
        return tlsCert != null;
    }

    public NetConfig withBindHost(String host) {
        return new NetConfig(host, tokenFile, tlsCert, tlsKey, tlsCa, callDeadline, keepalive, keepaliveTimeout, maxMessageBytes, rowLanes);
    }

    public NetConfig withToken(Path file) {
        return new NetConfig(bindHost, file, tlsCert, tlsKey, tlsCa, callDeadline, keepalive, keepaliveTimeout, maxMessageBytes, rowLanes);
    }

    public NetConfig withTls(Path cert, Path key, Path ca) {
        return new NetConfig(bindHost, tokenFile, cert, key, ca, callDeadline, keepalive, keepaliveTimeout, maxMessageBytes, rowLanes);
    }

    public NetConfig withCallDeadline(Duration d) {
        return new NetConfig(bindHost, tokenFile, tlsCert, tlsKey, tlsCa, d, keepalive, keepaliveTimeout, maxMessageBytes, rowLanes);
    }

    public NetConfig withMaxMessageBytes(int bytes) {
        return new NetConfig(bindHost, tokenFile, tlsCert, tlsKey, tlsCa, callDeadline, keepalive, keepaliveTimeout, bytes, rowLanes);
    }

    public NetConfig withRowLanes(boolean lanes) {
        return new NetConfig(bindHost, tokenFile, tlsCert, tlsKey, tlsCa, callDeadline, keepalive, keepaliveTimeout, maxMessageBytes, lanes);
    }
}
