package io.shadowsync.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.sync.GossipSchedule;
import org.junit.jupiter.api.Test;

/** Gossip staleness in rounds follows the schedule's pairings. */
class TimelinesTest {
    /**
     * On a hypercube of n = 2^k, what one member holds reaches a member at distance d (highest differing bit, counted
     * from the round's dimension) after d rounds: the mean over the others is Σ_d d·2^(d−1) / (n − 1). Catches a
     * count off by one, or a spread that lets news travel two hops in one round.
     */
    @Test
    void hypercubeSpreadsInLogNRounds() {
        for (int k = 1; k <= 6; k++) {
            int n = 1 << k;
            double expected = 0;
            for (int d = 1; d <= k; d++) expected += d * (double) (1 << (d - 1));
            expected /= n - 1;
            assertEquals(expected, Timelines.gossipRounds(GossipSchedule.HYPERCUBE, n), 1e-9, "n = " + n);
        }
    }

    /** On the ring, news travels one hop a round: the mean grows linearly with n, far above the random pairing's. */
    @Test
    void ringIsSlowRandomIsFast() {
        double ring = Timelines.gossipRounds(GossipSchedule.RING, 64);
        double random = Timelines.gossipRounds(GossipSchedule.RANDOM, 64);
        assertTrue(ring > 12, "ring: " + ring);
        assertTrue(random < 12 && random > 3, "random: " + random);
    }
}
