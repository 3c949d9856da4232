package io.shadowsync.engine.feed;

import java.util.Locale;

/**
 * How a trainer's reader thread deals examples out to its workers.
 * <ul>
 *   <li>{@link #RANDOM}: each example goes to a worker drawn uniformly by a seeded generator;</li>
 *   <li>{@link #STRATIFIED}: per label value, examples go round-robin over the workers, so every worker sees
 *       the same label mix (binary and multiclass labels; regression labels fall back to round-robin);</li>
 *   <li>{@link #ROUND_ROBIN}: example i goes to worker i mod W (deterministic, no generator).</li>
 * </ul>
 */
public enum DataSplit {
    RANDOM, STRATIFIED, ROUND_ROBIN;

    public static DataSplit parse(String s) {
        for (DataSplit d : values()) {
            if (d.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(s)) return d;
        }
        throw new IllegalArgumentException("unknown data split '" + s + "' (valid: random, stratified, round-robin)");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
