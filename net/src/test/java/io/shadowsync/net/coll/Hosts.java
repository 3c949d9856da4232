package io.shadowsync.net.coll;

import io.grpc.Server;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Stand-ins for P processes in one JVM: P gRPC servers on 127.0.0.1, port 0, each hosting its own ring endpoint. */
final class Hosts implements AutoCloseable {
    final Transport transport;
    private final Server[] servers;
    private final RingEndpoint[] endpoints;

    Hosts(int p) throws IOException {
        this(p, new Transport(NetConfig.LOOPBACK));
    }

    Hosts(int p, Transport transport) throws IOException {
        this.transport = transport;
        servers = new Server[p];
        endpoints = new RingEndpoint[p];
        try {
            for (int i = 0; i < p; i++) {
                endpoints[i] = new RingEndpoint();
                servers[i] = transport.serve(0, List.of(endpoints[i]));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    RingEndpoint endpoint(int i) {
        return endpoints[i];
    }

    HostPort address(int i) {
        return new HostPort("127.0.0.1", servers[i].getPort());
    }

    Server server(int i) {
        return servers[i];
    }

    /** The address of each rank of a group with {@code perHost} consecutive ranks on each host. */
    List<HostPort> ranks(int perHost) {
        List<HostPort> out = new ArrayList<>();
        for (int i = 0; i < servers.length; i++) for (int w = 0; w < perHost; w++) out.add(address(i));
        return out;
    }

    /** Kills host i's server abruptly, as a killed process would drop its connections. */
    void kill(int i) throws InterruptedException {
        servers[i].shutdownNow();
        servers[i].awaitTermination(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        for (RingEndpoint e : endpoints) if (e != null) e.close();
        for (Server s : servers) if (s != null) s.shutdownNow();
        try {
            for (Server s : servers) {
                if (s != null && !s.awaitTermination(5, TimeUnit.SECONDS)) throw new IllegalStateException(s + " did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
