package io.shadowsync.cli;

import io.shadowsync.net.ProcessEnv;
import io.shadowsync.net.rdv.Role;

/**
 * What a trainer's or parameter server's command line leaves out — its rank, the job's trainers and servers, the
 * coordinator, the advertised address — filled in from the environment by {@link ProcessEnv}'s rules (flags and the
 * job file first), so that a launcher can start every process of a job with one command line.
 */
final class FromEnvironment {
    private FromEnvironment() {}

    /**
     * Resolves this process and sets the command's {@code --trainers}, {@code --ps-shards} and its network options'
     * coordinator, {@code --start-coordinator} and advertised address to the result.
     *
     * @param role      the command's role, or null ({@code node}: from the environment)
     * @param indexFlag {@code --rank} or {@code --shard}, or null
     * @param index     its value, or null when not given
     * @param joining   a trainer joining a running job ({@code --join}): it never runs the coordinator
     */
    static ProcessEnv.Resolved apply(JobCommand cmd, NetOptions net, Role role, String indexFlag, Integer index, boolean joining) {
        ProcessEnv.Resolved r;
        try {
            r = ProcessEnv.resolve(System.getenv(), new ProcessEnv.Flags(role, indexFlag, index, given(cmd, "--trainers") ? cmd.trainers : null,
                    given(cmd, "--ps-shards") ? cmd.psShards : null, net.coordinator, net.advertise, net.listenAddress().host()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        cmd.trainers = r.trainers();
        cmd.psShards = r.psShards();
        net.coordinator = r.coordinator();
        net.startCoordinator |= r.startCoordinator() && !joining;
        net.advertise = r.advertise();
        return r;
    }

    /** Whether the command line or the job file gives this option. */
    static boolean given(JobCommand cmd, String option) {
        return cmd.spec.commandLine().getParseResult().hasMatchedOption(option)
                || cmd.spec.defaultValueProvider() instanceof JobFile f && f.sets(option);
    }
}
