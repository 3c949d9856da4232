package io.shadowsync.net.coll;

import io.grpc.Server;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.Collective.ReduceOp;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A trainer process for the multi-process tests: serves a ring endpoint on 127.0.0.1 (port 0), joins the job's
 * rendezvous as trainer {@code index}, allreduces (SUM) its seeded input {@code rounds} times (−1: until killed) in
 * group "trainers", writes the last result to {@code out} as raw big-endian floats, and exits 0 (1 on failure). With a
 * sixth argument {@code exchange} it runs gossip exchanges instead: in round k its peer is {@link #peer}, it prints
 * {@code exchange k bytes B} (what it sent in that exchange) and writes the last vector it received.
 * <pre>java -cp ... io.shadowsync.net.coll.RingChild COORDINATOR INDEX LEN ROUNDS OUT [exchange]</pre>
 */
public final class RingChild {
    private RingChild() {}

    public static void main(String[] args) throws Exception {
        HostPort coordinator = HostPort.parse(args[0]);
        int index = Integer.parseInt(args[1]);
        int len = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        Path out = Path.of(args[4]);
        Transport t = new Transport(NetConfig.LOOPBACK);
        RingEndpoint ring = new RingEndpoint();
        Server server = t.serve(0, List.of(ring));
        int status = 1;
        try {
            HostPort self = new HostPort("127.0.0.1", server.getPort());
            long t0 = System.nanoTime();
            System.out.printf("trainer %d serving at %s, %d ms after JVM start%n", index, self,
                    System.currentTimeMillis() - ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli());
            Membership m = Rendezvous.join(t, coordinator, Role.TRAINER, index, self, "test-digest", Duration.ofSeconds(30));
            float[] x = null;
            boolean exchange = args.length > 5 && args[5].equals("exchange");
            try (Collective c = NetCollective.join(t, ring, "trainers", index, m.trainers(), Duration.ofSeconds(30))) {
                for (int k = 0; rounds < 0 || k < rounds; k++) {
                    if (exchange) {
                        x = new float[len];
                        long before = c.bytesSent();
                        c.exchange(peer(index, c.size(), k), NetCollectiveTest.input(index, len, 0), 0, x, 0, len);
                        System.out.printf("exchange %d bytes %d%n", k, c.bytesSent() - before);
                        continue;
                    }
                    x = NetCollectiveTest.input(index, len, 0);
                    c.allReduce(x, 0, len, ReduceOp.SUM);
                }
            }
            write(out, x);
            System.out.printf("trainer %d done, %d ms after serving%n", index, (System.nanoTime() - t0) / 1_000_000);
            status = 0;
        } catch (Exception | Error e) {
            e.printStackTrace(System.out);
        } finally {
            ring.close();
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
        System.exit(status);
    }

    /** Rank r's peer in exchange round k of n ranks: the mirror (n − 1 − r) in even rounds, the neighbour (r ^ 1) in odd ones. */
    static int peer(int r, int n, int k) {
        return k % 2 == 0 ? n - 1 - r : (r ^ 1) < n ? r ^ 1 : r;
    }

    private static void write(Path out, float[] x) throws IOException {
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(out))) {
            for (float v : x) d.writeFloat(v);
        }
    }
}
