package io.shadowsync.net.ps;

import java.util.Arrays;

/**
 * An int → int open-addressing map that forgets everything in O(1) ({@link #reset}): the client's per-thread
 * de-duplication of the ids of one pull. Entries are valid only when their stamp equals the current generation,
 * so clearing is a counter increment, not a pass over the table.
 *
 * <p>Sharing contract: one instance per thread; not thread-safe.
 */
final class RowSlots {
    private int[] keys = new int[64];
    private int[] vals = new int[64];
    private int[] stamps = new int[64];
    private int gen = 1;
    private int mask = 63;
    /** 32 − log2(capacity): Fibonacci hashing keeps the product's top bits, the well-mixed ones. */
    private int shift = 26;

    /** Empties the map and sizes it for up to {@code expected} keys (load at most 1/2). */
    void reset(int expected) {
        int cap = Integer.highestOneBit(Math.max(32, expected) * 2 - 1) << 1;
        if (cap > keys.length) {
            keys = new int[cap];
            vals = new int[cap];
            stamps = new int[cap];
            gen = 1;
        } else if (++gen == Integer.MAX_VALUE) {
            Arrays.fill(stamps, 0);
            gen = 1;
        }
        mask = cap - 1;
        shift = Integer.numberOfLeadingZeros(cap) + 1;
    }

    /** The value stored for key; when there is none, stores v and returns -1. */
    int putIfAbsent(int key, int v) {
        int i = (key * 0x9E3779B9) >>> shift;
        while (stamps[i] == gen) {
            if (keys[i] == key) return vals[i];
            i = (i + 1) & mask;
        }
        stamps[i] = gen;
        keys[i] = key;
        vals[i] = v;
        return -1;
    }
}
