package io.shadowsync.net.fed;

import io.grpc.Server;
import io.shadowsync.data.DataSource;
import io.shadowsync.fed.FederatedConfig;
import io.shadowsync.fed.FederatedResult;
import io.shadowsync.fed.Federation;
import io.shadowsync.fed.RoundRecord;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.NetSettings;
import io.shadowsync.nn.ModelSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The server of a federation whose clients are processes: it runs the job's coordinator, waits there for the P
 * client processes ({@link ClientProcess}, which join as trainers 0..P−1 while the server takes the one
 * parameter-server seat: it holds the global model), checks that all run the same job (the digest), then runs
 * {@link Federation}'s round loop over {@link RemoteClients}. At the end it tells the client processes that are left
 * to exit.
 *
 * <pre>{@code
 * try (FederationServer s = FederationServer.start(NetSettings.loopback(), 4, digest)) {
 *     launch the client processes with s.address() as their coordinator
 *     FederatedResult r = s.run(spec, eval, config, Duration.ofSeconds(60), progress);
 * }
 * }</pre>
 * Threading: one thread; {@link #close} from any.
 */
public final class FederationServer implements AutoCloseable {
    private final NetSettings net;
    private final int processes;
    private final String digest;
    private final Transport transport;
    private final Coordinator coordinator;
    private final Server server;
    private final HostPort address;
    private volatile RemoteClients clients;

    private FederationServer(NetSettings net, int processes, String digest) throws IOException {
        if (processes < 1) throw new IllegalArgumentException("a federation needs at least 1 client process, got " + processes);
        this.net = net;
        this.processes = processes;
        this.digest = digest;
        this.transport = new Transport(net.config());
        this.coordinator = new Coordinator(processes, 1, net.rendezvousTimeout());
        this.server = transport.serve(net.port(), List.of(coordinator));
        this.address = net.advertised(server.getPort());
    }

    /** Binds and serves the coordinator (a free port when net's is 0): the client processes may start now. */
    public static FederationServer start(NetSettings net, int processes, String digest) throws IOException {
        return new FederationServer(net, processes, digest);
    }

    /** Where the client processes meet the server (their {@code --coordinator}). */
    public HostPort address() {
        return address;
    }

    /**
     * Waits for the client processes, runs every round and returns the result.
     *
     * @param roundTimeout how long a client has to train and upload in a round; later it has dropped out of it
     */
    public FederatedResult run(ModelSpec spec, DataSource eval, FederatedConfig config, Duration roundTimeout,
                               Consumer<RoundRecord> progress) throws IOException, InterruptedException {
        Membership m = Rendezvous.join(transport, address, Role.PS, 0, address, digest, net.rendezvousTimeout());
        if (config.clients() < processes) {
            throw new IllegalArgumentException(processes + " client processes for " + config.clients() + " clients: some would hold none");
        }
        clients = new RemoteClients(transport, m.trainers(), roundTimeout);
        try {
            return new Federation(spec, clients, eval, config, progress).run();
        } finally {
            clients.close();
        }
    }

    /** Client processes found gone during the run (a call to them was refused), by index. */
    public List<Integer> lostProcesses() {
        RemoteClients c = clients;
        return c == null ? List.of() : c.lostProcesses();
    }

    @Override
    public void close() {
        coordinator.close();
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
