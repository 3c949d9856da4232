package io.shadowsync.api;

import io.shadowsync.comm.Codec;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.fed.Aggregation;
import io.shadowsync.fed.ClientSplit;
import io.shadowsync.fed.FederatedConfig;
import io.shadowsync.fed.FederatedResult;
import io.shadowsync.fed.Federation;
import io.shadowsync.fed.RoundRecord;
import io.shadowsync.fed.ServerOptimizer;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A federated training job configured from Java: the embedded form of {@code shadowsync federate}, every simulated
 * client a thread of this JVM (see {@link Federation} for what a round does).
 *
 * <pre>{@code
 * FederatedResult r = FederatedJob.builder()
 *         .data(new IdxSource(images, labels, 0.2860f, 0.3530f))
 *         .eval(new IdxSource(testImages, testLabels, 0.2860f, 0.3530f))
 *         .clients(100).fraction(0.1).rounds(50).localEpochs(1)
 *         .split(ClientSplit.parse("dirichlet:0.1")).aggregation(Aggregation.parse("fedprox:0.01"))
 *         .build().run(null);
 * }</pre>
 *
 * Only the data is required. Defaults: the model fits the data as in {@link TrainingJob} (it must be an MLP: federated
 * training averages dense parameters only), SGD at 0.05, batches of 64, one worker per client, 10 clients, all sampled
 * every round, 10 rounds of one local epoch, an IID split, FedAvg, a server SGD at rate 1, no secure aggregation, no
 * DP, no dropout, a round closes with at least one report, seed 1234.
 * {@link Builder#build()} refuses settings that cannot work with a sentence naming the setting.
 */
public final class FederatedJob {
    private final DataSource data;
    private final List<DataSource> clientData;
    private final DataSource eval;
    private final ModelSpec model;
    private final ClientSplit split;
    private final FederatedConfig config;
    private InMemorySource[] shards;

    private FederatedJob(Builder b, ModelSpec model, FederatedConfig config) {
        this.data = b.data;
        this.clientData = b.clientData == null ? null : List.copyOf(b.clientData);
        this.eval = b.eval;
        this.model = model;
        this.split = b.split;
        this.config = config;
    }

    public static Builder builder() {
        return new Builder();
    }

    public FederatedConfig config() {
        return config;
    }

    public ModelSpec model() {
        return model;
    }

    public ClientSplit split() {
        return split;
    }

    /** The held-out data the global model is evaluated on, or null. */
    public DataSource evalData() {
        return eval;
    }

    /** Each client's data (loaded and split on the first call, then kept). */
    public synchronized InMemorySource[] shards() throws IOException {
        if (shards == null) {
            if (split.kind() == ClientSplit.Kind.FILES) {
                InMemorySource[] s = new InMemorySource[clientData.size()];
                for (int k = 0; k < s.length; k++) s[k] = InMemorySource.load(clientData.get(k));
                shards = s;
            } else {
                InMemorySource all = InMemorySource.load(data);
                int[][] parts = split.assign(ClientSplit.labels(all), all.schema().numClasses(), config.clients(), config.seed());
                shards = ClientSplit.shards(all, parts);
            }
        }
        return shards.clone();
    }

    /** The split as a table of class counts per client (the first maxRows clients). */
    public String splitTable(int maxRows) throws IOException {
        return ClientSplit.table(shards(), maxRows);
    }

    /** Runs every round; progress (may be null) hears of each round as it closes. */
    public FederatedResult run(Consumer<RoundRecord> progress) throws IOException, InterruptedException {
        return new Federation(model, shards(), eval, config, progress).run();
    }

    /** Collects a federated job's settings; {@link #build()} checks them. Not thread-safe. */
    public static final class Builder {
        private DataSource data;
        private List<DataSource> clientData;
        private DataSource eval;
        private ModelSpec model;
        private OptimizerSpec optimizer;
        private Double learningRate;
        private int batchSize = 64;
        private int workers = 1;
        private long seed = 1234;
        private boolean shuffle;
        private int clients = 10;
        private double fraction = 1;
        private int rounds = 10;
        private int localEpochs = 1;
        private ClientSplit split = ClientSplit.IID;
        private Aggregation aggregation = Aggregation.FEDAVG;
        private ServerOptimizer.Kind serverOpt = ServerOptimizer.Kind.SGD;
        private Double serverLr;
        private boolean secureAgg;
        private int secureThreshold;
        private double dpClip, dpNoise, dpDelta = 1e-5;
        private double dropout;
        private int minClients = 1;
        private double poisonFraction, poisonFactor = 1;
        private int evalEvery;
        private double stopAtAccuracy;
        private int parallel;
        private Codec uploadCodec = Codec.FLOAT32;

        private Builder() {}

        /** The data dealt out to the clients by {@link #split} (required unless each client has its own, {@link #clientData}). */
        public Builder data(DataSource data) {
            this.data = data;
            return this;
        }

        /** One data set per client (the {@code files} split): the clients are as many as these. */
        public Builder clientData(List<DataSource> perClient) {
            this.clientData = perClient == null ? null : new ArrayList<>(perClient);
            return this;
        }

        /** Held-out data the global model is evaluated on (default: none). */
        public Builder eval(DataSource eval) {
            this.eval = eval;
            return this;
        }

        /** The model (default: an MLP fitted to the data, as {@link TrainingJob} picks). */
        public Builder model(ModelSpec model) {
            this.model = model;
            return this;
        }

        /** The clients' local optimizer (default: SGD at 0.05). */
        public Builder optimizer(OptimizerSpec optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** The local optimizer's learning rate. */
        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Hogwild workers of each client's trainer (default: 1). */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Clients visit their shard in a new order every epoch (default: shard order). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        public Builder clients(int clients) {
            this.clients = clients;
            return this;
        }

        public Builder fraction(double fraction) {
            this.fraction = fraction;
            return this;
        }

        public Builder rounds(int rounds) {
            this.rounds = rounds;
            return this;
        }

        public Builder localEpochs(int localEpochs) {
            this.localEpochs = localEpochs;
            return this;
        }

        public Builder split(ClientSplit split) {
            this.split = split;
            return this;
        }

        public Builder aggregation(Aggregation aggregation) {
            this.aggregation = aggregation;
            return this;
        }

        /** The server optimizer and its learning rate (null: 1 for sgd, 0.01 for adam). */
        public Builder serverOptimizer(ServerOptimizer.Kind kind, Double lr) {
            this.serverOpt = kind;
            this.serverLr = lr;
            return this;
        }

        /** Secure aggregation, recovering dropped clients from threshold survivors (0: a majority of the round). */
        public Builder secureAggregation(boolean on, int threshold) {
            this.secureAgg = on;
            this.secureThreshold = threshold;
            return this;
        }

        /** DP-FedAvg: clip updates to clip, noise multiplier noise, ε reported at delta. */
        public Builder privacy(double clip, double noise, double delta) {
            this.dpClip = clip;
            this.dpNoise = noise;
            this.dpDelta = delta;
            return this;
        }

        /** The probability that a sampled client fails mid-round (default: 0). */
        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        /** The fewest reports a round closes with (default: 1); with fewer it is skipped. */
        public Builder minClients(int minClients) {
            this.minClients = minClients;
            return this;
        }

        /** Robustness testing: this share of the clients multiplies its update by factor (−1 flips it). */
        public Builder poison(double fraction, double factor) {
            this.poisonFraction = fraction;
            this.poisonFactor = factor;
            return this;
        }

        /** Evaluate every this many rounds (default: 0, after the last only). */
        public Builder evalEvery(int evalEvery) {
            this.evalEvery = evalEvery;
            return this;
        }

        /** End the run at the first evaluated round whose accuracy reaches target (needs evalEvery; default: 0, never). */
        public Builder stopAtAccuracy(double target) {
            this.stopAtAccuracy = target;
            return this;
        }

        /** Clients training at once (default: 0, one per core). */
        public Builder parallel(int parallel) {
            this.parallel = parallel;
            return this;
        }

        /**
         * How plain uploads travel (default: float32): a client's change, encoded by its own encoder for the whole job
         * (top-k's error feedback keeps what a client's earlier uploads left out). Lossy codecs go with neither secure
         * aggregation (it masks fixed-point values) nor DP (rounding and error feedback could exceed the clip norm ε is
         * computed for).
         */
        public Builder uploadCodec(Codec codec) {
            this.uploadCodec = codec;
            return this;
        }

        /** {@link #uploadCodec} by name, as {@code --compress} takes it: none, fp16, bf16, int8, int8:stochastic, topk:F. */
        public Builder compress(String name) {
            return uploadCodec(Codec.named(name));
        }

        /** Checks the settings; throws {@link IllegalArgumentException} naming what is wrong. */
        public FederatedJob build() {
            if (split == null) throw new IllegalArgumentException("split(null): give ClientSplit.IID or ClientSplit.parse(\"dirichlet:0.1\")");
            boolean files = split.kind() == ClientSplit.Kind.FILES;
            DataSchema schema;
            if (files) {
                if (clientData == null || clientData.isEmpty()) {
                    throw new IllegalArgumentException("the files split needs clientData(...), one data set per client");
                }
                if (data != null) throw new IllegalArgumentException("give data(...) or, with the files split, clientData(...), not both");
                schema = clientData.get(0).schema();
                for (DataSource d : clientData) {
                    if (!d.schema().equals(schema)) {
                        throw new IllegalArgumentException("client data " + d.describe() + " has another layout than " + clientData.get(0).describe());
                    }
                }
                clients = clientData.size();
            } else {
                if (data == null) throw new IllegalArgumentException("no training data: give data(DataSource)");
                if (clientData != null) throw new IllegalArgumentException("clientData(...) goes with the files split only");
                schema = data.schema();
            }
            if (eval != null && !eval.schema().equals(schema)) {
                throw new IllegalArgumentException("eval(...) data " + eval.describe() + " has another layout than the training data");
            }
            ModelSpec spec = model != null ? model : defaultModel(schema);
            if (learningRate != null && !(learningRate > 0 && Double.isFinite(learningRate))) {
                throw new IllegalArgumentException("learningRate(" + learningRate + "): give a positive finite rate");
            }
            OptimizerSpec opt = optimizer != null ? optimizer : OptimizerSpec.of("sgd", 0.05);
            if (learningRate != null) opt = opt.withLr(learningRate);
            if (serverOpt == null) throw new IllegalArgumentException("serverOptimizer(null, ...): give ServerOptimizer.Kind.SGD or ADAM");
            if (uploadCodec == null) throw new IllegalArgumentException("uploadCodec(null): give Codec.FLOAT32 or Codec.named(\"topk:0.01\")");
            if (!uploadCodec.lossless() && secureAgg) {
                throw new IllegalArgumentException("compressed uploads (" + uploadCodec.name() + ") with secure aggregation: the masked uploads are"
                        + " fixed-point values, not codec messages; choose one");
            }
            if (!uploadCodec.lossless() && dpClip > 0) {
                throw new IllegalArgumentException("compressed uploads (" + uploadCodec.name() + ") with differential privacy: rounding and error"
                        + " feedback could carry more than the clip norm the privacy guarantee is computed for; choose one");
            }
            double slr = serverLr != null ? serverLr : ServerOptimizer.defaultLr(serverOpt);
            FederatedConfig config = new FederatedConfig(clients, fraction, rounds, localEpochs, batchSize, workers, opt, shuffle,
                    aggregation, serverOpt, slr, secureAgg, secureThreshold, dpClip, dpNoise, dpDelta, dropout, minClients,
                    poisonFraction, poisonFactor, evalEvery, stopAtAccuracy, parallel, uploadCodec, seed);
            Federation.check(spec, config);
            return new FederatedJob(this, spec, config);
        }

        private static ModelSpec defaultModel(DataSchema s) {
            if (s.numCat() > 0 || s.sparse() || s.numDense() == 0) {
                throw new IllegalArgumentException("federated training takes an MLP on dense features; the data has "
                        + s.numCat() + " categorical fields" + (s.sparse() ? " and sparse features" : ""));
            }
            String task = s.numClasses() == 0 ? "regression" : s.numClasses() == 2 ? "binary" : "multiclass";
            return new MlpSpec(s.numDense(), new int[] {256, 128}, s.numClasses() > 2 ? s.numClasses() : 1, "relu", task);
        }
    }
}
