package io.shadowsync.net.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.ckpt.Manifest;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.data.Batch;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.DataException;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.ForwardingReader;
import io.shadowsync.data.ForwardingSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.Job;
import io.shadowsync.model.LrSpec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.sync.SyncAlgorithms;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole life of a multi-process job in one JVM: {@link ServerProcess}es and {@link TrainerProcess}es on threads,
 * talking gRPC over 127.0.0.1 on free ports, placed by one fixed list built after every process has bound (as a Spark
 * barrier stage does). Every algorithm of the registry trains this way (the test-only one included); a checkpoint is
 * resumed from; a stop ends every trainer without exiting the JVM; a failing trainer ends the others with its cause.
 */
class TrainerProcessTest {
    @TempDir
    static Path dir;
    static DataSource train;
    static DataSource eval;
    static final int ROWS = 3000;

    @BeforeAll
    static void data() throws IOException {
        new SyntheticCtr(new SyntheticCtr.Config(ROWS, 500, 11, 2000)).generate(dir.resolve("ctr"));
        train = InMemorySource.load(new CriteoTsvSource(dir.resolve("ctr/train.tsv"), false));
        eval = new CriteoTsvSource(dir.resolve("ctr/eval.tsv"), false);
    }

    private static TrainingJob.Builder job(String algorithm) {
        return TrainingJob.builder().data(train).model(new LrSpec(10, 13, 26, false)).trainers(2).psShards(1).sync(algorithm)
                .batchSize(32).seed(5);
    }

    /** A job's processes in this JVM: servers started, trainers bound, then every process placed by one fixed list. */
    private static final class Local implements AutoCloseable {
        final List<ServerProcess> servers = new ArrayList<>();
        final List<TrainerProcess> trainers = new ArrayList<>();
        final Job[] parts;
        final ExecutorService threads;
        final List<Future<TrainerProcess.Outcome>> outcomes = new ArrayList<>();

        Local(IntFunction<TrainingJob> jobOf, JobOptions options, UnaryOperator<TrainerProcess.Builder> more) throws Exception {
            this(jobOf, options, more, false);
        }

        /** With colocate, trainer r hosts server r's node in its JVM (as launch --colocate's processes do). */
        Local(IntFunction<TrainingJob> jobOf, JobOptions options, UnaryOperator<TrainerProcess.Builder> more, boolean colocate) throws Exception {
            TrainingJob first = jobOf.apply(0);
            int n = first.config().trainers(), s = first.config().psShards();
            parts = new Job[n];
            threads = Executors.newFixedThreadPool(n + s);
            List<HostPort> ps = new ArrayList<>(), ts = new ArrayList<>();
            for (int i = 0; i < s; i++) {
                ServerProcess p = ServerProcess.builder(first, i).options(options).start();
                servers.add(p);
                ps.add(p.address());
            }
            for (int r = 0; r < n; r++) {
                int rank = r;
                TrainerProcess t = more.apply(TrainerProcess.builder(jobOf.apply(r), r).options(options)
                        .listener(new TrainerProcess.Listener() {
                            @Override
                            public void training(Job job, Membership members) {
                                parts[rank] = job;
                            }
                        })).build();
                if (colocate && r < servers.size()) t.hosts(servers.get(r).server());
                trainers.add(t);
                ts.add(t.bind());
            }
            Membership members = Membership.fromStatic(ts, ps);
            for (ServerProcess p : servers) threads.submit(() -> p.place(Placement.fixed(members)));
            for (TrainerProcess t : trainers) outcomes.add(threads.submit(() -> t.run(Placement.fixed(members))));
        }

        TrainerProcess.Outcome outcome(int rank) throws Exception {
            return outcomes.get(rank).get(120, TimeUnit.SECONDS);
        }

        /** Whether every server stopped by itself (the leader stops them at the end). */
        boolean serversStopped() throws InterruptedException {
            for (ServerProcess p : servers) if (!p.awaitTermination(Duration.ofSeconds(10))) return false;
            return true;
        }

        @Override
        public void close() {
            for (ServerProcess p : servers) p.close();
            threads.shutdownNow();
            try {
                threads.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Every registered algorithm, two trainers and a server: both end DONE, the leader's summary counts every trainer's
     * examples (gathered, not its own half), the saved model is the leader's replica with the servers' rows, the
     * trainers of a collective algorithm end with the same replica (the last round came before the save), and the
     * servers are stopped. Fails on: a summary of the leader's part only, a model saved before the final round or
     * from another array than the outcome's, servers left running, an algorithm the process path cannot run.
     */
    @Test
    @Timeout(600)
    void everyRegisteredAlgorithmTrainsAcrossProcessesInOneJvm() throws Exception {
        for (String algorithm : SyncAlgorithms.names()) {
            Path saved = dir.resolve(algorithm + ".model");
            try (Local job = new Local(r -> job(algorithm).build(), JobOptions.defaults(), b -> b.save(saved))) {
                TrainerProcess.Outcome leader = job.outcome(0), other = job.outcome(1);
                assertEquals(TrainerProcess.Status.DONE, leader.status(), algorithm);
                assertEquals(TrainerProcess.Status.DONE, other.status(), algorithm);
                assertTrue(leader.leader() && !other.leader(), algorithm);
                assertNull(other.summary(), algorithm);
                Map<String, Object> s = leader.summary();
                assertEquals((long) ROWS, s.get("examples"), algorithm + ": " + s);
                assertEquals(leader.examples() + other.examples(), (long) ROWS, algorithm);
                assertTrue(other.examples() > 0, algorithm);
                assertEquals(algorithm, s.get("algorithm"));
                assertEquals(3, s.get("processes"));
                assertEquals(saved.toString(), s.get("saved"));
                ModelFile.Contents file = ModelFile.read(saved);
                assertArrayEquals(leader.model().model().dense().data(), file.dense(), algorithm + ": the saved model is the leader's");
                float[] row = new float[1];
                leader.model().tables().pull(0, new int[] {7}, 0, 1, row, 0);
                assertEquals(row[0], file.tables()[0][7], algorithm + ": the saved tables are the servers' rows");
                if (SyncAlgorithms.get(algorithm).trainerGroup()) {
                    assertArrayEquals(file.dense(), job.parts[1].model().dense().data(),
                            algorithm + ": after the last round both trainers hold the saved replica");
                }
                assertTrue(job.serversStopped(), algorithm + ": the leader stops the servers");
            }
        }
    }

    /**
     * Compressed rounds across processes: under int8 and top-k the trainers of s-ma, fr-bmuf and s-gossip end on the
     * same replica, s-easgd's pushes reach the servers' center and its last round leaves the job's model there, and the
     * leader's summary gathers every trainer's bytes per round and compression ratio (above 1: the raw bytes of the
     * float32 ring, exchange or push over the messages sent). Fails on a gather that drops the ratio or mixes its fields
     * up, on gossip's exchanges or EASGD's pushes that travel uncompressed between processes.
     */
    @Test
    @Timeout(300)
    void compressedRoundsAcrossProcessesEndOnTheSameReplicaAndReportTheirRatio() throws Exception {
        for (String codec : new String[] {"int8", "topk:0.05"}) {
            for (String algorithm : new String[] {"s-ma", "fr-bmuf", "s-gossip", "s-easgd"}) {
                String what = algorithm + " --compress " + codec;
                // DLRM: ~700 dense parameters (a logistic regression's one bias would fit no message codec: top-k's
                // 12-byte message of one value is larger than its 4 float32 bytes)
                try (Local job = new Local(r -> job(algorithm).model(new io.shadowsync.model.DlrmSpec(13, 26, 2000, 4, new int[] {16},
                        new int[] {16})).compress(codec).build(), JobOptions.defaults(), b -> b)) {
                    TrainerProcess.Outcome leader = job.outcome(0), other = job.outcome(1);
                    assertEquals(TrainerProcess.Status.DONE, leader.status(), what);
                    assertEquals(TrainerProcess.Status.DONE, other.status(), what);
                    if (SyncAlgorithms.get(algorithm).trainerGroup()) {
                        assertArrayEquals(job.parts[0].model().dense().data(), job.parts[1].model().dense().data(), what);
                    }
                    @SuppressWarnings("unchecked")
                    Map<String, Object> sync = (Map<String, Object>) leader.summary().get("sync");
                    double[] ratio = (double[]) sync.get("compression_ratio");
                    long[] perRound = (long[]) sync.get("bytes_per_round"), rounds = (long[]) sync.get("rounds_per_trainer");
                    assertEquals(2, ratio.length, what);
                    for (int t = 0; t < 2; t++) {
                        assertTrue(rounds[t] > 0 && perRound[t] > 0, what + ": trainer " + t + " rounds " + rounds[t]);
                        assertTrue(ratio[t] > 1.2, what + ": trainer " + t + " compression ratio " + ratio[t]);
                    }
                }
            }
        }
    }

    /**
     * Periodic checkpoints, then a second run resumed from the newest: it starts from the checkpoint's examples (each
     * trainer from its own) and trains the rest of the budget, each example once. Fails on a resume that restores
     * nothing or one trainer only, and on examples counted twice across the restart.
     */
    @Test
    @Timeout(180)
    void aResumedJobGoesOnFromTheNewestCheckpoint() throws Exception {
        Path ck = dir.resolve("ckpts");
        // long enough that the 100 ms polls of the checkpointer fall inside it on a fast, idle machine too
        int epochs = 20;
        long budget = (long) epochs * ROWS;
        JobOptions first = JobOptions.defaults().withInMemory(true).withCheckpoints(CheckpointOptions.in(ck).everyExamples(1000));
        Path last;
        try (Local job = new Local(r -> job("s-ma").epochs(epochs).build(), first, b -> b)) {
            TrainerProcess.Outcome o = job.outcome(0);
            job.outcome(1);
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) o.summary().get("checkpoint");
            assertTrue((int) c.get("written") >= 1, c.toString());
            last = Path.of((String) c.get("last"));
        }
        long at = Manifest.read(last).examples();
        assertTrue(at > 0 && at < budget, "a checkpoint mid-run: " + at);
        JobOptions again = JobOptions.defaults().withInMemory(true).withCheckpoints(CheckpointOptions.in(ck).resume(true));
        try (Local job = new Local(r -> job("s-ma").epochs(epochs).build(), again, b -> b)) {
            TrainerProcess.Outcome o = job.outcome(0);
            job.outcome(1);
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) o.summary().get("checkpoint");
            assertEquals(last.toString(), c.get("resumed_from"));
            assertEquals(budget, o.summary().get("examples"), "the budget, each example once across the restart");
            assertTrue(job.serversStopped());
        }
    }

    /**
     * The data fingerprint given as a supplier (a Spark barrier task's: every trainer's share, known only after the
     * placement) is what the checkpoints record, and a resume whose supplier gives another one (trainer 1's share
     * changed) is refused with a sentence naming the checkpoint and the shares. Fails on: a supplier read too early or
     * never (the data's own fingerprint recorded: the same in both runs, so no refusal), or a resume that does not
     * compare it.
     */
    @Test
    @Timeout(180)
    void aResumeWhoseSuppliedFingerprintChangedIsRefusedNamingIt() throws Exception {
        Path ck = dir.resolve("fp-ckpts");
        int epochs = 20;
        JobOptions first = JobOptions.defaults().withInMemory(true).withCheckpoints(CheckpointOptions.in(ck).everyExamples(1000));
        String before = "share 0: rows=1500 crc=aaaa; share 1: rows=1500 crc=bbbb";
        try (Local job = new Local(r -> job("s-ma").epochs(epochs).build(), first, b -> b.dataFingerprint(() -> before))) {
            job.outcome(0);
            job.outcome(1);
        }
        assertTrue(new io.shadowsync.ckpt.CheckpointDir(ck, 3).newestVerified().orElseThrow().manifest().settings()
                .get(io.shadowsync.ckpt.CheckpointDir.DATA_FINGERPRINT).equals(before), "the supplied fingerprint is recorded");
        String after = "share 0: rows=1500 crc=aaaa; share 1: rows=1499 crc=cccc";
        JobOptions again = JobOptions.defaults().withInMemory(true).withCheckpoints(CheckpointOptions.in(ck).resume(true));
        try (Local job = new Local(r -> job("s-ma").epochs(epochs).build(), again, b -> b.dataFingerprint(() -> after))) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> job.outcome(0));
            String m = e.getCause().getMessage();
            assertTrue(e.getCause() instanceof IllegalArgumentException, chain(e));
            assertTrue(m.contains(ck.toString()) && m.contains("train-data") && m.contains("rows=1499 crc=cccc") && m.contains("crc=bbbb"), m);
            org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> job.outcome(1));
        }
    }

    /**
     * A stop asked of one trainer mid-training: every trainer comes to rest, a final checkpoint is written, and every
     * run returns STOPPED — no process exits (this JVM would end with the test), none hangs at rest.
     */
    @Test
    @Timeout(180)
    void aStopWritesAFinalCheckpointAndEndsEveryTrainerWithoutExiting() throws Exception {
        Path ck = dir.resolve("stop-ckpts");
        JobOptions options = JobOptions.defaults().withInMemory(true).withCheckpoints(CheckpointOptions.in(ck));
        try (Local job = new Local(r -> job("s-ma").epochs(10_000).build(), options, b -> b)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((job.parts[1] == null || job.parts[1].progress().examples() < 500) && System.nanoTime() < deadline) Thread.sleep(10);
            job.trainers.get(1).requestStop();
            TrainerProcess.Outcome a = job.outcome(0), b = job.outcome(1);
            assertEquals(TrainerProcess.Status.STOPPED, a.status(), a.message());
            assertEquals(TrainerProcess.Status.STOPPED, b.status(), b.message());
            assertTrue(a.examples() > 0 && a.examples() < 10_000L * ROWS / 2, a.message());
            Path written;
            try (var s = java.nio.file.Files.list(ck)) {
                written = s.filter(p -> java.nio.file.Files.exists(p.resolve(Manifest.NAME))).findFirst().orElse(null);
            }
            assertNotNull(written, "the final checkpoint");
            assertTrue(Manifest.read(written).examples() > 0);
            assertTrue(job.serversStopped(), "trainer 0 stops the servers after a stop");
        }
    }

    /**
     * Trainer 1's data breaks mid-epoch: it fails with the data's error, and trainer 0 — with many epochs to go — ends
     * too, with trainer 1's cause, instead of waiting for it. Fails on a failure that leaves the others training or
     * waiting, and on one that reaches them without its cause.
     */
    @Test
    @Timeout(120)
    void aFailingTrainerEndsTheOthersWithItsCause() throws Exception {
        DataSource broken = new Breaking(train, 1200);
        try (Local job = new Local(r -> r == 1 ? job("s-ma").data(broken).epochs(1000).build() : job("s-ma").epochs(1000).build(),
                JobOptions.defaults(), b -> b)) {
            ExecutionException one = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> job.outcome(1));
            assertTrue(chain(one).contains("broken on purpose"), chain(one));
            ExecutionException zero = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> job.outcome(0));
            assertTrue(chain(zero).contains("trainer 1") && chain(zero).contains("broken on purpose"), chain(zero));
        }
    }

    /**
     * The trainers start training together: trainer 1 is slow to get ready (its listener, called when its job is
     * built, takes 1.5 s), and trainer 0, ready at once, has trained nothing when trainer 1 is ready. Fails on a trainer
     * that starts as soon as it is ready: in 1.5 s trainer 0 would have trained much of its share alone, with nobody to
     * average with (what a Spark stage did when one task was late: a worse model).
     */
    @Test
    @Timeout(120)
    void trainersStartTrainingTogether() throws Exception {
        Job[] parts = new Job[2];
        long[] trainedByZeroWhenOneWasReady = {-1};
        java.util.function.IntFunction<TrainerProcess.Listener> listener = rank -> new TrainerProcess.Listener() {
            @Override
            public void training(Job job, Membership members) {
                parts[rank] = job;
                if (rank != 1) return;
                try {
                    Thread.sleep(1_500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                Job zero = parts[0];
                trainedByZeroWhenOneWasReady[0] = zero == null ? -1 : zero.progress().examples();
            }
        };
        int[] next = {0};
        try (Local job = new Local(r -> job("s-ma").epochs(20).build(), JobOptions.defaults(), b -> b.listener(listener.apply(next[0]++)))) {
            assertEquals(TrainerProcess.Status.DONE, job.outcome(0).status());
            assertEquals(TrainerProcess.Status.DONE, job.outcome(1).status());
            assertEquals(20L * ROWS, job.outcome(0).summary().get("examples"));
            assertTrue(parts[0] != null, "trainer 0 was ready before trainer 1 (its listener ran first)");
            assertEquals(0L, trainedByZeroWhenOneWasReady[0], "trainer 0 waited for trainer 1 before its first step");
        }
    }

    /**
     * The leader's summary counts the job's processes: 2 trainers and 2 servers are 4, but 2 when each trainer hosts a
     * server's node in its JVM (launch --colocate). Fails on a count of trainers plus shards whatever runs where.
     */
    @Test
    @Timeout(120)
    void theSummaryCountsServersHostedByTrainersAsNoProcessesOfTheirOwn() throws Exception {
        for (boolean colocate : new boolean[] {false, true}) {
            try (Local job = new Local(r -> job("s-ma").psShards(2).build(), JobOptions.defaults(), b -> b, colocate)) {
                assertEquals(TrainerProcess.Status.DONE, job.outcome(1).status());
                assertEquals(colocate ? 2 : 4, job.outcome(0).summary().get("processes"), "co-located: " + colocate);
            }
        }
    }

    /**
     * A trainer aborted from another thread mid-training (as a Spark task's watcher does when Spark kills the task):
     * its run throws with the abort's cause, and the other trainer's run fails too, naming it, both well before the
     * job's 10,000 epochs could end. Fails on: an abort that only sets a flag the workers never read (run goes on), one
     * that ends the job as a stop does (run returns DONE), or one that leaves the other trainer waiting in a collective
     * for the aborted one (a hang, caught by the bounded waits).
     */
    @Test
    @Timeout(180)
    void anAbortedTrainerEndsItsRunAndTheOthersFailInsteadOfHanging() throws Exception {
        try (Local job = new Local(r -> job("s-ma").epochs(10_000).build(), JobOptions.defaults(), b -> b)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((job.parts[1] == null || job.parts[1].progress().examples() < 500) && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(job.parts[1] != null && job.parts[1].progress().examples() >= 500, "trainer 1 is training");
            job.trainers.get(1).abort(new IllegalStateException("aborted on purpose by the test"));
            ExecutionException one = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> job.outcomes.get(1).get(30, TimeUnit.SECONDS));
            assertTrue(one.getCause() instanceof io.shadowsync.engine.TrainingException, chain(one));
            assertTrue(chain(one).contains("aborted on purpose by the test"), chain(one));
            ExecutionException zero = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> job.outcomes.get(0).get(30, TimeUnit.SECONDS));
            assertTrue(chain(zero).contains("trainer 1"), chain(zero));
        }
    }

    private static String chain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) b.append(c).append(" <- ");
        return b.toString();
    }

    /** A source whose readers fail at example {@code at}. */
    private static final class Breaking extends ForwardingSource {
        private final long at;

        Breaking(DataSource source, long at) {
            super(source);
            this.at = at;
        }

        @Override
        public ExampleReader open() throws IOException {
            return new ForwardingReader(source.open()) {
                long read;

                @Override
                public boolean readInto(Batch batch) throws IOException {
                    if (read++ == at) throw new DataException("breaking", read, "broken on purpose");
                    return inner.readInto(batch);
                }
            };
        }
    }
}
