package io.shadowsync.net.rdv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RendezvousTest {
    private static final Duration LONG = Duration.ofSeconds(20);
    private final Transport transport = new Transport(NetConfig.LOOPBACK);
    private Server server;
    private Coordinator coordinator;

    /** One joiner: what it asks for, and what it got (a membership or an exception). */
    private record Joiner(Role role, int index, HostPort self, String digest) {}

    private HostPort start(int trainers, int servers, Duration timeout) throws IOException {
        coordinator = new Coordinator(trainers, servers, timeout);
        server = transport.serve(0, List.of(coordinator));
        return new HostPort("127.0.0.1", server.getPort());
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.shutdownNow();
            assertTrue(server.awaitTermination(5, TimeUnit.SECONDS));
        }
        if (coordinator != null) coordinator.close();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().equals("rendezvous-timeout") && t.isAlive(), "the coordinator's timer outlived close");
        }
    }

    private static HostPort at(int port) {
        return new HostPort("10.0.0." + (port % 7 + 1), port);
    }

    /** Runs the joiners on their own threads; each result is a Membership or the Throwable it threw. */
    private Object[] joinAll(HostPort coord, Duration timeout, Joiner... joiners) throws InterruptedException {
        Object[] got = new Object[joiners.length];
        Thread[] t = new Thread[joiners.length];
        for (int i = 0; i < joiners.length; i++) {
            final int k = i;
            Joiner j = joiners[i];
            t[i] = new Thread(() -> {
                try {
                    got[k] = Rendezvous.join(transport, coord, j.role, j.index, j.self, j.digest, timeout);
                } catch (Throwable e) {
                    got[k] = e;
                }
            }, "joiner-" + i);
            t[i].start();
        }
        for (Thread th : t) {
            th.join(25_000);
            assertFalse(th.isAlive(), th.getName() + " hangs");
        }
        return got;
    }

    @Test
    void everyoneGetsTheSameMembershipInIndexOrder() throws Exception {
        HostPort coord = start(2, 1, LONG);
        Object[] got = joinAll(coord, LONG,
                new Joiner(Role.PS, 0, at(9000), "d"),
                new Joiner(Role.TRAINER, 1, at(7001), "d"),
                new Joiner(Role.TRAINER, 0, at(7000), "d"),
                new Joiner(Role.TRAINER, 0, at(7000), "d")); // the same process asking twice (a retried call)
        Membership want = new Membership(List.of(at(7000), at(7001)), List.of(at(9000)));
        for (Object o : got) assertEquals(want, o);
        assertEquals(want, coordinator.membership());
        // a late retry after completion gets the same answer at once
        assertEquals(want, Rendezvous.join(transport, coord, Role.TRAINER, 1, at(7001), "d", LONG));
    }

    @Test
    void aTimeoutNamesEveryoneWhoNeverArrived() throws Exception {
        HostPort coord = start(3, 2, Duration.ofMillis(400));
        Object[] got = joinAll(coord, LONG,
                new Joiner(Role.TRAINER, 0, at(7000), "d"),
                new Joiner(Role.TRAINER, 1, at(7001), "d"),
                new Joiner(Role.PS, 0, at(9000), "d"));
        for (Object o : got) {
            RendezvousException e = assertInstanceOf(RendezvousException.class, o);
            assertEquals("rendezvous timed out after 0.4 s: trainer 2, ps 1 never arrived", e.getMessage());
        }
        assertNull(coordinator.membership());
        // one that comes after the timeout is told the same
        RendezvousException late = assertThrows(RendezvousException.class,
                () -> Rendezvous.join(transport, coord, Role.TRAINER, 2, at(7002), "d", LONG));
        assertTrue(late.getMessage().contains("trainer 2, ps 1 never arrived"), late.getMessage());
    }

    @Test
    void aDifferentDigestIsRefusedNamingBothProcesses() throws Exception {
        HostPort coord = start(2, 0, Duration.ofMillis(1500));
        Object[] first = new Object[1];
        Thread t = new Thread(() -> {
            try {
                first[0] = Rendezvous.join(transport, coord, Role.TRAINER, 0, at(7000), "digest-a", LONG);
            } catch (Throwable e) {
                first[0] = e;
            }
        });
        t.start();
        while (coordinator.joined() < 1) Thread.onSpinWait();
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.join(transport, coord, Role.TRAINER, 1, at(7001), "digest-b", LONG));
        assertTrue(e.getMessage().contains("trainer 1 at " + at(7001) + " has config digest 'digest-b', but trainer 0 at "
                + at(7000) + ", the first to join, has 'digest-a'"), e.getMessage());
        t.join(10_000);
        // the first one times out, and is told why its peer is missing
        RendezvousException timeout = assertInstanceOf(RendezvousException.class, first[0]);
        assertTrue(timeout.getMessage().contains("trainer 1 never arrived (trainer 1 at " + at(7001)
                + " was refused (config digest differs))"), timeout.getMessage());
    }

    @Test
    void aDuplicateIndexIsRefused() throws Exception {
        HostPort coord = start(2, 0, LONG);
        Object[] first = new Object[1];
        Thread t = new Thread(() -> {
            try {
                first[0] = Rendezvous.join(transport, coord, Role.TRAINER, 0, at(7000), "d", LONG);
            } catch (Throwable e) {
                first[0] = e;
            }
        });
        t.start();
        while (coordinator.joined() < 1) Thread.onSpinWait();
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.join(transport, coord, Role.TRAINER, 0, at(7005), "d", LONG));
        assertTrue(e.getMessage().contains("trainer 0 is already taken by " + at(7000) + "; " + at(7005)
                + " cannot join as trainer 0"), e.getMessage());
        RendezvousException range = assertThrows(RendezvousException.class,
                () -> Rendezvous.join(transport, coord, Role.PS, 0, at(9000), "d", LONG));
        assertTrue(range.getMessage().contains("ps 0 is not expected: this job has 0 pss"), range.getMessage());
        RendezvousException twice = assertThrows(RendezvousException.class,
                () -> Rendezvous.join(transport, coord, Role.TRAINER, 1, at(7000), "d", LONG));
        assertTrue(twice.getMessage().contains(at(7000) + " has already joined as trainer 0"), twice.getMessage());
        assertEquals(new Membership(List.of(at(7000), at(7001)), List.of()),
                Rendezvous.join(transport, coord, Role.TRAINER, 1, at(7001), "d", LONG));
        t.join(10_000);
        assertEquals(new Membership(List.of(at(7000), at(7001)), List.of()), first[0]);
    }

    @Test
    void joinersWaitForACoordinatorThatStartsLate() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HostPort coord = new HostPort("127.0.0.1", port);
        Object[] got = new Object[1];
        Thread t = new Thread(() -> {
            try {
                got[0] = Rendezvous.join(transport, coord, Role.TRAINER, 0, at(7000), "d", LONG);
            } catch (Throwable e) {
                got[0] = e;
            }
        });
        t.start();
        while (t.isAlive() && t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.WAITING) {
            Thread.onSpinWait(); // it has tried once, found nobody, and waits to try again
        }
        coordinator = new Coordinator(1, 0, LONG);
        server = transport.serve(port, List.of(coordinator));
        t.join(10_000);
        assertEquals(new Membership(List.of(at(7000)), List.of()), got[0]);
    }

    @Test
    void aCoordinatorThatNeverComesIsReported() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HostPort coord = new HostPort("127.0.0.1", port);
        RendezvousException e = assertThrows(RendezvousException.class,
                () -> Rendezvous.join(transport, coord, Role.PS, 1, at(9001), "d", Duration.ofMillis(300)));
        assertTrue(e.getMessage().startsWith("no rendezvous coordinator answered ps 1 at " + at(9001) + " at " + coord
                + " within 0.3 s"), e.getMessage());
    }

    @Test
    void staticMembership() {
        Membership m = Membership.fromStatic("10.0.0.1:7100, 10.0.0.2:7100", "10.0.0.9:7200");
        assertEquals(List.of(HostPort.parse("10.0.0.1:7100"), HostPort.parse("10.0.0.2:7100")), m.trainers());
        assertEquals(List.of(HostPort.parse("10.0.0.9:7200")), m.servers());
        assertEquals(List.of(m.trainers().get(0), m.trainers().get(0), m.trainers().get(1), m.trainers().get(1)), m.ranks(2));
        assertEquals(m.trainers(), m.ranks(1));
        assertEquals(List.of(), Membership.fromStatic("h:1", "").servers());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> Membership.fromStatic("h:1,h:2,h:1", null));
        assertEquals("trainer 0 and trainer 2 are both at h:1: each is its own process with its own port", dup.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Membership.fromStatic("h:1,h", null));
        assertTrue(bad.getMessage().startsWith("trainer 1: "), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Membership.fromStatic("", "h:1"));
        assertThrows(IllegalArgumentException.class, () -> m.ranks(0));
        assertThrows(IllegalArgumentException.class, () -> new Coordinator(0, 1, LONG));
        assertThrows(IllegalArgumentException.class, () -> new Coordinator(1, 0, Duration.ZERO));
    }
}
