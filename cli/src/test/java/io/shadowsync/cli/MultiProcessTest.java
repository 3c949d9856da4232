package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.ps.PsAdmin;
import io.shadowsync.net.ps.RemoteDenseServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole jobs as separate JVMs on 127.0.0.1 ({@code shadowsync launch --local N --ps S}): the same summary and quality
 * as in-process, synchronous SGD bit-identical to the in-process run, EASGD's model the servers' center after every
 * trainer's last round, a failing process stopping the whole job.
 * Each test starts its processes itself (ports chosen free at run time) and leaves none behind.
 */
class MultiProcessTest {
    @TempDir
    static Path dir;
    static JsonNode gen;

    @BeforeAll
    static void generate() throws Exception {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "16000", "--eval-rows", "4000",
                "--vocab", "2000", "--seed", "11");
        assertEquals(0, r.code(), r.err());
        gen = r.json();
        ChildJvms.generateDense(dir.resolve("dense.csv"));
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    private static String train() {
        return dir.resolve("ctr/train.tsv").toString();
    }

    private static String eval() {
        return dir.resolve("ctr/eval.tsv").toString();
    }

    @Test
    @Timeout(180)
    void dlrmAcrossProcessesTrainsAsWellAsInProcess() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "0123456789abcdef0123456789abcdef\n");
        String[] job = {"--model", "dlrm", "--train", train(), "--eval", eval(), "--emb-rows", "2000", "--sync", "s-ma",
                "--sync-interval-ms", "5", "--epochs", "2", "--seed", "4", "--no-progress"};
        CliTest.Run in = CliTest.run(concat(new String[]{"train", "--trainers", "2", "--ps-shards", "2"}, job));
        assertEquals(0, in.code(), in.err());
        CliTest.Run mp = CliTest.run(concat(new String[]{"launch", "--local", "2", "--ps", "2", "--token-file", token.toString()}, job));
        assertEquals(0, mp.code(), mp.err());
        JsonNode a = in.json(), b = mp.json();
        assertEquals(4, b.get("processes").asInt(), mp.out());
        assertEquals(2, b.get("trainers").asInt());
        assertEquals("s-ma", b.get("algorithm").asText());
        assertEquals(a.get("examples").asLong(), b.get("examples").asLong());
        assertTrue(b.get("sync").get("rounds_per_trainer").get(1).asLong() > 0, mp.out());
        double la = a.get("eval").get("logloss").asDouble(), lb = b.get("eval").get("logloss").asDouble();
        // shadow averaging is not deterministic (thread timing decides how many local steps a round holds); the margin
        // is several times the run-to-run spread measured in-process on this data
        assertEquals(la, lb, 0.01, "in-process " + la + " vs across processes " + lb);
        assertTrue(mp.err().contains("[trainer-1]") && mp.err().contains("[ps-1]"), mp.err());
    }

    @Test
    @Timeout(180)
    void syncSgdIsBitIdenticalInProcessAndAcrossProcesses() throws Exception {
        Path a = dir.resolve("sgd-in.model"), b = dir.resolve("sgd-mp.model");
        String[] job = {"--model", "mlp", "--train", dir.resolve("dense.csv").toString(), "--label-col", "label", "--hidden", "16,8",
                "--sync", "sync-sgd", "--workers", "1", "--epochs", "2", "--batch", "32", "--seed", "9", "--no-progress"};
        CliTest.Run in = CliTest.run(concat(new String[]{"train", "--trainers", "2", "--save", a.toString()}, job));
        assertEquals(0, in.code(), in.err());
        CliTest.Run mp = CliTest.run(concat(new String[]{"launch", "--local", "2", "--ps", "1", "--save", b.toString()}, job));
        assertEquals(0, mp.code(), mp.err());
        float[] da = ModelFile.read(a).dense(), db = ModelFile.read(b).dense();
        assertArrayEquals(da, db, "synchronous SGD must give the same parameters, bit for bit, in one JVM and across JVMs");
        assertEquals(in.json().get("train_loss").asDouble(), mp.json().get("train_loss").asDouble(), 1e-12);
    }

    @Test
    @Timeout(180)
    void asynchronousSgdKeepsTheModelOnTheServers() throws Exception {
        Path summary = dir.resolve("async.json");
        // a job file, as launch takes one, with launch's own keys in it (the trainers and servers it starts read the same
        // file and leave those keys to launch); its required --local comes from the command line
        Path job = dir.resolve("async.yaml");
        Files.writeString(job, "model: lr\nhash-bits: 14\ntrain: " + train() + "\neval: " + eval() + "\nsync: async-ps\nepochs: 2\n"
                + "ps: 2\nstop-grace: 3\n");
        // --in-memory: the trainers load their data, the servers do not, and both must still compute the same job digest
        CliTest.Run r = CliTest.run("launch", "--local", "2", job.toString(), "--in-memory", "--no-progress",
                "--summary-json", summary.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        assertEquals("async-ps", s.get("algorithm").asText());
        assertEquals(4, s.get("processes").asInt());
        assertEquals(s.toString(), new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(summary)).toString());
        // the model is the servers' dense parameters plus their tables: it must have learned something
        double constant = gen.get("constant_logloss_eval").asDouble();
        assertTrue(s.get("eval").get("logloss").asDouble() < constant - 0.01, s + " vs constant " + constant);
    }

    @Test
    @Timeout(120)
    void aFailingTrainerStopsTheWholeJob() throws Exception {
        Path bad = dir.resolve("bad.tsv");
        List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(train())).subList(0, 4000));
        lines.set(2001, "not\ta\tcriteo\tline"); // line 2002, in trainer 1's input split: named by its byte offset
        Files.write(bad, lines);
        long offset = 0;
        for (String l : lines.subList(0, 2001)) offset += l.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
        CliTest.Run r = CliTest.run("launch", "--local", "2", "--ps", "1", "--model", "dlrm", "--emb-rows", "500", "--train", bad.toString(),
                "--sync", "s-ma", "--sync-interval-ms", "5", "--epochs", "50", "--no-progress", "--stop-grace", "2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().matches("(?s).*shadowsync launch: trainer-[01] failed \\(exit code 2\\): [^\n]*bad.tsv: the line at byte " + offset + ":.*"), r.err());
    }

    @Test
    @Timeout(180)
    void staticHostListWithATokenTrainsAndStopsTheServers() throws Exception {
        Path token = dir.resolve("static-token");
        Files.writeString(token, "fedcba9876543210fedcba9876543210\n");
        int[] ports = freePorts(3);
        String peers = "127.0.0.1:" + ports[1] + ",127.0.0.1:" + ports[2], servers = "127.0.0.1:" + ports[0];
        String[] job = {"--model", "lr", "--hash-bits", "12", "--train", train(), "--trainers", "2", "--ps-shards", "1", "--sync", "fr-ma",
                "--sync-every", "20", "--token-file", token.toString(), "--no-progress"};
        List<Process> children = new ArrayList<>();
        try {
            children.add(child(concat(new String[]{"ps", "--shard", "0", "--listen", servers}, job)));
            children.add(child(concat(new String[]{"trainer", "--rank", "1", "--peers", peers, "--servers", servers}, job)));
            CliTest.Run r = CliTest.run(concat(new String[]{"trainer", "--rank", "0", "--peers", peers, "--servers", servers,
                    "--eval", eval()}, job));
            assertEquals(0, r.code(), r.err());
            JsonNode s = r.json();
            assertEquals(3, s.get("processes").asInt());
            assertEquals(16000, s.get("examples").asLong());
            assertTrue(s.get("eval").get("logloss").asDouble() < gen.get("constant_logloss_eval").asDouble() - 0.01, s.toString());
            for (Process p : children) {
                assertTrue(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS), "trainer 0 stops the server, trainer 1 ends");
                assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child-" + p.pid() + ".err")));
            }
        } finally {
            for (Process p : children) p.destroyForcibly();
        }
    }

    @Test
    @Timeout(180)
    void easgdsModelIsTheCenterOnceEveryTrainerHasEnded() throws Exception {
        // trainer 1 sleeps 5 ms per batch, so trainer 0 ends first and trainer 1's rounds go on pushing into the center:
        // the saved model must be the center the servers hold at the end (kept running here to read it)
        Path saved = dir.resolve("easgd.model");
        int[] ports = freePorts(3);
        String peers = "127.0.0.1:" + ports[1] + ",127.0.0.1:" + ports[2], servers = "127.0.0.1:" + ports[0];
        String[] job = {"--model", "mlp", "--train", dir.resolve("dense.csv").toString(), "--label-col", "label", "--hidden", "16",
                "--trainers", "2", "--ps-shards", "1", "--sync", "s-easgd", "--sync-interval-ms", "2", "--epochs", "2", "--batch", "32",
                "--emulate-slow-trainer", "1:5", "--seed", "3", "--no-progress"};
        List<Process> children = new ArrayList<>();
        Transport transport = new Transport(NetConfig.LOOPBACK);
        List<HostPort> ps = List.of(HostPort.parse(servers));
        try {
            children.add(child(concat(new String[]{"ps", "--shard", "0", "--listen", servers}, job)));
            children.add(child(concat(new String[]{"trainer", "--rank", "1", "--peers", peers, "--servers", servers}, job)));
            CliTest.Run r = CliTest.run(concat(new String[]{"trainer", "--rank", "0", "--peers", peers, "--servers", servers,
                    "--save", saved.toString(), "--keep-servers"}, job));
            assertEquals(0, r.code(), r.err());
            assertTrue(children.get(1).waitFor(20, java.util.concurrent.TimeUnit.SECONDS), "trainer 1 ends");
            float[] model = ModelFile.read(saved).dense();
            float[] center = new float[model.length];
            try (RemoteDenseServer dense = RemoteDenseServer.connect(transport, ps)) {
                dense.pull(center);
            }
            assertArrayEquals(center, model, "the saved model is the center after every trainer's last round");
        } finally {
            PsAdmin.shutdown(transport, ps);
            for (Process p : children) {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
            }
        }
    }

    @Test
    @Timeout(120)
    void stoppingTheLauncherStopsEveryProcessOfTheJob() throws Exception {
        Process launcher = new ProcessBuilder(ChildJvms.command("launch", "--local", "2", "--ps", "1",
                "--model", "lr", "--hash-bits", "12", "--train", train(), "--epochs", "1000", "--sync", "s-ma", "--sync-interval-ms", "20",
                "--log-every", "0.2", "--stop-grace", "3"))
                .redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8));
            String line;
            // training under way: trainer 1 reports progress
            while ((line = out.readLine()) != null && !(line.startsWith("[trainer-1]") && line.contains(" ex/s"))) { }
            assertTrue(line != null, "the launcher ended before trainer 1 spoke");
            List<ProcessHandle> job = launcher.descendants().toList();
            assertEquals(3, job.stream().filter(ProcessHandle::isAlive).count(), "2 trainers and 1 server: " + job);
            launcher.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the launcher's shutdown hook stops its processes
            Thread drain = new Thread(() -> {
                try {
                    while (out.readLine() != null) { }
                } catch (java.io.IOException e) {
                    // the launcher is gone
                }
            });
            drain.start();
            assertTrue(launcher.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the launcher did not stop");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (job.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) Thread.sleep(50);
            assertTrue(job.stream().noneMatch(ProcessHandle::isAlive), "processes of the job outlived the launcher");
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    private static Process child(String... args) throws java.io.IOException {
        List<String> cmd = ChildJvms.command(args);
        // stderr to a file: a pipe nobody reads could fill and stall the child
        Path errFile = Files.createTempFile(dir, "child", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errFile.toFile()).start();
        Files.move(errFile, dir.resolve("child-" + p.pid() + ".err"));
        return p;
    }

    private static int[] freePorts(int n) throws java.io.IOException {
        java.net.ServerSocket[] s = new java.net.ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                s[i] = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                ports[i] = s[i].getLocalPort();
            }
        } finally {
            for (java.net.ServerSocket x : s) if (x != null) x.close();
        }
        return ports;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
