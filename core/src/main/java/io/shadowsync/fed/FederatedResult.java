package io.shadowsync.fed;

import io.shadowsync.metrics.Metrics;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import java.util.List;

/**
 * What a federated run gives back.
 *
 * @param model     the global model after the last round
 * @param tables    its embedding tables (none for a dense model)
 * @param rounds    every round, in order
 * @param eval      the global model's metrics on the evaluation data after the last round, or null without one
 * @param dpEpsilon ε at the configured δ for the rounds applied (NaN without DP)
 * @param seconds   wall time of all rounds
 */
public record FederatedResult(Model model, LocalEmbeddingStore tables, List<RoundRecord> rounds, Metrics eval, double dpEpsilon, double seconds) {
    public FederatedResult {
        rounds = List.copyOf(rounds);
    }

    /** Rounds that moved the global model. */
    public int appliedRounds() {
        int n = 0;
        for (RoundRecord r : rounds) if (r.applied()) n++;
        return n;
    }

    /** The first round (1-based count) after which the evaluated accuracy reached target, or −1. */
    public int roundsToAccuracy(double target) {
        for (RoundRecord r : rounds) if (r.eval() != null && r.eval().accuracy() >= target) return r.round() + 1;
        return -1;
    }
}
