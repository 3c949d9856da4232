package io.shadowsync.net.run;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Role;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * How a process of a multi-process job learns where every process of the job is, once it is bound: every trainer's
 * and every parameter server's address ({@link Membership}). A process binds first (port 0 allowed), then asks its
 * placement with its own address ({@link #membership}); every process of the job must get the same answer.
 *
 * <ul>
 *   <li>{@link #fixed}: the lists are known before anything starts ({@code --peers}/{@code --servers}, torchrun style);
 *       a process listens on the port its entry names ({@link #port});</li>
 *   <li>{@link #coordinator}: every process registers with the job's coordinator and waits for the others
 *       ({@link io.shadowsync.net.rdv.Rendezvous}); {@link #startingCoordinator} also runs the coordinator in this
 *       process (trainer 0 with {@code --start-coordinator});</li>
 *   <li>{@link #runningJob}: a trainer entering a job that runs already (elastic trainers, {@code trainer --join}) asks
 *       its coordinator for the membership and then waits to be admitted;</li>
 *   <li>elsewhere: a Spark barrier stage implements this with one {@code allGather} of each task's addresses — a task
 *       that runs server shard i and trainer i binds both, then one gather answers both processes.</li>
 * </ul>
 *
 * <p>Thread safety: a process asks once, from its own thread; one placement may serve several processes of one JVM
 * at once (a trainer and a server), so implementations that do are thread-safe. {@link #close} may be called more than
 * once (by each process it served).
 */
public interface Placement extends AutoCloseable {
    /**
     * Who is asking: a process of the job, bound at {@code self}.
     *
     * @param role      trainer or parameter server
     * @param index     its rank (trainer) or shard (server)
     * @param self      where it listens, as the others reach it
     * @param digest    the job's digest ({@link JobTerms#digest}); a placement that compares processes refuses a different one
     * @param transport the process's transport (credentials, TLS), for a placement that calls out
     * @param timeout   how long to wait for the others
     */
    record Arrival(Role role, int index, HostPort self, String digest, Transport transport, Duration timeout) {}

    /**
     * Every process's address, in rank and shard order, once this one is bound; may wait for the others.
     *
     * @throws io.shadowsync.net.rdv.RendezvousException when the others do not arrive in time or this process is refused
     * @throws io.shadowsync.net.rdv.JobFinishedException  (a running job's placement) when the job has finished
     */
    Membership membership(Arrival arrival) throws InterruptedException;

    /** The port the process should listen on when its settings leave it free (0: any free port). */
    default int port(Role role, int index) {
        return 0;
    }

    /** The job's coordinator, which elastic trainers need to re-form their group; null when there is none. */
    default HostPort coordinator() {
        return null;
    }

    /** Whether a trainer placed here enters a job that runs already (it receives the job's state first). */
    default boolean joinsRunningJob() {
        return false;
    }

    /** Releases what the placement holds (a coordinator started here); nothing by default. May be called more than once. */
    @Override
    default void close() {}

    /** The lists known in advance: trainer i listens at {@code m.trainers().get(i)}, server s at {@code m.servers().get(s)}. */
    static Placement fixed(Membership m) {
        return new Placements.Fixed(m);
    }

    /** Every process registers with the job's coordinator at {@code coordinator} (running elsewhere). */
    static Placement coordinator(HostPort coordinator) {
        return new Placements.AtCoordinator(coordinator, null);
    }

    /**
     * As {@link #coordinator}, with the coordinator run in this process, listening at {@code coordinator} (its host is
     * the bind host) for a job of {@code trainers} trainers and {@code servers} parameter servers; it stops at
     * {@link #close}. {@code regroupWindow}: with elastic trainers, how long a re-forming group waits for its members.
     * The coordinator logs its membership changes through {@link System.Logger} ({@link io.shadowsync.net.rdv.Groups}).
     */
    static Placement startingCoordinator(HostPort coordinator, int trainers, int servers, Duration regroupWindow) {
        return new Placements.AtCoordinator(coordinator, new Placements.Start(trainers, servers, regroupWindow));
    }

    /**
     * A trainer entering the running job whose coordinator is at {@code coordinator}: the membership is the job's
     * ({@code trainers} trainers, checked), then the trainer waits to be admitted at the next round.
     */
    static Placement runningJob(HostPort coordinator, int trainers) {
        return new Placements.Running(coordinator, trainers);
    }
}
