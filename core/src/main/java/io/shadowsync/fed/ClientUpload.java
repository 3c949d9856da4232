package io.shadowsync.fed;

/**
 * What a client sent at the end of a round: its change through the upload codec (plain rounds) or masked (secure
 * aggregation), with what the server weights and reports it by.
 *
 * @param encoded     the change as the upload codec put it on the wire, or null
 * @param masked      the masked fixed-point upload of secure aggregation (n_i·Δ_i and n_i), or null
 * @param examples    its shard's size, FedAvg's weight
 * @param trained     examples it trained on this round, and trainLoss their mean loss
 * @param bytes       what it uploaded (the update; secure aggregation's keys and shares are counted by the server)
 * @param secureNanos its time masking
 */
public record ClientUpload(byte[] encoded, long[] masked, long examples, long trained, double trainLoss, long bytes, long secureNanos) {}
