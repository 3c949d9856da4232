package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timing bounds are one-sided where the machine's load can only make things slower; upper bounds are generous. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EmulatedLinkTest {
    private static final long MS = 1_000_000;

    @Test
    void anIdealLinkOnlyCounts() throws InterruptedException {
        EmulatedLink l = EmulatedLink.ideal();
        assertEquals(0, l.reserve(1 << 20));
        l.transmit(100);
        assertEquals((1 << 20) + 100, l.bytes());
        assertEquals(2, l.messages());
        assertTrue(l.isIdeal());
    }

    @Test
    void aMegabyteAtOneGigabitTakesEightMilliseconds() throws InterruptedException {
        EmulatedLink l = new EmulatedLink(LinkModel.parse("1gbit", "0"));
        long t0 = System.nanoTime();
        l.transmit(1_000_000);
        long took = System.nanoTime() - t0;
        assertTrue(took >= 8 * MS, "took " + took / 1e6 + " ms");
        assertTrue(took < 2_000 * MS, "took " + took / 1e6 + " ms");
    }

    @Test
    void messagesOnOneLinkSerializeButLatenciesOverlap() {
        EmulatedLink l = new EmulatedLink(LinkModel.parse("1gbit", "10ms"));
        long before = System.nanoTime();
        long d1 = l.reserve(1_000_000);
        long d2 = l.reserve(1_000_000);
        assertTrue(d1 - before >= 18 * MS, "first delivery after " + (d1 - before) / 1e6 + " ms");
        assertEquals(8 * MS, d2 - d1, "the second message waits for the first one's bytes, not its latency");

        EmulatedLink latencyOnly = new EmulatedLink(LinkModel.parse("inf", "100ms"));
        long e1 = latencyOnly.reserve(1_000_000), e2 = latencyOnly.reserve(1_000_000);
        assertTrue(e2 - e1 < 50 * MS, "latency must not occupy the link: " + (e2 - e1) / 1e6 + " ms apart");
    }

    @Test
    void twoThreadsSendingAtOnceTakeTwiceAsLong() throws Exception {
        EmulatedLink l = new EmulatedLink(LinkModel.parse("1gbit", "0"));
        long t0 = System.nanoTime();
        Ranks.runAll(2, r -> l.transmit(1_000_000));
        long took = System.nanoTime() - t0;
        assertTrue(took >= 16 * MS, "two 8 ms messages took " + took / 1e6 + " ms");
        assertEquals(2_000_000, l.bytes());
    }

    @Test
    void subMillisecondLatencyIsHonoured() throws InterruptedException {
        EmulatedLink l = new EmulatedLink(LinkModel.parse("inf", "500us"));
        long t0 = System.nanoTime();
        for (int i = 0; i < 10; i++) l.transmit(8);
        long took = System.nanoTime() - t0;
        assertTrue(took >= 5 * MS, "10 × 0.5 ms took " + took / 1e6 + " ms");
        assertTrue(took < 1_000 * MS, "10 × 0.5 ms took " + took / 1e6 + " ms");
    }

    @Test
    void refusesNegativeSizes() {
        EmulatedLink l = EmulatedLink.ideal();
        assertThrows(IllegalArgumentException.class, () -> l.reserve(-1));
        assertThrows(IllegalArgumentException.class, () -> new EmulatedLink(null));
    }
}
