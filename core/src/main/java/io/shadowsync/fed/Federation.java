package io.shadowsync.fed;

import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.TrainingException;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The server of a federated run and its simulated clients (threads of this JVM). Each round:
 * <ol>
 *   <li>the server samples clients (seeded; with DP by Poisson sampling) and sends each the global model;</li>
 *   <li>each sampled client trains E local epochs from it ({@link LocalTraining}: the engine's trainer) — or, with
 *       probability {@code dropout}, fails after half of them and sends nothing;</li>
 *   <li>each client that finished sends its change Δ_i: put through the upload codec, or with secure aggregation
 *       weighted by its examples, clipped under DP, fixed-point encoded and masked ({@link SecureAggregation});</li>
 *   <li>if at least {@code minClients} reported (with secure aggregation also the threshold; under DP always, so
 *       that no round's fate depends on who took part), the server combines the updates ({@link Aggregation}; under DP the clipped sum plus noise over q·K, {@link GaussianPrivacy}) and
 *       applies the result with its {@link ServerOptimizer}; otherwise the round is <b>skipped</b>: the global model
 *       stays as it was and the next round samples afresh (it is not retried).</li>
 * </ol>
 * The run ends after {@code rounds} rounds, or earlier at the first evaluated round that reaches
 * {@code stopAtAccuracy} when one is set.
 * A failure inside a client's training (bad data, a diverged model) is not a dropout: it ends the run with a
 * {@link TrainingException}.
 *
 * <p>Models with embedding tables (logistic regression's hashed weights, DLRM's tables) take part too: the server
 * keeps the global tables, every sampled client trains a copy of them and sends its change of the rows it touched
 * ({@link RowDelta}: row ids and their change); the server combines each row over the clients that touched it
 * ({@link Aggregation#combineRows}) and applies the combined rows with one server optimizer per table. Secure
 * aggregation masks the tables whole ({@link SecureLayout}: sparse row ids would tell the server which rows a
 * client touched) and is refused above {@link SecureLayout#MAX_TABLE_VALUES} table values; DP clips each client's
 * whole change (dense and rows) and noises every row of every table.
 */
public final class Federation {
    private final ModelSpec spec;
    private final ClientPool clients;
    private final boolean ownsClients;
    private final DataSource eval;
    private final FederatedConfig config;
    private final Consumer<RoundRecord> progress;

    /**
     * A federation whose clients are threads of this JVM.
     *
     * @param shards   one data set per client (K = shards.length must equal config.clients())
     * @param eval     held-out data the global model is evaluated on, or null
     * @param progress told of every round as it closes (the CLI prints it); may be null
     */
    public Federation(ModelSpec spec, InMemorySource[] shards, DataSource eval, FederatedConfig config, Consumer<RoundRecord> progress) {
        this(spec, localClients(spec, shards, config), true, eval, config, progress);
    }

    /**
     * A federation whose clients run elsewhere (other processes): the server's side only. The pool stays the
     * caller's to close.
     */
    public Federation(ModelSpec spec, ClientPool clients, DataSource eval, FederatedConfig config, Consumer<RoundRecord> progress) {
        this(spec, clients, false, eval, config, progress);
    }

    private Federation(ModelSpec spec, ClientPool clients, boolean ownsClients, DataSource eval, FederatedConfig config,
                       Consumer<RoundRecord> progress) {
        check(spec, config);
        this.spec = spec;
        this.clients = clients;
        this.ownsClients = ownsClients;
        this.eval = eval;
        this.config = config;
        this.progress = progress;
    }

    /**
     * Refuses what a model's embedding tables cannot do in a federated run, naming the setting: secure aggregation of
     * tables above {@link SecureLayout#MAX_TABLE_VALUES} values (every client masks them whole), and an upload codec
     * that drops values (top-k), whose error feedback follows a fixed vector while the changed rows differ each round.
     */
    public static void check(ModelSpec spec, FederatedConfig config) {
        if (spec.embeddingShapes().length == 0) return;
        long values = SecureLayout.tableValues(spec);
        if (config.secureAgg() && values > SecureLayout.MAX_TABLE_VALUES) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--secure-agg masks the whole model, and the %s model's"
                    + " embedding tables come to %,d values with their row weights, over the %,d a masked upload carries: make the"
                    + " tables smaller (--hash-bits, --emb-rows) or drop --secure-agg", spec.kind(), values, SecureLayout.MAX_TABLE_VALUES));
        }
        if (!Uploads.keepsEveryValue(config.uploadCodec())) {
            throw new IllegalArgumentException("--compress " + config.uploadCodec().name() + " drops values and carries them over to a client's"
                    + " next upload, which the changed rows of the " + spec.kind() + " model's embedding tables (a new set every round)"
                    + " cannot follow: use none, fp16, bf16 or int8 with embedding tables");
        }
    }

    /** Clients as threads of this JVM ({@code config.parallel()} at once, 0: one per core), each shard in memory. */
    public static ClientPool localClients(ModelSpec spec, InMemorySource[] shards, FederatedConfig config) {
        check(spec, config);
        return new LocalClients(new FederatedClient(spec, shards, config), config.parallel());
    }

    /** Runs every round and evaluates the final global model. */
    public FederatedResult run() throws IOException, InterruptedException {
        try {
            return rounds();
        } finally {
            if (ownsClients) clients.close();
        }
    }

    private FederatedResult rounds() throws IOException, InterruptedException {
        Model global = spec.build();
        global.initDense(config.seed());
        float[] w = global.dense().data();
        LocalEmbeddingStore tables = tables(spec, global, config);
        ServerOptimizer server = new ServerOptimizer(config.serverOpt(), config.serverLr());
        ServerOptimizer[] tableServers = new ServerOptimizer[tables.numTables()];
        for (int t = 0; t < tableServers.length; t++) tableServers[t] = new ServerOptimizer(config.serverOpt(), config.serverLr());
        GaussianPrivacy dp = config.privacy() ? new GaussianPrivacy(config.dpClip(), config.dpNoise(), config.seed() * 31 + 17) : null;
        SplittableRandom sampling = new SplittableRandom(config.seed() + 101);
        List<RoundRecord> records = new ArrayList<>();
        long t0 = System.nanoTime();
        int applied = 0;
        Metrics last = null;
        for (int round = 0; round < config.rounds(); round++) {
            RoundRecord rec = round(round, w, tables, server, tableServers, dp, sampling, global);
            if (rec.applied()) applied++;
            if (rec.eval() != null) last = rec.eval();
            records.add(rec);
            if (progress != null) progress.accept(rec);
            if (config.stopAtAccuracy() > 0 && rec.eval() != null && rec.eval().accuracy() >= config.stopAtAccuracy()) break;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        RoundRecord lastRound = records.get(records.size() - 1);
        Metrics finalEval = eval == null ? null : lastRound.eval() != null ? lastRound.eval() : evaluate(global, tables);
        double eps = dp == null ? Double.NaN
                : new RdpAccountant(config.fraction(), config.dpNoise(), RdpAccountant.Conversion.CLASSIC).epsilon(applied, config.dpDelta());
        return new FederatedResult(global, tables, records, finalEval == null ? last : finalEval, eps, seconds);
    }

    /**
     * The global tables at their start: those {@code shadowsync train} starts from with the same seed (the model's
     * init std per table), so that one client of one round trains what a single trainer would.
     */
    static LocalEmbeddingStore tables(ModelSpec spec, Model model, FederatedConfig config) {
        long[][] shapes = spec.embeddingShapes();
        float[] std = new float[shapes.length];
        for (int t = 0; t < shapes.length; t++) std[t] = model.embeddingInitStd(t);
        return new LocalEmbeddingStore(shapes, std, config.seed(), EmbeddingOptimizerSpec.defaultFor(config.optimizer()));
    }

    private RoundRecord round(int round, float[] w, LocalEmbeddingStore tables, ServerOptimizer server, ServerOptimizer[] tableServers,
                              GaussianPrivacy dp, SplittableRandom sampling, Model global) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        int[] sampled = sample(sampling);
        int n = sampled.length, len = w.length;
        boolean[] drops = new boolean[n];
        for (int i = 0; i < n; i++) drops[i] = config.dropout() > 0 && sampling.nextDouble() < config.dropout();
        boolean lastRound = round == config.rounds() - 1;
        if (config.secureAgg() && n < 2) {
            // a lone client's masked upload would be its update in the clear: the round is skipped before anyone trains
            return new RoundRecord(round, n, 0, false, 0, 0, (System.nanoTime() - t0) / 1e9, 0, Double.NaN,
                    lastRound && eval != null ? evaluate(global, tables) : null);
        }
        int threshold = !config.secureAgg() ? 0
                : config.secureThreshold() > 0 ? Math.min(config.secureThreshold(), n) : SecureAggregation.defaultThreshold(n);
        ClientPool.Round plan = new ClientPool.Round(round, sampled, drops, threshold);
        long secureNanos = 0;
        byte[][] advertised = null;
        byte[][][] dealt = null;
        boolean[] inRound = null;
        if (threshold > 0) {
            long s0 = System.nanoTime();
            advertised = clients.advertise(plan);
            dealt = clients.deal(plan, advertised);
            inRound = new boolean[n];
            for (int i = 0; i < n; i++) inRound[i] = advertised[i] != null && dealt[i] != null;
            secureNanos = System.nanoTime() - s0;
        }
        float[] snapshot = w.clone(); // what every client of the round starts from
        int numTables = tables.numTables();
        float[][] tableSnapshot = new float[numTables][];
        long tableFloats = 0;
        for (int t = 0; t < numTables; t++) {
            tableSnapshot[t] = tables.table(t); // read only until every client has answered: the server changes it after
            tableFloats += tableSnapshot[t].length;
        }
        ClientUpload[] uploads = clients.train(plan, snapshot, tableSnapshot, advertised, dealt);
        List<Integer> got = new ArrayList<>(n);
        long up = 0;
        double lossSum = 0;
        long lossWeight = 0;
        for (int i = 0; i < n; i++) {
            // a client's keys and shares went out at the setup, before it could drop out
            if (advertised != null && advertised[i] != null) up += advertised[i].length;
            if (dealt != null && dealt[i] != null) for (byte[] sealed : dealt[i]) if (sealed != null) up += sealed.length;
            ClientUpload u = uploads[i];
            if (u == null) continue;
            if (inRound != null && (!inRound[i] || u.masked() == null)) continue; // outside U2: its upload cannot be unmasked
            up += u.bytes();
            secureNanos += u.secureNanos();
            got.add(i);
            if (Double.isFinite(u.trainLoss())) {
                lossSum += u.trainLoss() * u.trained();
                lossWeight += u.trained();
            }
        }
        int needed = threshold > 0 ? Math.max(config.minClients(), threshold) : config.minClients();
        // under DP every round releases its noisy sum, even of no update: whether a round closed must not depend on
        // who took part (secure aggregation below its threshold is the exception: nothing can be unmasked)
        boolean apply = dp != null ? threshold == 0 || got.size() >= threshold : got.size() >= needed && !got.isEmpty();
        float[] delta = null;
        RowDelta[] rows = new RowDelta[numTables];
        if (apply && threshold > 0) {
            boolean[] survived = new boolean[n];
            for (int i : got) survived[i] = true;
            byte[][][] revealed = clients.reveal(plan, survived);
            long u0 = System.nanoTime();
            Map<Integer, long[]> masked = new HashMap<>();
            for (int i : got) masked.put(i, uploads[i].masked());
            Map<Integer, byte[][]> reveals = new HashMap<>();
            for (int i : got) {
                if (revealed[i] == null) continue;
                reveals.put(i, revealed[i]);
                for (byte[] s : revealed[i]) if (s != null) up += s.length;
            }
            if (reveals.size() >= threshold) {
                SecureLayout layout = new SecureLayout(spec, config);
                float[] sum = SecureAggregation.decode(SecureClient.unmask(masked, advertised, inRound, reveals, threshold, layout.length()));
                delta = layout.dense(sum); // Σ n_i·Δ_i / Σ n_i, or under DP the clipped sum
                for (int t = 0; t < numTables; t++) rows[t] = layout.table(sum, t);
            } else {
                apply = false; // survivors vanished before revealing their shares: nothing can be unmasked
            }
            secureNanos += System.nanoTime() - u0;
        } else if (apply) {
            delta = new float[len];
            float[][] updates = new float[got.size()][];
            long[] weights = new long[got.size()];
            for (int k = 0; k < updates.length; k++) {
                ClientUpload u = uploads[got.get(k)];
                updates[k] = Uploads.decode(config.uploadCodec(), u.encoded(), len);
                weights[k] = u.examples();
            }
            if (dp != null) for (float[] u : updates) for (int j = 0; j < len; j++) delta[j] += u[j];
            else config.aggregation().combine(updates, weights, delta);
            for (int t = 0; t < numTables; t++) {
                int dim = tables.dim(t);
                RowDelta[] changed = new RowDelta[got.size()];
                for (int k = 0; k < changed.length; k++) {
                    ClientUpload.Rows r = uploads[got.get(k)].rows()[t];
                    changed[k] = new RowDelta(r.ids(), Uploads.decode(config.uploadCodec(), r.encoded(), r.ids().length * dim));
                }
                rows[t] = dp != null ? sumRows(changed, tableSnapshot[t].length, dim) : config.aggregation().combineRows(changed, weights, dim);
            }
        }
        if (apply) {
            double expected = config.fraction() * config.clients();
            if (dp != null) dp.noisyMean(delta, expected);
            server.apply(w, delta);
            for (int t = 0; t < numTables; t++) {
                if (dp != null) dp.noisyMean(rows[t].values(), expected); // every row: noise only on touched ones would tell which
                tableServers[t].applyRows(tables.table(t), tables.dim(t), rows[t]);
            }
        }
        Metrics m = null;
        if (eval != null && (lastRound || (config.evalEvery() > 0 && (round + 1) % config.evalEvery() == 0))) m = evaluate(global, tables);
        return new RoundRecord(round, n, got.size(), apply, up, 4L * (len + tableFloats) * n, (System.nanoTime() - t0) / 1e9, secureNanos / 1e9,
                lossWeight == 0 ? Double.NaN : lossSum / lossWeight, m);
    }

    /** The clients of a round, in ascending order: ⌈F·K⌉ without replacement, or under DP each with probability F. */
    private int[] sample(SplittableRandom rng) {
        int k = config.clients();
        if (config.privacy()) {
            int[] picked = new int[k];
            int m = 0;
            for (int c = 0; c < k; c++) if (rng.nextDouble() < config.fraction()) picked[m++] = c;
            return Arrays.copyOf(picked, m);
        }
        int[] order = ClientSplit.permutation(k, rng);
        int[] picked = Arrays.copyOf(order, config.perRound());
        Arrays.sort(picked);
        return picked;
    }

    /** Under DP: the clients' clipped rows summed into every row of a table of size values (the sum is released whole). */
    private static RowDelta sumRows(RowDelta[] changed, int size, int dim) {
        float[] sum = new float[size];
        for (RowDelta r : changed) {
            for (int j = 0; j < r.size(); j++) {
                for (int k = 0, at = r.ids()[j] * dim; k < dim; k++) sum[at + k] += r.values()[j * dim + k];
            }
        }
        return RowDelta.full(sum, dim);
    }

    /** The embedding store of a model without tables (every model of a federated run): what evaluation and model files take. */
    public static LocalEmbeddingStore noTables() {
        return new LocalEmbeddingStore(new long[0][], new float[0], 0, new EmbeddingOptimizerSpec("sgd", 1));
    }

    private Metrics evaluate(Model global, LocalEmbeddingStore tables) throws IOException {
        return Evaluator.evaluate(global, tables, eval, 1024).metrics();
    }
}
