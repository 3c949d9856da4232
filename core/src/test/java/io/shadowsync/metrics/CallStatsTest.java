package io.shadowsync.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CallStatsTest {
    /** Catches buckets that are too coarse, off by one, or read from the wrong end: quantiles within 1/16 of the exact ones. */
    @Test
    void quantilesAreWithinOneSixteenthOfTheExactOnes() {
        Random rnd = new Random(3);
        CallStats s = new CallStats();
        long[] v = new long[20_000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (long) Math.exp(rnd.nextDouble() * Math.log(5e9)); // 1 ns .. 5 s, log-uniform
            s.record(v[i]);
        }
        Arrays.sort(v);
        CallStats.Snapshot snap = s.snapshot();
        assertEquals(v.length, snap.calls());
        for (double q : new double[] {0.01, 0.25, 0.5, 0.9, 0.99, 1.0}) {
            double exact = v[(int) Math.ceil(q * v.length) - 1] / 1e6;
            double got = snap.quantileMillis(q);
            assertTrue(Math.abs(got - exact) <= exact / 16 + 1e-6, "q" + q + ": " + got + " ms vs exact " + exact + " ms");
        }
    }

    /** Catches an interval that counts the calls before it, or a bucket for each latency that is not monotone. */
    @Test
    void anIntervalHasOnlyItsOwnCalls() {
        CallStats s = new CallStats();
        for (int i = 0; i < 1000; i++) s.record(1_000_000); // 1 ms
        CallStats.Snapshot before = s.snapshot();
        for (int i = 0; i < 10; i++) s.record(50_000_000); // 50 ms
        CallStats.Snapshot interval = s.snapshot().minus(before);
        assertEquals(10, interval.calls());
        assertEquals(50.0, interval.quantileMillis(0.5), 50.0 / 16);
        assertEquals(Double.NaN, CallStats.Snapshot.EMPTY.quantileMillis(0.5));
        for (long n = 1; n < (1L << 42); n = n * 3 / 2 + 1) assertTrue(CallStats.bucket(n) >= CallStats.bucket(n - 1), "monotone at " + n);
        assertEquals(CallStats.BUCKETS - 1, CallStats.bucket(Long.MAX_VALUE));
        assertEquals(0, CallStats.bucket(-5));
    }

    /** Catches lost updates under concurrent writers (a plain long[] would lose some). */
    @Test
    void concurrentWritersLoseNoCall() throws Exception {
        CallStats s = new CallStats();
        Thread[] ts = new Thread[4];
        for (int k = 0; k < ts.length; k++) {
            ts[k] = new Thread(() -> {
                for (int i = 0; i < 100_000; i++) s.record(1000);
            });
            ts[k].start();
        }
        for (Thread t : ts) t.join();
        assertEquals(400_000, s.snapshot().calls());
    }
}
