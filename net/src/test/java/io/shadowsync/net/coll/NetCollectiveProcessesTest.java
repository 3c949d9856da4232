package io.shadowsync.net.coll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.Collective.ReduceOp;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.comm.Ranks;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Ranks in separate JVMs ({@link RingChild}), meeting through a rendezvous coordinator served by this JVM. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetCollectiveProcessesTest {
    private final Transport transport = new Transport(NetConfig.LOOPBACK);

    private static Process spawn(HostPort coordinator, int index, int len, int rounds, Path out, Path log, String... mode)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), RingChild.class.getName(), coordinator.toString(),
                Integer.toString(index), Integer.toString(len), Integer.toString(rounds), out.toString()));
        cmd.addAll(List.of(mode));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /**
     * Four trainer processes gossip over the socket plane: each exchange goes on a direct connection between the two
     * processes of a pair, so every process sends its own vector once an exchange (4·len bytes) plus the pairing (its
     * 4 bytes forwarded 3 times; in the first exchange its data port and ticket too, 41 bytes), for pairs 3 hops
     * apart on the ring (the mirrors: 0 and 3, 1 and 2) as for neighbours, and each gets its peer's vector, bit for
     * bit. Caught: the ring relay between processes (rank 0's vector would cross 3 hops: 2 vectors sent by some
     * ranks), a direct connection that is never opened across processes, or one that delivers another rank's frames.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // four JVMs start on a machine that may be busy
    void fourProcessesGossipOnDirectConnections(@TempDir Path dir) throws Exception {
        int n = 4, len = 10_007, rounds = 3;
        List<Process> children = new ArrayList<>();
        Coordinator rdv = new Coordinator(n, 0, Duration.ofSeconds(30));
        Server server = transport.serve(0, List.of(rdv));
        try {
            HostPort coordinator = new HostPort("127.0.0.1", server.getPort());
            for (int i = 0; i < n; i++) {
                children.add(spawn(coordinator, i, len, rounds, dir.resolve("out" + i), dir.resolve("log" + i), "exchange"));
            }
            for (int i = 0; i < n; i++) {
                Process p = children.get(i);
                assertTrue(p.waitFor(50, TimeUnit.SECONDS), "trainer " + i + " did not finish: " + Files.readString(dir.resolve("log" + i)));
                String log = Files.readString(dir.resolve("log" + i));
                assertEquals(0, p.exitValue(), "trainer " + i + ": " + log);
                for (int k = 0; k < rounds; k++) {
                    long due = 4L * len + (n - 1) * (k == 0 ? 41L : 4L);
                    assertTrue(log.contains("exchange " + k + " bytes " + due + "\n"), "trainer " + i + " round " + k + ": " + due + " due in " + log);
                }
                int peer = RingChild.peer(i, n, rounds - 1);
                assertArrayEquals(NetCollectiveTest.bits(NetCollectiveTest.input(peer, len, 0)),
                        NetCollectiveTest.bits(read(dir.resolve("out" + i), len)), "trainer " + i + " gets trainer " + peer + "'s vector");
            }
        } finally {
            for (Process p : children) p.destroyForcibly();
            server.shutdownNow();
            rdv.close();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static float[] read(Path p, int len) throws IOException {
        float[] x = new float[len];
        try (DataInputStream d = new DataInputStream(Files.newInputStream(p))) {
            for (int i = 0; i < len; i++) x[i] = d.readFloat();
        }
        return x;
    }

    @Test
    void threeProcessesAllReduceOverLoopback(@TempDir Path dir) throws Exception {
        int n = 3, len = 20_011;
        List<Process> children = new ArrayList<>();
        Coordinator rdv = new Coordinator(n, 0, Duration.ofSeconds(30));
        Server server = transport.serve(0, List.of(rdv));
        try {
            HostPort coordinator = new HostPort("127.0.0.1", server.getPort());
            for (int i = 0; i < n; i++) children.add(spawn(coordinator, i, len, 2, dir.resolve("out" + i), dir.resolve("log" + i)));
            for (int i = 0; i < n; i++) {
                Process p = children.get(i);
                assertTrue(p.waitFor(45, TimeUnit.SECONDS), "trainer " + i + " did not finish: " + Files.readString(dir.resolve("log" + i)));
                assertEquals(0, p.exitValue(), "trainer " + i + ": " + Files.readString(dir.resolve("log" + i)));
            }
            float[][] want = new float[n][];
            try (InProcessCollectives g = new InProcessCollectives(n, LinkModel.NONE)) {
                Ranks.runAll(n, r -> {
                    float[] x = NetCollectiveTest.input(r, len, 0);
                    g.rank(r).allReduce(x, 0, len, ReduceOp.SUM);
                    want[r] = x;
                });
            }
            for (int i = 0; i < n; i++) {
                assertArrayEquals(NetCollectiveTest.bits(want[i]), NetCollectiveTest.bits(read(dir.resolve("out" + i), len)),
                        "trainer " + i + " differs from the in-process ring");
            }
            assertEquals(3, rdv.membership().trainers().size());
        } finally {
            for (Process p : children) p.destroyForcibly();
            server.shutdownNow();
            rdv.close();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Ranks 0 and 1 live in this JVM, rank 2 in a child that is killed mid-loop: both survivors name it quickly. */
    @Test
    void aKilledProcessIsNamedWithinSeconds(@TempDir Path dir) throws Exception {
        killMidLoop(dir, 50_000);
    }

    /**
     * The same with 8 MB allreduces, several 1 MiB messages per step on the data plane: the child dies in the middle
     * of a transfer (its data connections end mid-frame, or a write to it breaks). Caught: a survivor blocked in a
     * socket write or read that only its 30 s timeout ends, or that fails without naming the killed rank.
     */
    @Test
    void aProcessKilledMidTransferIsNamedWithinSeconds(@TempDir Path dir) throws Exception {
        killMidLoop(dir, 2_000_000);
    }

    private void killMidLoop(Path dir, int len) throws Exception {
        int n = 3;
        Process child = null;
        Coordinator rdv = new Coordinator(n, 0, Duration.ofSeconds(30));
        try (Hosts hosts = new Hosts(2)) {
            Server server = transport.serve(0, List.of(rdv));
            try {
                HostPort coordinator = new HostPort("127.0.0.1", server.getPort());
                child = spawn(coordinator, 2, len, -1, dir.resolve("out"), dir.resolve("log"));
                AtomicInteger rounds = new AtomicInteger();
                Membership[] seen = new Membership[1];
                Throwable[] thrown = new Throwable[2];
                Thread[] t = Ranks.start(2, thrown, r -> {
                    Membership m = Rendezvous.join(transport, coordinator, Role.TRAINER, r, hosts.address(r), "test-digest",
                            Duration.ofSeconds(30));
                    seen[0] = m;
                    try (Collective c = NetCollective.join(hosts.transport, hosts.endpoint(r), "trainers", r, m.trainers(),
                            Duration.ofSeconds(30))) {
                        float[] x = new float[len];
                        while (true) {
                            c.allReduce(x, 0, len, ReduceOp.SUM);
                            if (r == 0) rounds.incrementAndGet();
                        }
                    }
                });
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                while (rounds.get() < 5 && t[0].isAlive() && System.nanoTime() < waitUntil) Thread.sleep(5);
                assertTrue(rounds.get() >= 5, "the ring never ran: " + thrown[0] + " / " + Files.readString(dir.resolve("log")));
                child.destroyForcibly();
                long t0 = System.nanoTime();
                Ranks.join(t, 10_000);
                double s = (System.nanoTime() - t0) / 1e9;
                assertTrue(s < 5, "took " + s + " s to notice");
                String peer = "rank 2 at " + seen[0].trainers().get(2);
                for (int r = 0; r < 2; r++) {
                    assertInstanceOf(IllegalStateException.class, thrown[r], "rank " + r);
                    assertTrue(thrown[r].getMessage().contains(peer + " vanished during allReduce"), thrown[r].getMessage());
                }
                System.out.printf("killed child noticed after %.3f s: %s%n", s, thrown[0].getMessage());
            } finally {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            if (child != null) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
            rdv.close();
        }
    }
}
