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
 * {@link TrainingException}. Only models whose parameters are all dense take part (their replica is one array).
 */
public final class Federation {
    private final ModelSpec spec;
    private final InMemorySource[] shards;
    private final DataSource eval;
    private final FederatedConfig config;
    private final Consumer<RoundRecord> progress;
    private final boolean[] poisoned;
    private final Uploads uploads;

    /**
     * @param shards   one data set per client (K = shards.length must equal config.clients())
     * @param eval     held-out data the global model is evaluated on, or null
     * @param progress told of every round as it closes (the CLI prints it); may be null
     */
    public Federation(ModelSpec spec, InMemorySource[] shards, DataSource eval, FederatedConfig config, Consumer<RoundRecord> progress) {
        if (spec.embeddingShapes().length > 0) {
            throw new IllegalArgumentException("federated training averages dense parameters, and the " + spec.kind()
                    + " model keeps embedding tables: use an MLP (--model mlp)");
        }
        if (shards.length != config.clients()) {
            throw new IllegalArgumentException(shards.length + " client shards for --clients " + config.clients());
        }
        this.spec = spec;
        this.shards = shards.clone();
        this.eval = eval;
        this.config = config;
        this.progress = progress;
        this.poisoned = new boolean[shards.length];
        this.uploads = new Uploads(config.uploadCodec(), shards.length, config.seed());
        int bad = (int) Math.round(config.poisonFraction() * shards.length);
        int[] order = ClientSplit.permutation(shards.length, new SplittableRandom(config.seed() ^ 0x5EEDBADL));
        for (int k = 0; k < bad; k++) poisoned[order[k]] = true;
    }

    /** Whether client k is one of the malicious clients of a robustness test. */
    public boolean poisoned(int k) {
        return poisoned[k];
    }

    /** Runs every round and evaluates the final global model. */
    public FederatedResult run() throws IOException, InterruptedException {
        Model global = spec.build();
        global.initDense(config.seed());
        float[] w = global.dense().data();
        ServerOptimizer server = new ServerOptimizer(config.serverOpt(), config.serverLr());
        GaussianPrivacy dp = config.privacy() ? new GaussianPrivacy(config.dpClip(), config.dpNoise(), config.seed() * 31 + 17) : null;
        SplittableRandom sampling = new SplittableRandom(config.seed() + 101);
        SecureRandom secure = new SecureRandom();
        LocalEmbeddingStore none = noTables();
        List<RoundRecord> records = new ArrayList<>();
        int threads = config.parallel() > 0 ? config.parallel() : Runtime.getRuntime().availableProcessors();
        AtomicInteger named = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "fed-client-" + named.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        long t0 = System.nanoTime();
        int applied = 0;
        Metrics last = null;
        try {
            for (int round = 0; round < config.rounds(); round++) {
                RoundRecord rec = round(round, w, server, dp, sampling, secure, pool, none, global);
                if (rec.applied()) applied++;
                if (rec.eval() != null) last = rec.eval();
                records.add(rec);
                if (progress != null) progress.accept(rec);
                if (config.stopAtAccuracy() > 0 && rec.eval() != null && rec.eval().accuracy() >= config.stopAtAccuracy()) break;
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        RoundRecord lastRound = records.get(records.size() - 1);
        Metrics finalEval = eval == null ? null : lastRound.eval() != null ? lastRound.eval() : evaluate(global, none);
        double eps = dp == null ? Double.NaN
                : new RdpAccountant(config.fraction(), config.dpNoise(), RdpAccountant.Conversion.CLASSIC).epsilon(applied, config.dpDelta());
        return new FederatedResult(global, records, finalEval == null ? last : finalEval, eps, seconds);
    }

    private RoundRecord round(int round, float[] w, ServerOptimizer server, GaussianPrivacy dp, SplittableRandom sampling,
                              SecureRandom secure, ExecutorService pool, LocalEmbeddingStore none, Model global)
            throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        int[] sampled = sample(sampling);
        int n = sampled.length, len = w.length;
        boolean[] drops = new boolean[n];
        for (int i = 0; i < n; i++) drops[i] = config.dropout() > 0 && sampling.nextDouble() < config.dropout();
        if (config.secureAgg() && n < 2) {
            // a lone client's masked upload would be its update in the clear: the round is skipped before anyone trains
            return new RoundRecord(round, n, 0, false, 0, 0, (System.nanoTime() - t0) / 1e9, 0, Double.NaN,
                    round == config.rounds() - 1 && eval != null ? evaluate(global, none) : null);
        }
        long secureNanos = System.nanoTime();
        SecureAggregation sa = config.secureAgg() && n >= 2 ? new SecureAggregation(n,
                config.secureThreshold() > 0 ? Math.min(config.secureThreshold(), n) : SecureAggregation.defaultThreshold(n), secure) : null;
        secureNanos = sa == null ? 0 : System.nanoTime() - secureNanos;
        float[] snapshot = w.clone(); // what every client of the round starts from
        List<Future<Upload>> futures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int slot = i;
            futures.add(pool.submit(() -> client(slot, sampled[slot], round, drops[slot], snapshot, sa, dp)));
        }
        List<Upload> got = new ArrayList<>(n);
        long up = 0;
        double lossSum = 0;
        long lossWeight = 0;
        for (Future<Upload> f : futures) {
            Upload u;
            try {
                u = f.get();
            } catch (ExecutionException e) {
                for (Future<?> other : futures) other.cancel(true);
                Throwable c = e.getCause();
                throw c instanceof TrainingException te ? te : new TrainingException(c);
            }
            up += u.bytes();
            secureNanos += u.secureNanos();
            if (u.dropped()) continue;
            got.add(u);
            if (Double.isFinite(u.trainLoss())) {
                lossSum += u.trainLoss() * u.trained();
                lossWeight += u.trained();
            }
        }
        int needed = sa != null ? Math.max(config.minClients(), sa.threshold()) : config.minClients();
        // under DP every round releases its noisy sum, even of no update: whether a round closed must not depend on
        // who took part (secure aggregation below its threshold is the exception: nothing can be unmasked)
        boolean apply = dp != null ? sa == null || got.size() >= sa.threshold() : got.size() >= needed && !got.isEmpty();
        if (apply) {
            float[] delta;
            if (sa != null) {
                long u0 = System.nanoTime();
                Map<Integer, long[]> masked = new HashMap<>();
                for (Upload u : got) masked.put(u.slot(), u.masked());
                float[] sum = SecureAggregation.decode(sa.unmask(masked, len + 1));
                secureNanos += System.nanoTime() - u0;
                delta = Arrays.copyOf(sum, len);
                if (dp == null) for (int j = 0; j < len; j++) delta[j] /= sum[len]; // Σ n_i·Δ_i / Σ n_i
            } else {
                delta = new float[len];
                float[][] updates = new float[got.size()][];
                long[] weights = new long[got.size()];
                for (int k = 0; k < updates.length; k++) {
                    updates[k] = got.get(k).plain();
                    weights[k] = got.get(k).examples();
                }
                if (dp != null) for (float[] u : updates) for (int j = 0; j < len; j++) delta[j] += u[j];
                else config.aggregation().combine(updates, weights, delta);
            }
            if (dp != null) dp.noisyMean(delta, config.fraction() * config.clients());
            server.apply(w, delta);
        }
        Metrics m = null;
        boolean lastRound = round == config.rounds() - 1;
        if (eval != null && (lastRound || (config.evalEvery() > 0 && (round + 1) % config.evalEvery() == 0))) m = evaluate(global, none);
        return new RoundRecord(round, n, got.size(), apply, up, 4L * len * n, (System.nanoTime() - t0) / 1e9, secureNanos / 1e9,
                lossWeight == 0 ? Double.NaN : lossSum / lossWeight, m);
    }

    /**
     * What a client sends at the end of a round: nothing when it dropped out, else its update through the upload
     * codec (plain) or masked (secure aggregation).
     *
     * @param slot        its index among the round's clients
     * @param examples    its shard's size, FedAvg's weight
     * @param trained     examples it trained on this round, and trainLoss their mean loss
     * @param bytes       what it uploaded, the secure-aggregation setup included
     * @param secureNanos its time masking
     */
    private record Upload(int slot, float[] plain, long[] masked, long examples, long trained, double trainLoss, long bytes, long secureNanos) {
        boolean dropped() {
            return plain == null && masked == null;
        }
    }

    /**
     * One sampled client's part of a round, on its own thread: local training, then what a client does to its change
     * before it leaves: a malicious client's tampering, DP clipping, then the upload encode step or masking.
     */
    private Upload client(int slot, int k, int round, boolean drop, float[] global, SecureAggregation sa, GaussianPrivacy dp)
            throws InterruptedException {
        LocalTraining.Update u = LocalTraining.train(k, spec, global, shards[k], config.optimizer(), config.aggregation().mu(),
                trainerConfig(k, round, drop));
        long setup = sa == null ? 0 : sa.uploadBytes(0); // its key and shares went out at the setup, before any dropout
        if (drop) return new Upload(slot, null, null, 0, 0, Double.NaN, setup, 0); // its half-trained change never leaves it
        float[] delta = u.delta();
        int len = delta.length;
        if (poisoned[k]) for (int j = 0; j < len; j++) delta[j] *= (float) config.poisonFactor();
        if (dp != null) dp.clipInPlace(delta);
        long n = shards[k].size();
        if (sa == null) {
            return new Upload(slot, uploads.received(k, delta), null, n, u.examples(), u.trainLoss(), uploads.bytes(len), 0);
        }
        // DP sums clipped updates unweighted; FedAvg sends n_i·Δ_i and n_i, so that the server learns only Σ n_i
        float scale = dp != null ? 1f : n;
        float[] x = new float[len + 1];
        for (int j = 0; j < len; j++) x[j] = delta[j] * scale;
        x[len] = scale;
        long m0 = System.nanoTime();
        long[] y = sa.masked(slot, x);
        return new Upload(slot, null, y, n, u.examples(), u.trainLoss(), setup + 8L * (len + 1), System.nanoTime() - m0);
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

    private TrainerConfig trainerConfig(int client, int round, boolean drop) {
        long examples = 0;
        if (drop) examples = Math.max(1, (long) config.localEpochs() * shards[client].size() / 2);
        return new TrainerConfig(config.workers(), config.batchSize(), examples, config.localEpochs(), DataSplit.ROUND_ROBIN,
                config.seed() + 1_000_003L * round + client, 4, 100_000, config.shuffle());
    }

    /** The embedding store of a model without tables (every model of a federated run): what evaluation and model files take. */
    public static LocalEmbeddingStore noTables() {
        return new LocalEmbeddingStore(new long[0][], new float[0], 0, new EmbeddingOptimizerSpec("sgd", 1));
    }

    private Metrics evaluate(Model global, LocalEmbeddingStore none) throws IOException {
        return Evaluator.evaluate(global, none, eval, 1024).metrics();
    }
}
