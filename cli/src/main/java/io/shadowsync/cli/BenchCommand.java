package io.shadowsync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shadowsync.kernels.Blas;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync bench}: examples/s of LR, MLP and DLRM at 1 and 2 workers, beside the PyTorch peer
 * ({@code ../shared/bench/peers/torch_bench.py}) measured in the same run on exactly the same data: the CTR
 * models train on the peer's own export (Criteo TSV), the MLP on Fashion-MNIST. Repetitions are interleaved
 * (ours, then the peer, config by config) so drift hits both sides alike; the table gives medians and ratios.
 * Our side holds the data in memory like the peer, and every model gets one untimed warm-up run (JIT).
 */
@Command(name = "bench", sortOptions = false, description = "Throughput of LR, MLP and DLRM at 1 and 2 workers, beside the PyTorch peer in the same run.")
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--models", split = ",", paramLabel = "M", description = "Models to run (default: lr,mlp,dlrm).")
    List<String> models = List.of("lr", "mlp", "dlrm");

    @Option(names = "--workers", split = ",", paramLabel = "W", description = "Worker counts (default: 1,2).")
    List<Integer> workers = List.of(1, 2);

    @Option(names = "--reps", paramLabel = "R", description = "Repetitions of every configuration (default: 3).")
    int reps = 3;

    @Option(names = "--epochs", paramLabel = "E", description = "Epochs per run on our side and the peer's (default: 1).")
    int epochs = 1;

    @Option(names = "--peer", paramLabel = "PY", description = "The peer script (default: ../shared/bench/peers/torch_bench.py); 'none' to skip it.")
    String peer = "../shared/bench/peers/torch_bench.py";

    @Option(names = "--python", paramLabel = "EXE", description = "Python with torch for the peer (default: /usr/bin/python3).")
    String python = "/usr/bin/python3";

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the peer's CTR export lives or is written (default: /tmp/shadowsync-bench/ctr).")
    Path dataDir = Path.of("/tmp/shadowsync-bench/ctr");

    @Option(names = "--fashion-dir", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist).")
    Path fashionDir = Path.of("/usr/share/datasets/fashion-mnist");

    @Option(names = "--results", paramLabel = "FILE", description = "Append every run as a JSON line here (default: bench-results.jsonl).")
    Path results = Path.of("bench-results.jsonl");

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean withPeer = !peer.equals("none");
        if (withPeer && !Files.isRegularFile(Path.of(peer))) throw new UsageException(peer + ": no such peer script (give --peer PATH or --peer none)");
        if (models.contains("lr") || models.contains("dlrm")) ensureCtrData(err, withPeer);
        if (models.contains("mlp") && !Files.isRegularFile(fashionDir.resolve("train-images-idx3-ubyte.gz"))) {
            throw new UsageException(fashionDir + ": no Fashion-MNIST here (apt-get install dataset-fashion-mnist, or --fashion-dir, or leave mlp out of --models)");
        }
        err.println("bench: gemm " + Blas.backend());
        List<ObjectNode> rows = new ArrayList<>();
        for (String m : models) run(ours(m, 1, true), err); // warm-up, not recorded
        for (int rep = 1; rep <= reps; rep++) {
            for (String m : models) {
                for (int w : workers) {
                    rows.add(record(run(ours(m, w, false), err), "shadowsync", m, w, rep));
                    if (withPeer) rows.add(record(runPeer(m, w, err), "torch", m, w, rep));
                }
            }
        }
        String table = table(rows, withPeer);
        out.println(table);
        out.flush();
        return 0;
    }

    private void ensureCtrData(PrintWriter err, boolean withPeer) throws IOException, InterruptedException {
        if (Files.isRegularFile(dataDir.resolve("train.tsv")) && Files.isRegularFile(dataDir.resolve("test.tsv"))) return;
        if (!withPeer) throw new UsageException(dataDir + " has no train.tsv/test.tsv; without the peer, write them with: " + python + " torch_bench.py --export-ctr-tsv " + dataDir);
        err.println("bench: exporting the peer's synthetic CTR data to " + dataDir);
        exec(List.of(python, peer, "--export-ctr-tsv", dataDir.toString()), err);
    }

    private List<String> ours(String model, int w, boolean warmup) {
        List<String> a = new ArrayList<>(List.of("train", "--model", model, "--workers", String.valueOf(w), "--in-memory", "--no-progress"));
        if (model.equals("mlp")) {
            a.addAll(List.of("--format", "idx", "--train", fashionDir.resolve("train-images-idx3-ubyte.gz").toString(),
                    "--train-labels", fashionDir.resolve("train-labels-idx1-ubyte.gz").toString(),
                    "--eval", fashionDir.resolve("t10k-images-idx3-ubyte.gz").toString(),
                    "--eval-labels", fashionDir.resolve("t10k-labels-idx1-ubyte.gz").toString(),
                    "--idx-mean", "0.2860", "--idx-std", "0.3530"));
        } else {
            a.addAll(List.of("--format", "criteo", "--train", dataDir.resolve("train.tsv").toString(), "--eval", dataDir.resolve("test.tsv").toString()));
        }
        if (warmup) a.addAll(List.of("--examples", "20000"));
        else a.addAll(List.of("--epochs", String.valueOf(epochs)));
        return a;
    }

    private JsonNode run(List<String> args, PrintWriter err) throws IOException {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = Main.run(args.toArray(new String[0]), new PrintWriter(o, true), new PrintWriter(e, true));
        if (code != 0) throw new IOException("shadowsync " + String.join(" ", args) + " failed: " + e);
        String[] lines = o.toString().strip().split("\n");
        return json.readTree(lines[lines.length - 1]);
    }

    private JsonNode runPeer(String model, int w, PrintWriter err) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of(python, peer, "--model", model, "--mode", w == 1 ? "single" : "hogwild", "--workers", String.valueOf(w)));
        if (!model.equals("mlp")) a.addAll(List.of("--ctr-tsv-train", dataDir.resolve("train.tsv").toString(), "--ctr-tsv-test", dataDir.resolve("test.tsv").toString()));
        if (epochs != 1) a.addAll(List.of("--examples", String.valueOf(epochs * (model.equals("mlp") ? 60_000L : countLines(dataDir.resolve("train.tsv"))))));
        String o = exec(a, err);
        String[] lines = o.strip().split("\n");
        return json.readTree(lines[lines.length - 1]);
    }

    private static long countLines(Path p) throws IOException {
        try (var s = Files.lines(p)) {
            return s.count();
        }
    }

    private static String exec(List<String> cmd, PrintWriter err) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", cmd));
        }
        if (p.exitValue() != 0) throw new IOException("failed (exit " + p.exitValue() + "): " + String.join(" ", cmd));
        return new String(out, StandardCharsets.UTF_8);
    }

    private ObjectNode record(JsonNode r, String side, String model, int w, int rep) throws IOException {
        ObjectNode n = json.createObjectNode();
        n.put("side", side).put("model", model).put("workers", w).put("rep", rep);
        n.put("examples_per_sec", r.get("examples_per_sec").asDouble());
        n.put("examples", r.get("examples").asLong());
        if (side.equals("shadowsync")) {
            JsonNode ev = r.get("eval");
            if (ev.has("logloss")) n.put("eval_logloss", ev.get("logloss").asDouble());
            if (ev.has("auc")) n.put("eval_auc", ev.get("auc").asDouble());
            if (ev.has("accuracy")) n.put("eval_accuracy", ev.get("accuracy").asDouble());
            n.put("blas", r.get("blas").asText());
        } else {
            if (r.has("test_logloss")) n.put("eval_logloss", r.get("test_logloss").asDouble());
            if (r.has("test_auc")) n.put("eval_auc", r.get("test_auc").asDouble());
            if (r.has("test_acc")) n.put("eval_accuracy", r.get("test_acc").asDouble());
            if (r.has("test_loss")) n.put("eval_logloss", r.get("test_loss").asDouble());
            n.put("blas", r.get("blas").asText());
        }
        Files.writeString(results, n + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        spec.commandLine().getErr().println("bench: " + n);
        return n;
    }

    static String table(List<ObjectNode> rows, boolean withPeer) {
        Map<String, List<ObjectNode>> groups = new LinkedHashMap<>();
        for (ObjectNode r : rows) groups.computeIfAbsent(r.get("model").asText() + "/" + r.get("workers").asInt(), k -> new ArrayList<>()).add(r);
        StringBuilder sb = new StringBuilder();
        sb.append("| model | workers | shadowsync ex/s (median) | torch ex/s (median) | ratio | shadowsync scaling vs 1 worker | shadowsync eval | torch eval |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        Map<String, Double> one = new LinkedHashMap<>();
        for (Map.Entry<String, List<ObjectNode>> g : groups.entrySet()) {
            String model = g.getKey().split("/")[0];
            int w = Integer.parseInt(g.getKey().split("/")[1]);
            double ours = median(g.getValue(), "shadowsync", "examples_per_sec");
            double theirs = median(g.getValue(), "torch", "examples_per_sec");
            if (w == 1) one.put(model, ours);
            Double base = one.get(model);
            String metric = model.equals("mlp") ? "eval_accuracy" : "eval_logloss";
            sb.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %s | %s | %s | %s %.4f | %s |\n", model, w, ours,
                    withPeer ? String.format(Locale.ROOT, "%,.0f", theirs) : "-",
                    withPeer ? String.format(Locale.ROOT, "%.2fx", ours / theirs) : "-",
                    base != null ? String.format(Locale.ROOT, "%.2fx", ours / base) : "-",
                    metric.substring(5), median(g.getValue(), "shadowsync", metric),
                    withPeer ? String.format(Locale.ROOT, "%.4f", median(g.getValue(), "torch", metric)) : "-"));
        }
        return sb.toString();
    }

    private static double median(List<ObjectNode> rows, String side, String field) {
        List<Double> v = new ArrayList<>();
        for (ObjectNode r : rows) if (r.get("side").asText().equals(side) && r.has(field)) v.add(r.get(field).asDouble());
        if (v.isEmpty()) return Double.NaN;
        v.sort(null);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
