package io.shadowsync.net.rdv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.shadowsync.comm.Collective;
import io.shadowsync.engine.JobState;
import io.shadowsync.engine.feed.Takeover;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.sync.Gossip;
import io.shadowsync.sync.GossipSchedule;
import io.shadowsync.sync.ModelAveraging;
import io.shadowsync.sync.SyncAlgorithm;
import io.shadowsync.testing.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Elastic trainers over real gRPC on 127.0.0.1, each "process" its own server and ring endpoint in this JVM: a member
 * that vanishes is dropped and the allreduce completes over the survivors; a trainer that enters later is admitted
 * after a round and receives the global model; a member that straggles beyond the bound is dropped and comes back
 * with the state; refusals name the reason.
 */
class ElasticRingTest {
    private static final Duration STRAGGLER = Duration.ofSeconds(2);
    private static final Duration WINDOW = Duration.ofMillis(600);
    private static final String DIGEST = "d1";

    private final Transport transport = new Transport(NetConfig.LOOPBACK);
    private final List<Server> servers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** What the coordinator's Groups and the rings log (the io.shadowsync.net.rdv loggers), per test. */
    private LogCapture logs;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private Groups groups;
    private HostPort coordinator;

    /** One trainer process: its ring endpoint and the server that serves it. */
    private record Proc(RingEndpoint endpoint, Server server, HostPort address) {}

    @BeforeEach
    void startCoordinator() throws Exception {
        Coordinator rdv = new Coordinator(3, 0, Duration.ofSeconds(30));
        logs = LogCapture.of("io.shadowsync.net.rdv");
        closeables.add(logs);
        groups = new Groups(rdv, WINDOW);
        Server s = transport.serve(0, List.of(rdv, groups));
        servers.add(s);
        closeables.add(groups);
        closeables.add(rdv);
        coordinator = new HostPort("127.0.0.1", s.getPort());
    }

    @AfterEach
    void stopAll() throws Exception {
        pool.shutdownNow();
        Exception first = null;
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                if (first == null) first = e; // close the rest (the coordinator's timer among them) before failing
            }
        }
        for (Server s : servers) s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "test threads did not end");
        if (first != null) throw first;
    }

    private Proc process() throws Exception {
        RingEndpoint e = new RingEndpoint();
        Server s = transport.serve(0, List.of(e));
        servers.add(s);
        closeables.add(e);
        return new Proc(e, s, new HostPort("127.0.0.1", s.getPort()));
    }

    /** Three trainers through the rendezvous, each with its elastic handle of epoch 0. */
    private List<ElasticRing> threeMembers(List<Proc> procs) throws Exception {
        List<Future<Membership>> joins = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Proc p = process();
            procs.add(p);
            int index = i;
            joins.add(pool.submit(() -> Rendezvous.join(transport, coordinator, Role.TRAINER, index, p.address(), DIGEST, Duration.ofSeconds(20))));
        }
        List<ElasticRing> rings = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Membership m = joins.get(i).get(20, TimeUnit.SECONDS);
            ElasticRing r = ElasticRing.start(transport, procs.get(i).endpoint(), coordinator, i, procs.get(i).address(), DIGEST, m.trainers(),
                    STRAGGLER, Duration.ofSeconds(20), 50);
            rings.add(r);
            closeables.add(r);
        }
        return rings;
    }

    private <T> List<T> onEach(List<Callable<T>> tasks) throws Exception {
        List<Future<T>> fs = new ArrayList<>();
        for (Callable<T> t : tasks) fs.add(pool.submit(t));
        List<T> out = new ArrayList<>();
        for (Future<T> f : fs) out.add(f.get(30, TimeUnit.SECONDS));
        return out;
    }

    /** A process that dies: its server stops without a goodbye on any stream. */
    private static void kill(Proc p) throws InterruptedException {
        p.server().shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        p.endpoint().close();
    }

    @Test
    void survivorsFinishTheAllReduceWithoutTheDeadMember() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembers(procs);
        // one allreduce with everybody
        List<float[]> sums = onEach(List.of(reduce(rings.get(0), 1), reduce(rings.get(1), 2), reduce(rings.get(2), 4)));
        for (float[] s : sums) assertArrayEquals(new float[]{7, 14, 21}, s);

        kill(procs.get(2));
        rings.get(2).close();
        sums = onEach(List.of(reduce(rings.get(0), 1), reduce(rings.get(1), 2)));
        for (float[] s : sums) assertArrayEquals(new float[]{3, 6, 9}, s, "the sum over the two survivors, each input counted once");
        for (int i = 0; i < 2; i++) {
            assertEquals(List.of(0, 1), rings.get(i).members());
            assertEquals(2, rings.get(i).size());
            assertEquals(1, rings.get(i).epoch());
            assertTrue(rings.get(i).changes().get(0).contains("trainer 2") && rings.get(i).changes().get(0).contains("left"),
                    rings.get(i).changes().toString());
        }
        assertEquals(List.of(0, 1), groups.members());
    }

    /** Member i reports a mark of (10·(i+1), i+1) examples for its two workers. */
    private static void report(List<ElasticRing> rings) {
        for (int i = 0; i < rings.size(); i++) {
            JobState.ShardPosition mark = new JobState.ShardPosition(new long[] {10L * (i + 1), i + 1});
            rings.get(i).reportProgress(() -> mark);
        }
    }

    /**
     * Waits until the coordinator has heard every member's mark from {@link #report}: the members send it with their
     * status polls (every 50 ms), and a member killed before its first poll got through leaves no mark (nothing of its
     * share is credited; the survivors take it over from the start).
     */
    private void awaitReported(int members) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int i = 0; i < members; i++) {
            while (groups.reportedExamples(i) != 11L * (i + 1)) {
                assertTrue(System.nanoTime() < deadline, "the coordinator has not heard trainer " + i + "'s mark within 20 s");
                Thread.sleep(10);
            }
        }
    }

    /** Three members whose marks the coordinator has heard; then trainer 2 dies. */
    private List<ElasticRing> threeMembersAfterTrainer2Left(List<Proc> procs) throws Exception {
        List<ElasticRing> rings = threeMembers(procs);
        report(rings);
        awaitReported(3);
        kill(procs.get(2));
        rings.get(2).close();
        return rings;
    }

    private static Callable<ElasticRing.Shares> finish(ElasticRing r) {
        return r::finishShares;
    }

    @Test
    void theSurvivorsAreHandedTheRestOfADepartedSharesFromItsMark() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembersAfterTrainer2Left(procs);

        List<ElasticRing.Shares> got = onEach(List.of(finish(rings.get(0)), finish(rings.get(1))));
        for (ElasticRing.Shares s : got) {
            assertEquals(1, s.leftovers().size(), s.toString());
            Takeover.Part p = s.leftovers().get(0);
            assertEquals(2, p.trainer());
            assertArrayEquals(new long[] {30, 3}, p.from().perWorker(), "trainer 2's share from its last reported mark");
            assertEquals(List.of(), p.filters());
            assertEquals(33, s.departedExamples(), "trainer 2 is credited with what it trained up to its mark");
        }
        assertTrue(logs.messages().stream().anyMatch(l -> l.contains("take over the rest of trainer 2's share (33 examples")), logs.messages().toString());
        // once the takes are trained, nothing is left: the job's data is done
        got = onEach(List.of(finish(rings.get(0)), finish(rings.get(1))));
        for (ElasticRing.Shares s : got) assertEquals(List.of(), s.leftovers());
        // and a trainer 2 started now has nothing to join
        Proc late = process();
        assertThrows(JobFinishedException.class, () -> ElasticRing.enter(transport, late.endpoint(), coordinator, 2, late.address(), DIGEST,
                STRAGGLER, Duration.ofSeconds(5), 50));
    }

    @Test
    void aSurvivorThatLeavesDuringItsTakeHasItTakenOverAgain() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembersAfterTrainer2Left(procs);
        onEach(List.of(finish(rings.get(0)), finish(rings.get(1))));
        kill(procs.get(1)); // trainer 1 dies while it trains its take (1 of 2)
        rings.get(1).close();
        ElasticRing.Shares s = finish(rings.get(0)).call();
        assertEquals(1, s.leftovers().size(), s.toString());
        Takeover.Part p = s.leftovers().get(0);
        assertEquals(2, p.trainer());
        assertEquals(List.of(new Takeover.Filter(2, 1)), p.filters(), "trainer 1's take: batch 1 of every 2 of trainer 2's rest");
        assertEquals(33 + 22, s.departedExamples(), "trainer 1 is credited with its own share (its last mark), not its take");
        assertEquals(List.of(0), rings.get(0).members());
        assertEquals(List.of(), finish(rings.get(0)).call().leftovers());
    }

    @Test
    void aNewProcessForADepartedIndexResumesFromItsMark() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembersAfterTrainer2Left(procs);
        Proc again = process();
        Future<ElasticRing> joiner = pool.submit(() -> {
            ElasticRing r = ElasticRing.enter(transport, again.endpoint(), coordinator, 2, again.address(), DIGEST, STRAGGLER,
                    Duration.ofSeconds(20), 50);
            synchronized (closeables) {
                closeables.add(r);
            }
            new ModelAveraging(r, 1).prepare(new float[1]);
            return r;
        });
        float[][] w = {{1}, {3}};
        ModelAveraging[] ma = {new ModelAveraging(rings.get(0), 1), new ModelAveraging(rings.get(1), 1)};
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (rings.get(0).epoch() < 2 && System.nanoTime() < deadline) onEach(List.of(() -> ma[0].round(w[0], true), () -> ma[1].round(w[1], true)));
        ElasticRing r = joiner.get(20, TimeUnit.SECONDS);
        assertArrayEquals(new long[] {30, 3}, r.resume().perWorker(), "the joiner goes on from its index's last mark");
        // it has not reported yet: its share is not handed out, and nothing departed is credited any more
        List<ElasticRing.Shares> got = onEach(List.of(finish(rings.get(0)), finish(rings.get(1)), finish(r)));
        for (ElasticRing.Shares s : got) {
            assertEquals(List.of(), s.leftovers());
            assertEquals(33, s.departedExamples(), "the first trainer 2 trained 33 examples; the new one counts its own");
        }
    }

    private static Callable<float[]> reduce(Collective c, float scale) {
        return () -> {
            float[] v = {scale, 2 * scale, 3 * scale};
            c.allReduce(v, 0, v.length, Collective.ReduceOp.SUM);
            return v;
        };
    }

    /**
     * Trainer 2 entering the running job in a new process: it waits to be admitted, then its algorithm's prepare
     * receives the state into w, which the future returns.
     */
    private Future<float[]> enterLater(float[] w, java.util.function.Function<ElasticRing, SyncAlgorithm> algorithm) throws Exception {
        Proc again = process();
        return pool.submit(() -> {
            ElasticRing r = ElasticRing.enter(transport, again.endpoint(), coordinator, 2, again.address(), DIGEST, STRAGGLER,
                    Duration.ofSeconds(20), 50);
            synchronized (closeables) {
                closeables.add(r);
            }
            assertTrue(r.needsState());
            algorithm.apply(r).prepare(w);
            assertFalse(r.needsState());
            return w;
        });
    }

    @Test
    void aTrainerThatEntersLaterIsAdmittedAndTakesTheGlobalModel() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembers(procs);
        kill(procs.get(2));
        rings.get(2).close();

        // the two survivors average; trainer 2 comes back in a new process and waits to be admitted
        Future<float[]> joiner = enterLater(new float[] {-100, -100, -100}, r -> new ModelAveraging(r, 3));
        float[][] w = {{1, 2, 3}, {3, 4, 5}};
        ModelAveraging[] ma = {new ModelAveraging(rings.get(0), 3), new ModelAveraging(rings.get(1), 3)};
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (rings.get(0).epoch() < 2 && System.nanoTime() < deadline) { // epoch 1: trainer 2 left; 2: it joined
            List<Integer> active = onEach(List.of(() -> ma[0].round(w[0], true), () -> ma[1].round(w[1], true)));
            assertEquals(List.of(2, 2), active, "both survivors are still training");
        }
        float[] joined = joiner.get(20, TimeUnit.SECONDS);
        assertEquals(List.of(0, 1, 2), rings.get(0).members(), "trainer 2 is admitted after a round");
        assertArrayEquals(new float[]{2, 3, 4}, w[0], "the survivors' average");
        assertArrayEquals(w[0], joined, "the newcomer starts from the global model, bit for bit");
        assertTrue(rings.get(0).changes().stream().anyMatch(c -> c.contains("trainer 2") && c.contains("joined")), rings.get(0).changes().toString());
    }

    /**
     * Gossip over the elastic group: a member that dies mid-job does not hang the others. The round it breaks ends
     * (the group changed: nobody averaged in it, or only a pair that finished before the break), the next rounds pair
     * the two survivors with each other, and their last round leaves both on the same bits, their mean. Then a trainer
     * that enters later is admitted after a round and starts from rank 0's replica. Caught: a gossip that keeps
     * pairing with the departed rank (the exchange would refuse or wait), one that does not carry the joiners flag
     * or broadcast the state (the newcomer would wait forever in prepare).
     */
    @Test
    void gossipGoesOnOverTheSurvivorsAndAdmitsANewcomer() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembers(procs);
        float[][] w = {{1, 2}, {3, 4}, {50, 60}};
        Gossip[] g = new Gossip[3];
        for (int i = 0; i < 3; i++) g[i] = new Gossip(rings.get(i), 2, GossipSchedule.RANDOM, 7);
        assertEquals(List.of(3, 3, 3), onEach(List.of(() -> g[0].round(w[0], true), () -> g[1].round(w[1], true),
                () -> g[2].round(w[2], true))));

        kill(procs.get(2));
        rings.get(2).close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (rings.get(0).epoch() < 1 && System.nanoTime() < deadline) {
            List<Integer> active = onEach(List.of(() -> g[0].round(w[0], true), () -> g[1].round(w[1], true)));
            assertTrue(active.get(0) >= 1 && active.get(1) >= 1, "the survivors go on: " + active);
        }
        assertEquals(List.of(0, 1), rings.get(0).members());
        assertEquals(List.of(2, 2), onEach(List.of(() -> g[0].round(w[0], true), () -> g[1].round(w[1], true))),
                "a round of the two survivors, paired with each other");
        assertArrayEquals(w[0], w[1], 1e-6f, "the survivors averaged with each other");

        Future<float[]> joiner = enterLater(new float[] {-100, -100}, r -> new Gossip(r, 2, GossipSchedule.RANDOM, 7));
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (rings.get(0).epoch() < 2 && System.nanoTime() < deadline) { // epoch 2: trainer 2 joined
            onEach(List.of(() -> g[0].round(w[0], true), () -> g[1].round(w[1], true)));
        }
        float[] joined = joiner.get(20, TimeUnit.SECONDS);
        assertEquals(List.of(0, 1, 2), rings.get(0).members(), "trainer 2 is admitted after a round");
        assertArrayEquals(w[0], joined, "the newcomer starts from rank 0's replica, bit for bit");
    }

    @Test
    void aStragglerBeyondTheBoundIsDroppedAndComesBackWithTheState() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembers(procs);
        float[][] w = {{1, 1}, {3, 3}, {50, 50}};
        ModelAveraging[] ma = new ModelAveraging[3];
        for (int i = 0; i < 3; i++) ma[i] = new ModelAveraging(rings.get(i), 2);
        // trainers 0 and 1 take rounds; trainer 2 sleeps past the bound and the regroup window, then takes its round
        Future<Integer> late = pool.submit(() -> {
            Thread.sleep(STRAGGLER.toMillis() + 2 * WINDOW.toMillis());
            return ma[2].round(w[2], true);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
        while (!late.isDone() && System.nanoTime() < deadline) {
            onEach(List.of(() -> ma[0].round(w[0], true), () -> ma[1].round(w[1], true)));
        }
        assertEquals(1, late.get(5, TimeUnit.SECONDS), "the straggler's round ends by taking the state");
        assertArrayEquals(new float[]{2, 2}, w[0], "the two on time averaged without the straggler");
        assertArrayEquals(w[0], w[2], "the straggler took the global model when it came back");
        assertTrue(logs.messages().stream().anyMatch(l -> l.contains("trainer 2") && l.contains("left")), logs.messages().toString());
        assertTrue(logs.messages().stream().anyMatch(l -> l.contains("trainer 2") && l.contains("joined")), logs.messages().toString());
    }

    @Test
    void refusalsNameTheReason() throws Exception {
        List<Proc> procs = new ArrayList<>();
        List<ElasticRing> rings = threeMembers(procs);
        Proc other = process();
        RendezvousException running = assertThrows(RendezvousException.class, () -> ElasticRing.enter(transport, procs.get(1).endpoint(), coordinator, 1,
                procs.get(1).address(), DIGEST, STRAGGLER, Duration.ofSeconds(5), 50));
        assertTrue(running.getMessage().contains("trainer 1 is running at"), running.getMessage());
        RendezvousException digest = assertThrows(RendezvousException.class, () -> ElasticRing.enter(transport, other.endpoint(), coordinator, 5,
                other.address(), "other", STRAGGLER, Duration.ofSeconds(5), 50));
        assertTrue(digest.getMessage().contains("config digest"), digest.getMessage());
        rings.get(0).finish();
        JobFinishedException over = assertThrows(JobFinishedException.class, () -> ElasticRing.enter(transport, other.endpoint(), coordinator, 2,
                other.address(), DIGEST, STRAGGLER, Duration.ofSeconds(5), 50));
        assertTrue(over.getMessage().contains("finished"), over.getMessage());
    }
}
