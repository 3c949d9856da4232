package io.shadowsync.fed;

import io.shadowsync.metrics.Metrics;

/**
 * What one round did.
 *
 * @param round         0-based
 * @param sampled       clients the server sampled
 * @param reported      clients that sent their update (the others dropped out mid-round)
 * @param applied       whether the global model moved: false when fewer than the minimum reported (skipped)
 * @param uploadBytes   bytes the clients sent (updates, and with secure aggregation keys and shares)
 * @param downloadBytes bytes the server sent (the global model to each sampled client)
 * @param seconds       wall time of the round, client training included
 * @param secureSeconds of which secure aggregation's work: the setup (keys, shares), masking, unmasking (0 without)
 * @param trainLoss     mean local training loss of the reporting clients (NaN when none)
 * @param eval          the global model's metrics after the round, or null when not evaluated
 */
public record RoundRecord(int round, int sampled, int reported, boolean applied, long uploadBytes, long downloadBytes,
                          double seconds, double secureSeconds, double trainLoss, Metrics eval) {}
