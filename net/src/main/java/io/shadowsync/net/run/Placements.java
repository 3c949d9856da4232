package io.shadowsync.net.run;

import io.grpc.Server;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.StatusReply;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.ElasticRing;
import io.shadowsync.net.rdv.Groups;
import io.shadowsync.net.rdv.JobFinishedException;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/** The placements of {@link Placement}'s factories. */
final class Placements {
    private static final System.Logger LOG = System.getLogger(Placement.class.getName());

    private Placements() {}

    record Fixed(Membership members) implements Placement {
        Fixed {
            Objects.requireNonNull(members, "the job's membership");
        }

        @Override
        public Membership membership(Arrival a) {
            List<HostPort> mine = a.role() == Role.TRAINER ? members.trainers() : members.servers();
            if (a.index() < 0 || a.index() >= mine.size()) {
                throw new IllegalArgumentException(a.role().label() + " " + a.index() + " is not in the job's list of " + mine.size());
            }
            return members;
        }

        @Override
        public int port(Role role, int index) {
            List<HostPort> mine = role == Role.TRAINER ? members.trainers() : members.servers();
            return index >= 0 && index < mine.size() ? mine.get(index).port() : 0;
        }
    }

    /** What a coordinator started in this process needs. */
    record Start(int trainers, int servers, Duration regroupWindow) {}

    static final class AtCoordinator implements Placement {
        private final HostPort coordinator;
        private final Start start;
        private Server server;

        AtCoordinator(HostPort coordinator, Start start) {
            this.coordinator = Objects.requireNonNull(coordinator, "the coordinator's address");
            this.start = start;
        }

        @Override
        public Membership membership(Arrival a) throws InterruptedException {
            if (start != null) startCoordinator(a.transport(), a.timeout());
            return Rendezvous.join(a.transport(), coordinator, a.role(), a.index(), a.self(), a.digest(), a.timeout());
        }

        private synchronized void startCoordinator(Transport transport, Duration timeout) {
            if (server != null) return;
            Transport there = new Transport(transport.config().withBindHost(coordinator.host()));
            Coordinator c = new Coordinator(start.trainers(), start.servers(), timeout);
            Groups groups = new Groups(c, start.regroupWindow());
            try {
                server = there.serve(coordinator.port(), List.of(c, groups));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run the coordinator at " + coordinator + ": " + e.getMessage(), e);
            }
            LOG.log(System.Logger.Level.DEBUG, () -> "coordinator listening at " + coordinator);
        }

        @Override
        public HostPort coordinator() {
            return coordinator;
        }

        @Override
        public synchronized void close() {
            if (server != null) server.shutdownNow();
            server = null;
        }
    }

    record Running(HostPort coordinator, int trainers) implements Placement {
        Running {
            Objects.requireNonNull(coordinator, "the coordinator's address");
        }

        @Override
        public Membership membership(Arrival a) {
            if (a.role() != Role.TRAINER) throw new IllegalArgumentException("only a trainer joins a running job");
            StatusReply s = ElasticRing.status(a.transport(), coordinator, a.transport().config().callDeadline());
            if (s.getFinished()) throw new JobFinishedException("the job at " + coordinator + " has finished: trainer " + a.index() + " has nothing to join");
            if (s.getTrainersCount() == 0) {
                throw new IllegalArgumentException("the job at " + coordinator + " has not started yet (its rendezvous has not completed): start this trainer without --join");
            }
            if (s.getTrainersCount() != trainers) {
                throw new IllegalArgumentException("the job at " + coordinator + " has " + s.getTrainersCount() + " trainers, this one was given --trainers " + trainers);
            }
            List<HostPort> t = new ArrayList<>(), p = new ArrayList<>();
            for (String x : s.getTrainersList()) t.add(HostPort.parse(x));
            for (String x : s.getServersList()) p.add(HostPort.parse(x));
            return Membership.fromStatic(t, p);
        }

        @Override
        public boolean joinsRunningJob() {
            return true;
        }
    }
}
