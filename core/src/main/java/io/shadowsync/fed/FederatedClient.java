package io.shadowsync.fed;

import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.nn.ModelSpec;
import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The clients' side of a federated run, for the clients whose shards this process holds: local training of a round,
 * what a client does to its change before it leaves (a malicious client's tampering, DP clipping, the upload codec or
 * secure aggregation's masking) and its secure-aggregation steps ({@link SecureClient}). {@link Federation}'s
 * in-process clients and the {@code net} module's client processes both run it, so a client computes the same
 * update wherever it runs.
 *
 * <p>Threading: calls for different clients may run at once; calls for one client come one at a time (a client is
 * sampled at most once a round, and a round's steps follow one another).
 */
public final class FederatedClient {
    private final ModelSpec spec;
    private final InMemorySource[] shards;
    private final FederatedConfig config;
    private final boolean[] poisoned;
    private final Uploads uploads;
    private final GaussianPrivacy clipper; // clips only: the noise is the server's
    private final SecureLayout layout;
    private final SecureRandom secure = new SecureRandom();
    /** Each client's secure-aggregation state of its current round. */
    private final ConcurrentHashMap<Integer, SecureClient> secureState = new ConcurrentHashMap<>();

    /**
     * @param shards [k] = client k's data, for every client of the run (K = config.clients()); null for the clients
     *               whose data this process does not hold
     */
    public FederatedClient(ModelSpec spec, InMemorySource[] shards, FederatedConfig config) {
        if (shards.length != config.clients()) {
            throw new IllegalArgumentException(shards.length + " client shards for --clients " + config.clients());
        }
        this.spec = spec;
        this.shards = shards.clone();
        this.config = config;
        this.poisoned = poisoned(config);
        this.uploads = new Uploads(config.uploadCodec(), shards.length, config.seed());
        this.clipper = config.privacy() ? new GaussianPrivacy(config.dpClip(), config.dpNoise(), 0) : null;
        this.layout = new SecureLayout(spec, config);
    }

    /** The malicious clients of a robustness test: a seeded choice of poisonFraction·K of them. */
    static boolean[] poisoned(FederatedConfig config) {
        boolean[] out = new boolean[config.clients()];
        int bad = (int) Math.round(config.poisonFraction() * config.clients());
        int[] order = ClientSplit.permutation(config.clients(), new SplittableRandom(config.seed() ^ 0x5EEDBADL));
        for (int k = 0; k < bad; k++) out[order[k]] = true;
        return out;
    }

    /** Whether this process holds client k's data. */
    public boolean holds(int k) {
        return k >= 0 && k < shards.length && shards[k] != null;
    }

    /** Secure aggregation's step 1 for client k at the given slot of a round of n clients: fresh keys, advertised. */
    public byte[] advertise(int k, int slot, int n, int threshold) {
        SecureClient c = new SecureClient(slot, n, threshold, secure);
        shard(k); // refuses a client held elsewhere
        secureState.put(k, c);
        return c.publicKeys();
    }

    /** Step 2: client k's sealed shares for the others. */
    public byte[][] deal(int k, byte[][] advertised) {
        return state(k).deal(advertised);
    }

    /** Step 4: client k's shares for the unmasking. */
    public byte[][] reveal(int k, boolean[] survived) {
        return state(k).reveal(survived);
    }

    /**
     * Client k's round: local training from the global model, then its upload; a simulated dropout (drop) trains half
     * of its steps and returns null, its change never leaving it.
     *
     * @param tables     the global embedding tables ([t] row-major; none for a dense model), read only
     * @param advertised with secure aggregation, the round's advertised keys, else null
     * @param dealtToMe  with secure aggregation, [i] = client i's sealed shares for this client, else null
     */
    public ClientUpload train(int k, int round, boolean drop, float[] global, float[][] tables, byte[][] advertised, byte[][] dealtToMe)
            throws InterruptedException {
        InMemorySource shard = shard(k);
        LocalTraining.Update u = LocalTraining.train(k, spec, global, tables, shard, config.optimizer(), config.aggregation().mu(),
                trainerConfig(k, round, drop, shard.size()));
        if (drop) return null;
        float[] delta = u.delta();
        RowDelta[] rows = u.rows();
        int len = delta.length;
        if (poisoned[k]) {
            float f = (float) config.poisonFactor();
            for (int j = 0; j < len; j++) delta[j] *= f;
            for (RowDelta r : rows) for (int j = 0; j < r.values().length; j++) r.values()[j] *= f;
        }
        if (clipper != null) clipper.clipInPlace(delta, rows);
        long n = shard.size();
        if (advertised == null) {
            ClientUpload.Rows[] sent = new ClientUpload.Rows[rows.length];
            long bytes = uploads.bytes(len);
            for (int t = 0; t < rows.length; t++) {
                sent[t] = new ClientUpload.Rows(rows[t].ids(), uploads.encodeRows(k, rows[t].values()));
                bytes += 4L * rows[t].size() + sent[t].encoded().length;
            }
            return new ClientUpload(uploads.encode(k, delta), sent, null, n, u.examples(), u.trainLoss(), bytes, 0);
        }
        // DP sums clipped updates unweighted; FedAvg sends n_i·Δ_i and n_i, so that the server learns only Σ n_i
        float scale = config.privacy() ? 1f : n;
        float[] x = layout.pack(delta, rows, scale);
        long m0 = System.nanoTime();
        long[] y = state(k).masked(x, advertised, dealtToMe);
        return new ClientUpload(null, null, y, n, u.examples(), u.trainLoss(), 8L * x.length, System.nanoTime() - m0);
    }

    private SecureClient state(int k) {
        SecureClient c = secureState.get(k);
        if (c == null) throw new IllegalStateException("client " + k + " has no secure-aggregation keys this round: step 1 was skipped");
        return c;
    }

    private InMemorySource shard(int k) {
        if (!holds(k)) throw new IllegalArgumentException("client " + k + "'s data is not held here");
        return shards[k];
    }

    private TrainerConfig trainerConfig(int client, int round, boolean drop, long size) {
        long examples = 0;
        if (drop) examples = Math.max(1, (long) config.localEpochs() * size / 2);
        return new TrainerConfig(config.workers(), config.batchSize(), examples, config.localEpochs(), DataSplit.ROUND_ROBIN,
                config.seed() + 1_000_003L * round + client, 4, 100_000, config.shuffle());
    }
}
