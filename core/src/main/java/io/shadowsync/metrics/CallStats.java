package io.shadowsync.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * Calls to a server and their latencies: a count and a fixed-bucket histogram (HdrHistogram-like: exact below 16 ns,
 * then 8 buckets per power of two, so that a percentile read off it is within 1/16 of the true latency; from 2^40 ns,
 * about 18 minutes, on one bucket). Many writers (Hogwild workers, a sync thread) record at once without locks or
 * allocation; a reader takes a {@link #snapshot()} whenever it likes and subtracts an earlier one for an interval's
 * percentiles. A snapshot taken while calls are recorded may miss the calls in flight, never counts one twice.
 */
public final class CallStats {
    private static final int EXACT = 16, SUB_BITS = 3, SUB = 1 << SUB_BITS, MAX_EXP = 40;
    /** The number of buckets. */
    static final int BUCKETS = EXACT + (MAX_EXP - 4 + 1) * SUB;

    private final LongAdder[] buckets = new LongAdder[BUCKETS];

    public CallStats() {
        for (int i = 0; i < BUCKETS; i++) buckets[i] = new LongAdder();
    }

    /** Counts one call that took nanos (negative: 0). */
    public void record(long nanos) {
        buckets[bucket(nanos)].increment();
    }

    /** The bucket of a latency: its own below 16 ns, then by its power of two and the 3 bits below the leading one. */
    static int bucket(long nanos) {
        if (nanos < EXACT) return (int) Math.max(0, nanos);
        int e = 63 - Long.numberOfLeadingZeros(nanos); // >= 4
        if (e > MAX_EXP) return BUCKETS - 1;
        int sub = (int) (nanos >>> (e - SUB_BITS)) & (SUB - 1);
        return EXACT + (e - 4) * SUB + sub;
    }

    /** The middle of bucket b's latencies, in nanoseconds (its value itself below 16 ns). */
    static double middle(int b) {
        if (b < EXACT) return b;
        int e = 4 + (b - EXACT) / SUB, sub = (b - EXACT) % SUB;
        double width = Math.scalb(1.0, e - SUB_BITS);
        return (SUB + sub) * width + width / 2;
    }

    /** The counts so far. */
    public Snapshot snapshot() {
        long[] c = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) c[i] = buckets[i].sum();
        return new Snapshot(c);
    }

    /** Counts per bucket at one time; immutable. */
    public static final class Snapshot {
        /** No calls. */
        public static final Snapshot EMPTY = new Snapshot(new long[BUCKETS]);
        private final long[] counts;
        private final long calls;

        private Snapshot(long[] counts) {
            this.counts = counts;
            long n = 0;
            for (long c : counts) n += c;
            this.calls = n;
        }

        /** The number of calls counted. */
        public long calls() {
            return calls;
        }

        /** The calls counted here and not in an earlier snapshot of the same stats: an interval's. */
        public Snapshot minus(Snapshot earlier) {
            long[] d = new long[BUCKETS];
            for (int i = 0; i < BUCKETS; i++) d[i] = Math.max(0, counts[i] - earlier.counts[i]);
            return new Snapshot(d);
        }

        /** The q-quantile (0 < q <= 1) of the latencies in milliseconds, within 1/16; NaN without calls. */
        public double quantileMillis(double q) {
            if (!(q > 0 && q <= 1)) throw new IllegalArgumentException("a quantile is in (0, 1], got " + q);
            if (calls == 0) return Double.NaN;
            long rank = (long) Math.ceil(q * calls), seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += counts[i];
                if (seen >= rank) return middle(i) / 1e6;
            }
            return middle(BUCKETS - 1) / 1e6;
        }
    }
}
