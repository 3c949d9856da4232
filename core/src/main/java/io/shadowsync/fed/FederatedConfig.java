package io.shadowsync.fed;

import io.shadowsync.comm.Codec;
import io.shadowsync.optim.OptimizerSpec;

/**
 * The settings of a federated run. Java users build one through {@code io.shadowsync.api.FederatedJob.builder()},
 * which names each and fills in the defaults; this record checks what it can on its own.
 *
 * @param clients        K, the simulated clients
 * @param fraction       F, the share of clients sampled per round: ⌈F·K⌉ drawn without replacement, or with DP each
 *                       client independently with probability F (Poisson sampling, what the accountant analyses)
 * @param rounds         R, the rounds run (skipped rounds count)
 * @param localEpochs    E, a client's passes over its shard per round
 * @param batchSize      examples per local mini-batch
 * @param workers        Hogwild worker threads of each client's trainer
 * @param optimizer      the clients' local optimizer (fresh every round)
 * @param shuffle        clients visit their shard in a new seeded order every epoch
 * @param aggregation    how the server combines updates
 * @param serverOpt      the server optimizer's kind, and serverLr its learning rate
 * @param secureAgg      mask the uploads (fedavg and fedprox only), with secureThreshold shares to recover a dropped
 *                       client (0: a majority of the round; a round of fewer clients than the threshold needs them all)
 * @param dpClip         the L2 norm updates are clipped to (0: no DP)
 * @param dpNoise        the noise multiplier z (with dpClip)
 * @param dpDelta        the δ at which ε is reported (with dpClip)
 * @param dropout        the probability that a sampled client fails mid-round (after half its local steps)
 * @param minClients     the fewest reports a round closes with; with fewer it is skipped (the global model unchanged)
 * @param poisonFraction testing robustness: this share of the clients (seeded choice) is malicious and multiplies its
 *                       update by poisonFactor before sending it (−1: sign flip; −10: scaled); 0 for none
 * @param evalEvery      evaluate the global model every this many rounds (0: only after the last)
 * @param stopAtAccuracy end the run after the first evaluated round whose accuracy reaches this (0: run every round)
 * @param parallel       client threads training at once (0: one per core, at most the clients of a round)
 * @param uploadCodec    how a plain upload is put on the wire (see {@link Uploads}: one encoder per client, for the whole job)
 * @param seed           seeds the initialization, the split, the sampling, the dropouts and the DP noise
 */
public record FederatedConfig(int clients, double fraction, int rounds, int localEpochs, int batchSize, int workers,
                              OptimizerSpec optimizer, boolean shuffle, Aggregation aggregation, ServerOptimizer.Kind serverOpt,
                              double serverLr, boolean secureAgg, int secureThreshold, double dpClip, double dpNoise, double dpDelta,
                              double dropout, int minClients, double poisonFraction, double poisonFactor, int evalEvery, double stopAtAccuracy, int parallel,
                              Codec uploadCodec, long seed) {
    public FederatedConfig {
        if (clients < 1) throw new IllegalArgumentException("--clients must be at least 1, got " + clients);
        if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("--fraction must be in (0, 1], got " + fraction);
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be at least 1, got " + rounds);
        if (localEpochs < 1) throw new IllegalArgumentException("--local-epochs must be at least 1, got " + localEpochs);
        if (batchSize < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batchSize);
        if (workers < 1) throw new IllegalArgumentException("--workers must be at least 1, got " + workers);
        if (optimizer == null || aggregation == null || serverOpt == null || uploadCodec == null) {
            throw new IllegalArgumentException("the optimizer, aggregation, server optimizer and upload codec are required");
        }
        if (!(serverLr > 0 && Double.isFinite(serverLr))) throw new IllegalArgumentException("--server-lr must be a positive number, got " + serverLr);
        if (secureAgg && aggregation.needsEachUpdate()) {
            throw new IllegalArgumentException("--aggregate " + aggregation.label() + " reads each client's update, which --secure-agg hides:"
                    + " use fedavg or fedprox:MU with secure aggregation");
        }
        if (secureThreshold < 0 || secureThreshold > clients) {
            throw new IllegalArgumentException("--secure-threshold must be 1 to --clients " + clients + " (or 0 for a majority of each round), got " + secureThreshold);
        }
        if (!(dpClip >= 0 && Double.isFinite(dpClip))) throw new IllegalArgumentException("--dp-clip must be a positive number, got " + dpClip);
        if (dpClip > 0) {
            if (!(dpNoise > 0 && Double.isFinite(dpNoise))) throw new IllegalArgumentException("--dp-noise must be a positive number with --dp-clip, got " + dpNoise);
            if (!(dpDelta > 0 && dpDelta < 1)) throw new IllegalArgumentException("--dp-delta must be in (0, 1) with --dp-clip, got " + dpDelta);
            if (aggregation.needsEachUpdate()) {
                throw new IllegalArgumentException("--aggregate " + aggregation.label() + " is not covered by the DP accountant, whose"
                        + " sensitivity is that of a sum: use fedavg or fedprox:MU with --dp-clip");
            }
        } else if (dpNoise != 0) {
            throw new IllegalArgumentException("--dp-noise needs --dp-clip (the noise is a multiple of the clipping norm)");
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("--dropout must be in [0, 1), got " + dropout);
        if (secureAgg && dpClip == 0 && Math.max(1, (int) Math.ceil(fraction * clients - 1e-9)) < 2) {
            throw new IllegalArgumentException("--secure-agg needs at least 2 clients a round (--fraction × --clients), and "
                    + fraction + " × " + clients + " samples 1");
        }
        if (dpClip > 0 && minClients > 1) {
            throw new IllegalArgumentException("--min-clients " + minClients + " with --dp-clip: under DP every round closes (its noise"
                    + " is released whoever reported), so leave --min-clients at 1");
        }
        if (minClients < 1) throw new IllegalArgumentException("--min-clients must be at least 1, got " + minClients);
        if (!(poisonFraction >= 0 && poisonFraction < 1)) throw new IllegalArgumentException("the poisoned fraction must be in [0, 1), got " + poisonFraction);
        if (!Double.isFinite(poisonFactor)) throw new IllegalArgumentException("the poison factor must be finite, got " + poisonFactor);
        if (evalEvery < 0) throw new IllegalArgumentException("--eval-every must be at least 0, got " + evalEvery);
        if (!(stopAtAccuracy >= 0 && stopAtAccuracy <= 1)) throw new IllegalArgumentException("--target-accuracy must be in [0, 1], got " + stopAtAccuracy);
        if (stopAtAccuracy > 0 && evalEvery == 0) throw new IllegalArgumentException("stopping at a target accuracy needs --eval-every N to measure it");
        if (parallel < 0) throw new IllegalArgumentException("--parallel must be at least 0, got " + parallel);
    }

    /** Whether updates are clipped and noised (DP-FedAvg). */
    public boolean privacy() {
        return dpClip > 0;
    }

    /** Clients sampled per round without DP: ⌈F·K⌉. */
    public int perRound() {
        return Math.max(1, (int) Math.ceil(fraction * clients - 1e-9));
    }
}
