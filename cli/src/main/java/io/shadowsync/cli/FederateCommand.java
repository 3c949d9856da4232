package io.shadowsync.cli;

import io.shadowsync.api.FederatedJob;
import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.data.DataSource;
import io.shadowsync.fed.Aggregation;
import io.shadowsync.fed.ClientSplit;
import io.shadowsync.fed.FederatedResult;
import io.shadowsync.fed.Federation;
import io.shadowsync.fed.RoundRecord;
import io.shadowsync.fed.ServerOptimizer;
import io.shadowsync.optim.OptimizerSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync federate [JOB.yaml] [flags]}: federated training of simulated clients (threads of this JVM) on
 * non-IID shards of the data, in rounds (see docs/federated.md). The model and data flags are those of train.
 */
@Command(name = "federate", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Federated training: K simulated clients with private non-IID shards train a global model in rounds "
                + "(FedAvg, FedProx, robust aggregation, secure aggregation, differential privacy). The last line on stdout is a JSON summary.",
                "The model is an MLP (--model mlp, the default here), LR or DLRM (their embedding tables travel as changed rows). Keys of the optional YAML job file are the long option names without '--'."})
public class FederateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "JOB.yaml", description = "Job file (YAML) with default values for the options below.")
    Path jobFile;

    @Mixin
    ModelOptions model = mlpByDefault();

    @Option(names = "--train", paramLabel = "PATH", description = "Training data, dealt out to the clients by --split.")
    Path train;

    @Option(names = "--train-labels", paramLabel = "PATH", description = "IDX: label file of --train.")
    Path trainLabels;

    @Option(names = "--client-data", split = ",", paramLabel = "PATH", description = "With --split files: one data file per client (text formats), comma-separated.")
    List<Path> clientData;

    @Option(names = "--eval", paramLabel = "PATH", description = "Held-out data the global model is evaluated on.")
    Path eval;

    @Option(names = "--eval-labels", paramLabel = "PATH", description = "IDX: label file of --eval.")
    Path evalLabels;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--optimizer", paramLabel = "NAME", description = "The clients' local optimizer: sgd, adagrad or adam (default: sgd).")
    String optimizer = "sgd";

    @Option(names = "--lr", paramLabel = "LR", description = "Local learning rate (default: 0.05).")
    Double lr;

    @Option(names = "--momentum", paramLabel = "M", description = "Local SGD momentum (default: 0).")
    double momentum;

    @Option(names = "--batch", paramLabel = "B", description = "Local mini-batch size (default: 64).")
    Integer batch;

    @Option(names = "--workers", paramLabel = "W", description = "Hogwild worker threads of each client (default: 1).")
    int workers = 1;

    @Option(names = "--shuffle", description = "Clients visit their shard in a new random order every local epoch (default: shard order).")
    boolean shuffle;

    @Option(names = "--seed", paramLabel = "S", description = "Seeds the initialization, split, sampling, dropouts and DP noise (default: 1234).")
    long seed = 1234;

    @Option(names = "--clients", paramLabel = "K", description = "Simulated clients (default: 10; with --split files, one per file).")
    Integer clients;

    @Option(names = "--fraction", paramLabel = "F", description = "Share of the clients sampled per round, in (0, 1] (default: 1).")
    double fraction = 1;

    @Option(names = "--rounds", paramLabel = "R", description = "Rounds (default: 10).")
    int rounds = 10;

    @Option(names = "--local-epochs", paramLabel = "E", description = "A client's passes over its shard per round (default: 1).")
    int localEpochs = 1;

    @Option(names = "--split", paramLabel = "HOW", description = "How the data is dealt to clients: iid, dirichlet:ALPHA (label skew), quantity:ALPHA "
            + "(size skew) or files (--client-data) (default: iid).")
    String split = "iid";

    @Option(names = "--aggregate", paramLabel = "RULE", description = "fedavg, fedprox:MU, median or trimmed:BETA (default: fedavg).")
    String aggregate = "fedavg";

    @Option(names = "--server-opt", paramLabel = "NAME", description = "Server optimizer: sgd or adam (FedAdam) (default: sgd).")
    String serverOpt = "sgd";

    @Option(names = "--server-lr", paramLabel = "LR", description = "Server learning rate (default: 1 for sgd, 0.01 for adam).")
    Double serverLr;

    @Option(names = "--secure-agg", description = "Secure aggregation: pairwise-masked uploads, the server learns only their sum (fedavg/fedprox).")
    boolean secureAgg;

    @Option(names = "--secure-threshold", paramLabel = "T", description = "Secure aggregation: survivors needed to recover dropped clients (default: a majority of the round).")
    int secureThreshold;

    @Option(names = "--dp-clip", paramLabel = "C", description = "Differential privacy: clip each update to L2 norm C (default: no DP).")
    double dpClip;

    @Option(names = "--dp-noise", paramLabel = "Z", description = "Differential privacy: noise multiplier, noise std = Z·C on the sum.")
    double dpNoise;

    @Option(names = "--dp-delta", paramLabel = "D", description = "Differential privacy: the δ at which ε is reported (default: 1e-5).")
    double dpDelta = 1e-5;

    @Option(names = "--compress", paramLabel = "CODEC", description = "How a client's change is uploaded: none (float32), fp16, bf16, int8, "
            + "int8:stochastic or topk:F (the F largest changes, the rest kept by the client and added to its next upload); "
            + "not with --secure-agg or DP (default: none).")
    String compress = "none";

    @Option(names = "--dropout", paramLabel = "P", description = "Probability that a sampled client fails mid-round (default: 0).")
    double dropout;

    @Option(names = "--min-clients", paramLabel = "M", description = "Fewest reports a round closes with; with fewer it is skipped (default: 1).")
    int minClients = 1;

    @Option(names = "--poison", paramLabel = "F:FACTOR", description = "Testing robustness: a share F of the clients multiplies its update by FACTOR "
            + "(e.g. 0.2:-10; 0.2:-1 flips signs) (default: none).")
    String poison;

    @Option(names = "--eval-every", paramLabel = "N", description = "Evaluate the global model every N rounds (default: 0, after the last only).")
    int evalEvery;

    @Option(names = "--target-accuracy", paramLabel = "A", description = "Stop at the first evaluated round (--eval-every) whose accuracy reaches A, and report it as rounds_to_target (-1: not reached).")
    Double targetAccuracy;

    @Option(names = "--parallel", paramLabel = "N", description = "Clients training at once (default: one per core).")
    int parallel;

    @Option(names = "--split-rows", paramLabel = "N", description = "Clients shown in the split table on stderr (default: 10).")
    int splitRows = 10;

    @Option(names = "--save", paramLabel = "MODEL", description = "Write the global model to this file (atomically).")
    Path save;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Also write the JSON summary to this file.")
    Path summaryJson;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Option(names = "--local", paramLabel = "P", description = "Run the clients in P processes on this host (client k in process k mod P), "
            + "started and stopped by this one, which is the server; over gRPC on 127.0.0.1 (default: clients are threads of this JVM).")
    Integer local;

    @Option(names = "--client-processes", paramLabel = "P", description = "Serve as the federation server for P 'federate-client' processes started "
            + "elsewhere, which meet it at --listen.")
    Integer clientProcesses;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "With --client-processes: where the server listens (default: 127.0.0.1:0, a free port, printed).")
    String listen;

    @Option(names = "--token-file", paramLabel = "FILE", description = "With client processes: the job's shared secret (with --local, one is made for the run).")
    Path tokenFile;

    @Option(names = "--round-timeout", paramLabel = "SEC", description = "With client processes: how long a client has to train and upload in a round; "
            + "a later one has dropped out of it (default: 60).")
    double roundTimeout = 60;

    @Option(names = "--rendezvous-timeout", paramLabel = "SEC", description = "With client processes: how long to wait for all of them to arrive (default: 60).")
    double rendezvousTimeout = 60;

    /** The training data as given (--train, or the first --client-data file), for the saved model's provenance. */
    private DataSource trainSource;

    private static ModelOptions mlpByDefault() {
        ModelOptions m = new ModelOptions();
        m.model = "mlp";
        return m;
    }

    @Override
    public Integer call() throws Exception {
        CliLogging.prefix("shadowsync federate");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        FederatedJob job = job(err);
        err.println("shadowsync federate: " + job.model().kind() + " model, " + String.format(Locale.ROOT, "%,d", job.model().denseParameters())
                + " parameters" + tableValues(job.model()) + "; " + job.config().clients() + " clients, " + job.split().label() + " split, " + job.config().aggregation().label()
                + ", server " + serverOpt.toLowerCase(Locale.ROOT) + (secureAgg ? ", secure aggregation" : "")
                + (dpClip > 0 ? ", DP clip " + dpClip + " noise " + dpNoise : ""));
        int processes = local != null ? local : clientProcesses != null ? clientProcesses : 0;
        if (local == null && clientProcesses == null) err.print(job.splitTable(splitRows)); // with client processes the server holds no training data
        err.flush();
        java.util.function.Consumer<RoundRecord> progress = rec -> {
            err.println(roundLine(rec));
            err.flush();
        };
        FederatedResult r;
        List<Integer> lost = null;
        if (local != null || clientProcesses != null) {
            try (FederationProcesses fp = new FederationProcesses(this, processes, err)) {
                r = fp.run(job, progress);
                lost = fp.lostProcesses();
            }
        } else {
            r = job.run(progress);
        }
        Map<String, Object> summary = summary(job, r);
        if (local != null || clientProcesses != null) {
            summary.put("client_processes", processes);
            summary.put("lost_processes", lost);
        }
        if (save != null) {
            ModelFile.write(save, job.model().toProperties(), Provenance.of(spec, jobFile, trainSource, summary),
                    r.model().dense().data(), r.tables());
            summary.put("saved", save.toString());
        }
        Json.emit(out, summaryJson, summary);
        return 0;
    }

    /** ", N embedding-table values" for a model with tables, else nothing. */
    private static String tableValues(io.shadowsync.nn.ModelSpec m) {
        long n = 0;
        for (long[] s : m.embeddingShapes()) n += s[0] * s[1];
        return n == 0 ? "" : String.format(Locale.ROOT, " and %,d embedding-table values", n);
    }

    /** The flags as a federated job; refuses bad values with the flag's name. */
    FederatedJob job(PrintWriter err) throws Exception {
        ClientSplit how;
        Aggregation rule;
        ServerOptimizer.Kind server;
        try {
            how = ClientSplit.parse(split);
            rule = Aggregation.parse(aggregate);
            server = ServerOptimizer.kind(serverOpt);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        FederatedJob.Builder b = FederatedJob.builder().split(how).aggregation(rule).serverOptimizer(server, serverLr);
        DataSource schemaOf;
        if (how.kind() == ClientSplit.Kind.FILES) {
            if (clientData == null || clientData.isEmpty()) throw new UsageException("--split files needs --client-data PATH,PATH,... (one file per client)");
            if (train != null) throw new UsageException("--split files takes the clients' data from --client-data; drop --train");
            if (clients != null && clients != clientData.size()) {
                throw new UsageException("--clients " + clients + " but --client-data names " + clientData.size() + " files (one per client)");
            }
            data.inferClasses(clientData.get(0), err);
            List<DataSource> per = new ArrayList<>();
            for (Path p : clientData) per.add(data.source(p, null, "--client-data", "--train-labels"));
            b.clientData(per);
            schemaOf = per.get(0);
        } else {
            if (clientData != null) throw new UsageException("--client-data goes with --split files");
            if (train == null) throw new UsageException("no training data: give --train PATH (or 'train:' in a job file)");
            data.inferClasses(train, err);
            schemaOf = data.source(train, trainLabels, "--train", "--train-labels");
            b.data(schemaOf).clients(clients != null ? clients : 10);
        }
        trainSource = schemaOf;
        if (eval != null) b.eval(data.source(eval, evalLabels, "--eval", "--eval-labels"));
        b.model(model.spec(schemaOf.schema()));
        b.optimizer(OptimizerSpec.of(optimizer.toLowerCase(Locale.ROOT), lr != null ? lr : 0.05).withMomentum(momentum));
        b.batchSize(batch != null ? batch : 64).workers(workers).shuffle(shuffle).seed(seed);
        b.fraction(fraction).rounds(rounds).localEpochs(localEpochs);
        b.secureAggregation(secureAgg, secureThreshold).privacy(dpClip, dpNoise, dpDelta).dropout(dropout).minClients(minClients);
        b.evalEvery(evalEvery).parallel(parallel);
        try {
            b.compress(compress);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--compress: " + e.getMessage());
        }
        if (poison != null) {
            String[] p = poison.split(":");
            try {
                if (p.length != 2) throw new NumberFormatException();
                b.poison(Double.parseDouble(p[0]), Double.parseDouble(p[1]));
            } catch (NumberFormatException e) {
                throw new UsageException("--poison " + poison + ": give F:FACTOR, e.g. 0.2:-10");
            }
        }
        if (targetAccuracy != null) {
            if (eval == null) throw new UsageException("--target-accuracy needs --eval data to measure accuracy on");
            b.stopAtAccuracy(targetAccuracy);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static String roundLine(RoundRecord r) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "shadowsync federate: round %d: %d sampled, %d reported%s, up %,d B, down %,d B, %.2f s",
                r.round() + 1, r.sampled(), r.reported(), r.applied() ? "" : " (skipped: below the minimum)", r.uploadBytes(), r.downloadBytes(), r.seconds()));
        if (Double.isFinite(r.trainLoss())) s.append(String.format(Locale.ROOT, ", train loss %.4f", r.trainLoss()));
        if (r.eval() != null) s.append(String.format(Locale.ROOT, ", eval accuracy %.4f", r.eval().accuracy()));
        return s.toString();
    }

    private Map<String, Object> summary(FederatedJob job, FederatedResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "federate");
        m.put("model", job.model().kind());
        m.put("clients", job.config().clients());
        m.put("fraction", job.config().fraction());
        m.put("rounds", r.rounds().size());
        m.put("applied_rounds", r.appliedRounds());
        m.put("local_epochs", job.config().localEpochs());
        m.put("split", job.split().label());
        m.put("aggregate", job.config().aggregation().label());
        m.put("server_opt", job.config().serverOpt().name().toLowerCase(Locale.ROOT));
        m.put("server_lr", job.config().serverLr());
        m.put("secure_agg", job.config().secureAgg());
        m.put("dropout", job.config().dropout());
        m.put("compress", job.config().uploadCodec().name());
        if (job.config().privacy()) {
            m.put("dp_clip", job.config().dpClip());
            m.put("dp_noise", job.config().dpNoise());
            m.put("dp_delta", job.config().dpDelta());
            m.put("dp_epsilon", r.dpEpsilon());
        }
        long up = 0, down = 0;
        List<Map<String, Object>> per = new ArrayList<>();
        for (RoundRecord rec : r.rounds()) {
            up += rec.uploadBytes();
            down += rec.downloadBytes();
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("round", rec.round() + 1);
            x.put("sampled", rec.sampled());
            x.put("reported", rec.reported());
            x.put("dropped", rec.sampled() - rec.reported());
            x.put("applied", rec.applied());
            x.put("upload_bytes", rec.uploadBytes());
            x.put("download_bytes", rec.downloadBytes());
            x.put("seconds", Math.round(rec.seconds() * 1000) / 1000.0);
            if (job.config().secureAgg()) x.put("secure_seconds", Math.round(rec.secureSeconds() * 1000) / 1000.0);
            if (Double.isFinite(rec.trainLoss())) x.put("train_loss", rec.trainLoss());
            if (rec.eval() != null) x.put("eval_accuracy", rec.eval().accuracy());
            per.add(x);
        }
        m.put("upload_bytes", up);
        m.put("download_bytes", down);
        m.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        if (targetAccuracy != null) m.put("rounds_to_target", r.roundsToAccuracy(targetAccuracy));
        if (r.eval() != null) m.put("eval", r.eval().toMap());
        m.put("per_round", per);
        return m;
    }
}
