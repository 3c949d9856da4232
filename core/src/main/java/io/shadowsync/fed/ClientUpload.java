package io.shadowsync.fed;

/**
 * What a client sent at the end of a round: its change through the upload codec (plain rounds) or masked (secure
 * aggregation), with what the server weights and reports it by.
 *
 * @param encoded     the change of the dense parameters as the upload codec put it on the wire, or null
 * @param rows        plain rounds: [t] = its change of embedding table t, the rows it touched (empty for a dense
 *                    model); null with secure aggregation, whose masked upload holds the tables in full
 * @param masked      the masked fixed-point upload of secure aggregation (n_i·Δ_i and n_i), or null
 * @param examples    its shard's size, FedAvg's weight
 * @param trained     examples it trained on this round, and trainLoss their mean loss
 * @param bytes       what it uploaded (the update; secure aggregation's keys and shares are counted by the server)
 * @param secureNanos its time masking
 */
public record ClientUpload(byte[] encoded, Rows[] rows, long[] masked, long examples, long trained, double trainLoss, long bytes, long secureNanos) {
    /**
     * A client's change of one table as it travels: the touched rows, ascending, and their values through the upload
     * codec (ids.length × dim of them; see {@link Uploads#encodeRows}).
     */
    public record Rows(int[] ids, byte[] encoded) {}
}
