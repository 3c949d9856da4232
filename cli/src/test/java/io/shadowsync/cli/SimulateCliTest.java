package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.sim.Costs;
import io.shadowsync.sim.Measure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** simulate takes train's job file and flags, writes a result per algorithm and N, and refuses bad costs files naming the field. */
class SimulateCliTest {
    @TempDir
    Path dir;

    private Path data() {
        Path ctr = dir.resolve("ctr");
        CliTest.Run r = CliTest.run("gen-data", "--out", ctr.toString(), "--rows", "2000", "--eval-rows", "100", "--vocab", "500", "--seed", "3");
        assertEquals(0, r.code(), r.err());
        return ctr.resolve("train.tsv");
    }

    private Path costs(double step) throws Exception {
        Measure z = new Measure(1e-7, 0);
        Costs.JobStep js = new Costs.JobStep(new Measure(step, step * 0.1), new Measure(step * 0.9, 0), new Measure(step * 0.7, 0), new Measure(0.25, 0.01),
                1, 2, io.shadowsync.comm.LinkModel.parse("1gbit", "100us"));
        Costs c = new Costs(js, new Measure(step / 3, 0), 300, z, z, z, z, new Measure(1e-4, 0), z, new Measure(1e-4, 0), z,
                Map.of("fp16", z, "int8", z, "topk:0.01", z), Map.of("fp16", z, "int8", z, "topk:0.01", z), new Measure(1e-9, 0), new Measure(1e-9, 0),
                new Measure(1e-9, 0), new Measure(1e-5, 0), new Costs.Machine(2, "jdk", "os", 1.5, "now"));
        Path p = dir.resolve("costs.json");
        Files.writeString(p, CostsFile.toJson(c));
        return p;
    }

    @Test
    void simulatesTheJobFileForEveryAlgorithmAndN() throws Exception {
        Path train = data();
        Path costs = costs(2e-3);
        Path png = dir.resolve("scaling.png");
        CliTest.Run r = CliTest.run("simulate", "../jobs/dlrm-synthetic.yaml", "--train", train.toString(), "--eval", train.resolveSibling("eval.tsv").toString(),
                "--costs", costs.toString(), "--trainers", "1,4", "--algorithms", "all", "--steps", "40", "--ps-shards", "2", "--chart", png.toString());
        assertEquals(0, r.code(), r.err());
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertTrue(image != null && image.getWidth() == io.shadowsync.cli.report.Report.WIDTH, "--chart writes a PNG image: " + r.err());
        CliTest.Run same = CliTest.run("simulate", "--model", "dlrm", "--train", train.toString(), "--costs", costs.toString(), "--trainers", "2",
                "--chart", png.toString(), "--summary-json", png.toString());
        assertEquals(2, same.code(), same.err());
        assertTrue(same.err().contains("--chart") && same.err().contains("--summary-json"), same.err());
        String[] lines = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        Set<String> seen = new HashSet<>();
        for (JsonNode x : j.get("results")) {
            seen.add(x.get("algorithm").asText() + "/" + x.get("trainers").asInt());
            assertTrue(x.get("examples_per_sec").asDouble() > 0, x.toString());
            assertTrue(Set.of("compute", "ps-shard", "link", "sync").contains(x.get("bottleneck").asText()), x.toString());
        }
        int algos = io.shadowsync.sync.SyncAlgorithms.all().size() - 1; // all but none
        assertEquals(2 * algos, seen.size(), "one result per algorithm and N: " + seen);
        assertTrue(r.err().contains("| s-ma | 4 |"), r.err());
    }

    /** --quantum shares the cores in time slices: it is in the summary and the table's heading; a bad one is refused. */
    @Test
    void takesASchedulerQuantum() throws Exception {
        Path train = data();
        Path costs = costs(2e-3);
        CliTest.Run r = CliTest.run("simulate", "--model", "dlrm", "--train", train.toString(), "--costs", costs.toString(), "--trainers", "4",
                "--algorithms", "fr-ma", "--steps", "40", "--quantum", "4ms");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(0.004, new ObjectMapper().readTree(lines[lines.length - 1]).get("quantum_seconds").asDouble(), 1e-15);
        assertTrue(r.err().contains("time slices of 4 ms"), r.err());
        CliTest.Run bad = CliTest.run("simulate", "--model", "dlrm", "--train", train.toString(), "--costs", costs.toString(), "--trainers", "2",
                "--quantum", "4 fortnights");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--quantum"), bad.err());
    }

    @Test
    void refusesABadCostsFileNamingTheField() throws Exception {
        Path train = data();
        Path costs = costs(2e-3);
        Files.writeString(costs, Files.readString(costs).replace("\"ring_hop_per_float\"", "\"ring_hop\""));
        CliTest.Run r = CliTest.run("simulate", "--model", "dlrm", "--train", train.toString(), "--costs", costs.toString(), "--trainers", "2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("ring_hop_per_float"), r.err());
        CliTest.Run bad = CliTest.run("simulate", "--model", "dlrm", "--train", train.toString(), "--costs", costs(1e-3).toString(),
                "--trainers", "2", "--algorithms", "s-nope");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("s-nope"), bad.err());
    }

    /** calibrate --launch's launched step goes through the file (and a file without one reads as none). */
    @Test
    void readsTheLaunchedStep() throws Exception {
        Costs c = CostsFile.read(costs(2e-3));
        assertEquals(null, c.launch());
        Costs.Launched l = new Costs.Launched(new Measure(3e-3, 1e-4), new Measure(2e-3, 0), new Measure(1e-3, 0), new Measure(5e-4, 2e-5), 2);
        Costs with = new Costs(c.step(), c.computeStep(), c.rowsPerStep(), c.pullPerCall(), c.pullPerRow(), c.pushPerCall(), c.pushPerRow(),
                c.grpcPullPerCall(), c.grpcPullPerRow(), c.grpcPushPerCall(), c.grpcPushPerRow(), c.encodePerFloat(), c.decodePerFloat(),
                c.ringHopPerFloat(), c.roundPerFloat(), c.applyPerFloat(), c.wakeup(), c.machine(), l);
        Path p = dir.resolve("launch.json");
        Files.writeString(p, CostsFile.toJson(with));
        assertEquals(l, CostsFile.read(p).launch());
    }

    /**
     * How a step's time varies, from the examples trained in each metrics interval: metrics of a simulated renewal
     * process (steps with a coefficient of variation of 0.3, and of 0) give 0.3 within 0.05 and 0 (the counting's own
     * variance taken out). Fails on a variance not scaled to steps, the counting's variance left in (a constant step
     * would read as varying), or the intervals' uneven lengths not evened out.
     */
    @Test
    void calibrationMeasuresHowAStepsTimeVariesFromTheMetricsIntervals() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (double c : new double[] {0.3, 0.0}) {
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
            double mu = 0.008, sigma = Math.sqrt(Math.log(1 + c * c)), t = 0, next = 0.1;
            long steps = 0;
            java.util.List<JsonNode> records = new java.util.ArrayList<>();
            while (records.size() < 5000) {
                double z = rnd.nextGaussian();
                t += mu * Math.exp(sigma * z - sigma * sigma / 2); // lognormal, mean mu, coefficient c
                steps++;
                while (t >= next) {
                    double at = next + Math.abs(rnd.nextGaussian()) * 0.005; // the metrics timer is late by varying amounts (measured: sd 4.6 ms)
                    records.add(json.readTree("{\"seconds\": " + at + ", \"examples\": " + 128 * (steps - (t > at ? 1 : 0)) + "}"));
                    next += 0.1;
                }
            }
            double[] iv = Calibration.intervals(records);
            double cv = new Calibration.Steady(1, 1, 1, 0, iv[0], iv[1]).stepCv(128, 1);
            assertEquals(c, cv, 0.05, "a step varying by " + c);
        }
        // too few intervals to say
        java.util.List<JsonNode> few = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) few.add(json.readTree("{\"seconds\": " + (0.1 * i) + ", \"examples\": " + 1280 * i + "}"));
        assertTrue(Double.isNaN(Calibration.intervals(few)[0]));
    }

    /** The step's measured variation goes through the file and is simulate's default stragglers; without one, the wall's spread. */
    @Test
    void theMeasuredStepVariationIsTheDefaultStragglers() throws Exception {
        Path train = data();
        Costs c = CostsFile.read(costs(2e-3));
        assertEquals(null, c.step().stepCv());
        assertEquals(0.1, c.step().variation(), 1e-12, "the wall's relative spread");
        Costs.JobStep st = c.step();
        Costs.JobStep with = new Costs.JobStep(st.wall(), st.cpu(), st.workerCpu(), st.processCpu(), st.workers(), st.psShards(), st.link(),
                new Measure(0.25, 0.02));
        Costs cw = new Costs(with, c.computeStep(), c.rowsPerStep(), c.pullPerCall(), c.pullPerRow(), c.pushPerCall(), c.pushPerRow(),
                c.grpcPullPerCall(), c.grpcPullPerRow(), c.grpcPushPerCall(), c.grpcPushPerRow(), c.encodePerFloat(), c.decodePerFloat(),
                c.ringHopPerFloat(), c.roundPerFloat(), c.applyPerFloat(), c.wakeup(), c.machine());
        Path p = dir.resolve("cv.json");
        Files.writeString(p, CostsFile.toJson(cw));
        assertEquals(new Measure(0.25, 0.02), CostsFile.read(p).step().stepCv());
        CliTest.Run r = CliTest.run("simulate", "--model", "dlrm", "--train", train.toString(), "--costs", p.toString(), "--trainers", "2",
                "--algorithms", "s-ma", "--steps", "40");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("stragglers lognormal:0.25"), r.err());
    }

    /** The process's own CPU goes through the file; a format-2 file (without it) is read as none; another format is refused naming the file. */
    @Test
    void readsTheProcessCpuAndTheFormatBeforeIt() throws Exception {
        Path costs = costs(2e-3);
        assertEquals(0.25, CostsFile.read(costs).step().processCpu().median());
        String json = Files.readString(costs);
        Path old = dir.resolve("old.json");
        Files.writeString(old, json.replace(CostsFile.VERSION, CostsFile.VERSION_2).replaceAll("(?s)\"process_cpu_cores\" : \\{[^}]*},", ""));
        Costs c = CostsFile.read(old);
        assertEquals(0, c.step().processCpu().median());
        assertEquals(2e-3 * 0.9, c.step().cpu().median(), 1e-15);
        Files.writeString(old, json.replace(CostsFile.VERSION, "shadowsync-costs/1"));
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> CostsFile.read(old));
        assertTrue(e.getMessage().contains(old.toString()) && e.getMessage().contains("shadowsync calibrate"), e.getMessage());
        Files.writeString(costs, json.replaceAll("(?s)\"process_cpu_cores\" : \\{[^}]*},", ""));
        e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> CostsFile.read(costs));
        assertTrue(e.getMessage().contains("process_cpu_cores"), e.getMessage());
    }

    /**
     * Calibration's split of a process's CPU rate R = P + c·S (cores at S steps a second) into the step's c and the
     * process's P, from two runs: exact on a line; a slope below the workers' own CPU a step raised to it (P the mean
     * left over); where two trainers are no faster than one (cores short) or the line leaves P below 0, all of the CPU
     * is the steps'.
     */
    @Test
    void calibrationSplitsTheProcessCpuFromTheSteps() {
        double c = 4e-3, p = 0.3, worker = 3e-3;
        double[] s = Calibration.split(100, p + c * 100, 180, p + c * 180, worker);
        assertEquals(c, s[0], 1e-12);
        assertEquals(p, s[1], 1e-12);
        double[] bound = Calibration.split(100, 0.8, 105, 0.84, worker);
        assertEquals(0, bound[1]);
        assertEquals((0.8 + 0.84) / 205, bound[0], 1e-12);
        double[] shallow = Calibration.split(100, 0.3 + 0.002 * 100, 200, 0.3 + 0.002 * 200, worker); // slope 2 ms < 3 ms of the workers
        assertEquals(worker, shallow[0], 1e-12);
        assertEquals((0.2 + 0.1) / 2, shallow[1], 1e-12);
        double[] negative = Calibration.split(100, 0.3, 200, 0.9, worker); // P = −0.3
        assertEquals(0, negative[1]);
        assertEquals(1.2 / 300, negative[0], 1e-12);
    }

    /** The job's flags for calibrate's own runs: the flags it sets itself dropped with their values, the rest kept as given. */
    @Test
    void dropsTheFlagsCalibrateSetsItself() {
        var kept = TrainFlags.without(java.util.List.of("jobs/dlrm-synthetic.yaml", "--sync", "s-ma", "--in-memory", "--trainers=4", "--train", "x.tsv",
                "--no-progress", "--net-latency", "100us", "--examples", "5"), Set.of("--sync", "--trainers", "--no-progress", "--examples"));
        assertEquals(java.util.List.of("jobs/dlrm-synthetic.yaml", "--in-memory", "--train", "x.tsv", "--net-latency", "100us"), kept);
    }
}
