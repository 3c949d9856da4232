package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shadowsync.fed.RdpAccountant;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code shadowsync federate} end to end, in-process: the split table, rounds, the JSON summary, DP's ε, bad flags. */
class FederateCliTest {
    @TempDir
    static Path dir;

    static CliTest.Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliTest.Run(code, out.toString(), err.toString());
    }

    /** Three Gaussian blobs in 4 dimensions as CSV with a header and a 'y' label column. */
    static void blobs(Path file, int n, long seed) throws Exception {
        double[][] mu = {{2, 0, 0, 1}, {-2, 1, 0, 0}, {0, -2, 2, 0}};
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder s = new StringBuilder("y,a,b,c,d\n");
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            s.append(c);
            for (double m : mu[c]) s.append(String.format(Locale.ROOT, ",%.4f", m + 0.7 * r.nextGaussian()));
            s.append('\n');
        }
        Files.writeString(file, s);
    }

    @BeforeAll
    static void data() throws Exception {
        blobs(dir.resolve("train.csv"), 1800, 1);
        blobs(dir.resolve("eval.csv"), 600, 2);
    }

    static String[] common(String... more) {
        String[] base = {"federate", "--train", dir.resolve("train.csv").toString(), "--eval", dir.resolve("eval.csv").toString(),
                "--label-col", "y", "--classes", "3", "--hidden", "16", "--batch", "32", "--parallel", "2"};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    /**
     * A Dirichlet-split FedAvg job with dropouts: the split table on stderr, a line per round, and a summary whose
     * rounds, clients, per-round bytes and eval match the flags. Catches a command that ignores --rounds/--clients,
     * reports no bytes, or does not learn.
     */
    @Test
    void federatesEndToEnd() throws Exception {
        Path summary = dir.resolve("fed.json");
        CliTest.Run r = run(common("--clients", "6", "--rounds", "5", "--split", "dirichlet:0.5", "--dropout", "0.2", "--eval-every", "1",
                "--summary-json", summary.toString(), "--save", dir.resolve("fed.model").toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        assertEquals(5, s.get("rounds").asInt());
        assertEquals(6, s.get("clients").asInt());
        assertEquals(5, s.get("per_round").size());
        assertTrue(s.get("per_round").get(0).get("upload_bytes").asLong() > 0);
        assertTrue(s.get("eval").get("accuracy").asDouble() > 0.85, "accuracy " + s.get("eval"));
        assertTrue(r.err().contains("client   examples") && r.err().contains("round 5:"), r.err());
        assertEquals(s, new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(summary)));
        CliTest.Run e = run("eval", "--model-file", dir.resolve("fed.model").toString(), "--eval", dir.resolve("eval.csv").toString(), "--label-col", "y");
        assertEquals(0, e.code(), e.err());
        assertEquals(s.get("eval").get("accuracy").asDouble(), e.json().get("eval").get("accuracy").asDouble(), 1e-9);
    }

    /** --target-accuracy stops the run at the first evaluated round that reaches it, and says which. */
    @Test
    void stopsAtTheTargetAccuracy() throws Exception {
        CliTest.Run r = run(common("--clients", "4", "--rounds", "50", "--eval-every", "1", "--target-accuracy", "0.8"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        int reached = s.get("rounds_to_target").asInt();
        assertTrue(reached >= 1 && reached < 50, "reached at " + reached);
        assertEquals(reached, s.get("rounds").asInt());
        assertTrue(s.get("eval").get("accuracy").asDouble() >= 0.8);
    }

    /** With DP the summary carries ε, the accountant's for q = --fraction, z = --dp-noise over the applied rounds. */
    @Test
    void reportsEpsilonWithPrivacy() throws Exception {
        CliTest.Run r = run(common("--clients", "8", "--fraction", "0.5", "--rounds", "4", "--dp-clip", "1", "--dp-noise", "0.8", "--secure-agg"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = r.json();
        double want = new RdpAccountant(0.5, 0.8, RdpAccountant.Conversion.CLASSIC).epsilon(s.get("applied_rounds").asInt(), 1e-5);
        assertEquals(want, s.get("dp_epsilon").asDouble(), 1e-9);
        assertTrue(s.get("applied_rounds").asInt() > 0);
        assertTrue(s.get("secure_agg").asBoolean() && s.get("per_round").get(0).get("secure_seconds").asDouble() > 0, s.toString());
    }

    @Test
    void jobFileKeysAreFlags() throws Exception {
        Path job = dir.resolve("fed.yaml");
        Files.writeString(job, "clients: 4\nrounds: 2\naggregate: trimmed:0.25\n");
        String[] args = common(job.toString());
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), r.err());
        assertEquals(4, r.json().get("clients").asInt());
        assertEquals("trimmed:0.25", r.json().get("aggregate").asText());
    }

    /** --split files: one client per file, its examples as the file holds them; a --clients that disagrees is refused. */
    @Test
    void oneClientPerFile() throws Exception {
        String files = "";
        for (int k = 0; k < 3; k++) {
            Path f = dir.resolve("client" + k + ".csv");
            blobs(f, 200 + 100 * k, 10 + k);
            files += (k == 0 ? "" : ",") + f;
        }
        CliTest.Run r = run("federate", "--split", "files", "--client-data", files, "--eval", dir.resolve("eval.csv").toString(),
                "--label-col", "y", "--classes", "3", "--hidden", "16", "--batch", "32", "--rounds", "3");
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.json().get("clients").asInt());
        assertTrue(r.err().contains("\n0             200") && r.err().contains("\n2             400"), r.err());
        CliTest.Run bad = run("federate", "--split", "files", "--client-data", files, "--clients", "5", "--label-col", "y", "--classes", "3");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--clients 5 but --client-data names 3 files"), bad.err());
    }

    /** Bad values: exit 2 with one sentence naming the flag. */
    @Test
    void badFlagsExitTwo() {
        String[][] cases = {{"--split", "dirichlet:-1"}, {"--aggregate", "median", "--secure-agg"}, {"--fraction", "0"},
                {"--server-opt", "yogi"}, {"--dp-noise", "1"}, {"--dropout", "1.5"}, {"--poison", "x"}, {"--model", "lr"}};
        String[] names = {"--split", "--secure-agg", "--fraction", "--server-opt", "--dp-clip", "--dropout", "--poison", "--model lr"};
        for (int i = 0; i < cases.length; i++) {
            CliTest.Run r = run(common(cases[i]));
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(names[i]), String.join(" ", cases[i]) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }
}
