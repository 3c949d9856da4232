package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code federate --local P}: the clients in P child JVMs over gRPC on 127.0.0.1, the server in this JVM (as the
 * command runs it). Each test starts 3 client processes and leaves none behind.
 */
class FederateProcessTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void data() throws Exception {
        FederateCliTest.blobs(dir.resolve("train.csv"), 1800, 1);
        FederateCliTest.blobs(dir.resolve("eval.csv"), 600, 2);
    }

    @AfterEach
    void noneLeft() throws InterruptedException {
        ChildJvms.assertNoneLeftBehind();
    }

    static String[] args(String... more) {
        List<String> a = new ArrayList<>(List.of("federate", "--train", dir.resolve("train.csv").toString(), "--eval", dir.resolve("eval.csv").toString(),
                "--label-col", "y", "--classes", "3", "--hidden", "16", "--batch", "32", "--parallel", "2", "--seed", "7"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /**
     * LR on generated clicks (its weights an embedding table), clients in 2 processes: the global table goes out with
     * every train call and each client's changed rows (fp16 here) come back on the wire; the rounds, train losses,
     * upload bytes and final evaluation equal the in-process run's, bit for bit. Catches rows lost, mixed up between
     * tables or clients, ids garbled on the wire, or a client that trains from a table other than the global one.
     */
    @Test
    void lrClientsInProcessesComputeWhatThreadsCompute() throws Exception {
        new io.shadowsync.data.SyntheticCtr(new io.shadowsync.data.SyntheticCtr.Config(4_000, 1_000, 3, 200)).generate(dir.resolve("ctr"));
        String[] base = {"federate", "--model", "lr", "--hash-bits", "12", "--train", dir.resolve("ctr/train.tsv").toString(),
                "--eval", dir.resolve("ctr/eval.tsv").toString(), "--clients", "4", "--fraction", "0.75", "--rounds", "3", "--lr", "0.2",
                "--parallel", "2", "--seed", "7"};
        String[] job = with(base, "--compress", "fp16");
        CliTest.Run topk = FederateCliTest.run(with(base, "--compress", "topk:0.1"));
        assertEquals(2, topk.code(), topk.err());
        assertTrue(topk.err().contains("--compress topk:0.1 drops values"), topk.err());
        CliTest.Run threads = FederateCliTest.run(job);
        assertEquals(0, threads.code(), threads.err());
        CliTest.Run procs = FederateCliTest.run(with(job, "--local", "2"));
        assertEquals(0, procs.code(), procs.err());
        JsonNode a = threads.json(), b = procs.json();
        assertEquals(0, b.get("lost_processes").size(), b.toString());
        for (String f : List.of("count", "logloss", "auc")) assertEquals(a.get("eval").get(f), b.get("eval").get(f), f);
        assertEquals(a.get("upload_bytes"), b.get("upload_bytes"));
        for (int r = 0; r < 3; r++) assertEquals(a.get("per_round").get(r).get("train_loss"), b.get("per_round").get(r).get("train_loss"), "round " + (r + 1));
        assertTrue(a.get("eval").get("auc").asDouble() > 0.6, a.toString());
    }

    static String[] with(String[] a, String... more) {
        List<String> l = new ArrayList<>(List.of(a));
        l.addAll(List.of(more));
        return l.toArray(new String[0]);
    }

    /**
     * Clients in 3 processes compute what the in-process clients compute: the same seed gives the same rounds, train
     * losses and final evaluation, bit for bit (the same arithmetic: each client trains with one worker from the same
     * global model, its int8 upload encoder lives in its process for the whole run, the server decodes and averages in
     * slot order). Catches uploads lost or mixed up between clients on the wire, a client trained from a stale model,
     * a codec state that is not the client's own, averaging in arrival order, or a process that trains clients it does
     * not hold.
     */
    @Test
    void processesComputeWhatThreadsCompute() throws Exception {
        String[] job = args("--clients", "6", "--fraction", "0.67", "--rounds", "4", "--split", "dirichlet:0.5", "--compress", "int8",
                "--dropout", "0.2", "--eval-every", "2");
        CliTest.Run threads = FederateCliTest.run(job);
        assertEquals(0, threads.code(), threads.err());
        CliTest.Run procs = FederateCliTest.run(with(job, "--local", "3"));
        assertEquals(0, procs.code(), procs.err());
        JsonNode a = threads.json(), b = procs.json();
        assertEquals(3, b.get("client_processes").asInt());
        assertEquals(0, b.get("lost_processes").size(), b.toString());
        for (String f : List.of("count", "logloss", "accuracy")) assertEquals(a.get("eval").get(f), b.get("eval").get(f), f);
        assertEquals(a.get("upload_bytes"), b.get("upload_bytes"));
        for (int r = 0; r < 4; r++) {
            JsonNode x = a.get("per_round").get(r), y = b.get("per_round").get(r);
            for (String f : List.of("sampled", "reported", "dropped", "applied", "train_loss")) assertEquals(x.get(f), y.get(f), "round " + (r + 1) + " " + f);
        }
        assertTrue(a.get("eval").get("accuracy").asDouble() > 0.85, a.toString());
    }

    /**
     * One client process is SIGKILLed in the middle of round 3 (its 2 of the 6 clients training, or one of them already
     * through): that round closes with the survivors (secure aggregation's threshold for 6 is 4, so the dead clients' pair masks are recovered
     * from the survivors' shares and the round is applied), the later rounds sample the dead clients and go on without
     * them, and the summary says so. Catches a server that waits for a dead client forever, ends the run, skips the
     * rounds, or an unmasking that leaves the dead clients' masks in the sum (the model would be noise: the accuracy
     * check fails).
     */
    @Test
    void aKilledClientProcessDropsOutAndTheRoundsGoOn() throws Exception {
        String[] job = args("--clients", "6", "--rounds", "6", "--local-epochs", "40", "--secure-agg", "--eval-every", "1",
                "--local", "3", "--round-timeout", "120");
        StringWriter out = new StringWriter();
        Watch err = new Watch("round 2:");
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.run(job, new PrintWriter(out, true), new PrintWriter(err, true)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!err.seen.await(200, TimeUnit.MILLISECONDS)) {
            assertTrue(!run.isDone() && System.nanoTime() < deadline, "round 2 never ended: " + err);
        }
        Thread.sleep(300); // into round 3's local training
        Optional<ProcessHandle> victim = ProcessHandle.current().children()
                .filter(p -> ChildJvms.commandLine(p).contains("federate-client --coordinator") && ChildJvms.commandLine(p).contains("--index 1 "))
                .findFirst();
        assertTrue(victim.isPresent(), "no client process 1 among " + ProcessHandle.current().children().map(ChildJvms::commandLine).toList());
        victim.get().destroyForcibly(); // SIGKILL: no goodbye
        int code = run.get(300, TimeUnit.SECONDS);
        assertEquals(0, code, err.toString());
        JsonNode s = new CliTest.Run(code, out.toString(), err.toString()).json();
        assertEquals(List.of(1), List.of(s.get("lost_processes").get(0).asInt()));
        assertEquals(6, s.get("rounds").asInt());
        assertEquals(6, s.get("applied_rounds").asInt(), s.toString());
        JsonNode per = s.get("per_round");
        for (int r = 0; r < 2; r++) assertEquals(0, per.get(r).get("dropped").asInt(), "round " + (r + 1));
        for (int r = 3; r < 6; r++) {
            assertEquals(4, per.get(r).get("reported").asInt(), "round " + (r + 1) + ": " + per.get(r));
            assertEquals(2, per.get(r).get("dropped").asInt());
        }
        // round 3: the kill lands while the process's two clients train; either, both or neither may have reported by then
        // (measured in CI: one had, "reported":5,"dropped":1), and every sampled client is one or the other
        int dropped3 = per.get(2).get("dropped").asInt();
        assertTrue(dropped3 >= 0 && dropped3 <= 2, "round 3: " + per.get(2));
        assertEquals(per.get(2).get("sampled").asInt(), per.get(2).get("reported").asInt() + dropped3, "round 3: " + per.get(2));
        assertTrue(s.get("eval").get("accuracy").asDouble() > 0.85, s.toString());
    }

    /** Bad process settings exit 2 with one sentence, before any process starts. */
    @Test
    void badProcessFlagsExitTwo() {
        String[][] cases = {{"--local", "0"}, {"--local", "3", "--clients", "2"}, {"--local", "2", "--client-processes", "2"},
                {"--local", "2", "--round-timeout", "0"}};
        String[] says = {"--local must be at least 1", "3 client processes for --clients 2", "not both", "--round-timeout must be positive"};
        for (int i = 0; i < cases.length; i++) {
            CliTest.Run r = FederateCliTest.run(with(args("--rounds", "1"), cases[i]));
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(says[i]), r.err());
        }
    }

    /** A stderr that signals when a line containing tag has been written. */
    static final class Watch extends Writer {
        final StringBuffer text = new StringBuffer();
        final java.util.concurrent.CountDownLatch seen = new java.util.concurrent.CountDownLatch(1);
        final String tag;

        Watch(String tag) {
            this.tag = tag;
        }

        @Override
        public void write(char[] c, int off, int len) {
            text.append(c, off, len);
            if (text.indexOf(tag) >= 0) seen.countDown();
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}

        @Override
        public String toString() {
            return text.toString();
        }
    }
}
