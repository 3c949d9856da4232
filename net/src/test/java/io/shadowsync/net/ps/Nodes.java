package io.shadowsync.net.ps;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** S parameter-server nodes started in this JVM on 127.0.0.1, free ports; closed together. */
final class Nodes implements AutoCloseable {
    final List<PsServer> servers = new ArrayList<>();
    final List<HostPort> addresses = new ArrayList<>();

    Nodes(Transport transport, PsShardSpec spec) throws IOException {
        try {
            for (int s = 0; s < spec.shards(); s++) {
                PsServer ps = PsServer.start(transport, 0, spec.forShard(s));
                servers.add(ps);
                addresses.add(new HostPort("127.0.0.1", ps.port()));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    PsServer get(int s) {
        return servers.get(s);
    }

    @Override
    public void close() {
        for (PsServer ps : servers) ps.close();
    }
}
