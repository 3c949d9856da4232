package io.shadowsync.cli;

import io.shadowsync.api.FederatedJob;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.fed.FederatedClient;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.fed.ClientProcess;
import io.shadowsync.net.run.NetSettings;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shadowsync federate-client --coordinator HOST:PORT --index p --client-processes P [federate flags]}: one
 * client process of a federation: it loads and splits the data as the job says, keeps the shards of clients k with
 * k mod P = p, and serves their rounds to the server (see docs/federated.md). {@code federate --local P} starts these.
 */
@Command(name = "federate-client", sortOptions = false, usageHelpAutoWidth = true,
        description = {"One client process of a federation (federate --local P starts them; or start P of them yourself against federate --client-processes P).",
                "Takes federate's flags, the same as the server's; it holds clients k with k mod P = --index and exits when the server ends the run."})
public final class FederateClientCommand extends FederateCommand {
    @Option(names = "--coordinator", paramLabel = "HOST:PORT", required = true, description = "Where the federation server listens.")
    String coordinator;

    @Option(names = "--index", paramLabel = "p", required = true, description = "This client process's index, 0..P-1.")
    int index;

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync federate-client " + index);
        PrintWriter err = spec.commandLine().getErr();
        if (clientProcesses == null) throw new UsageException("federate-client needs --client-processes P, the number of client processes of the job");
        if (index < 0 || index >= clientProcesses) throw new UsageException("--index must be 0 to " + (clientProcesses - 1) + ", got " + index);
        if (local != null) throw new UsageException("--local is the server's flag; a client process takes --index and --client-processes");
        HostPort server = HostPort.parse(coordinator);
        FederatedJob job = job(err);
        InMemorySource[] shards = job.shards();
        for (int k = 0; k < shards.length; k++) if (k % clientProcesses != index) shards[k] = null; // held by another process
        HostPort bind = listen != null ? HostPort.parse(listen) : null;
        NetConfig c = bind == null ? NetConfig.LOOPBACK : NetConfig.LOOPBACK.withBindHost(bind.host());
        if (tokenFile != null) c = c.withToken(tokenFile);
        NetSettings net = new NetSettings(c, bind == null ? 0 : bind.port(), null, FederationProcesses.seconds(rendezvousTimeout));
        try (ClientProcess p = ClientProcess.start(new FederatedClient(job.model(), shards, job.config()), net)) {
            p.join(server, index, FederationProcesses.digest(this));
            if (!p.awaitFinish(Duration.ofSeconds(30))) {
                err.println("shadowsync federate-client " + index + ": the federation server at " + server + " stopped answering; exiting");
                return 1;
            }
        }
        return 0;
    }
}
