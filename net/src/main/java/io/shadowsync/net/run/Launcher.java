package io.shadowsync.net.run;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.rdv.Role;
import java.io.IOException;

/**
 * Starts the processes of a job, each as its own OS process that meets the others at the job's coordinator: what
 * {@code shadowsync launch --local} does with child JVMs on this host. A launcher over a static host list (ssh) is the
 * next; a Spark barrier stage starts its tasks itself and runs {@link TrainerProcess} and {@link ServerProcess} in them
 * (with its own {@link Placement}) rather than through a launcher.
 *
 * <p>The caller supervises what it gets: exit codes, streams, stopping. Implementations are called from one thread.
 */
public interface Launcher {
    /**
     * Starts one process of the job.
     *
     * @param role        a trainer or a parameter server
     * @param index       its rank (trainer) or shard (server)
     * @param coordinator where the job's coordinator serves
     * @param join        a trainer entering the job while it runs (elastic trainers)
     */
    Process start(Role role, int index, HostPort coordinator, boolean join) throws IOException;
}
