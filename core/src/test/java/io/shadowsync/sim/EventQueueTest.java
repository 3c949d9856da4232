package io.shadowsync.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event engine: time order, FIFO ties, no scheduling into the past, determinism of a whole simulation for a seed. */
class EventQueueTest {
    @Test
    void runsInTimeOrderWhateverTheOrderScheduled() {
        EventQueue q = new EventQueue();
        List<String> seen = new ArrayList<>();
        q.at(3, () -> seen.add("c@" + q.now()));
        q.at(1, () -> seen.add("a@" + q.now()));
        q.at(2, () -> {
            seen.add("b@" + q.now());
            q.after(0.5, () -> seen.add("b2@" + q.now())); // scheduled from inside, before c
        });
        q.runUntil(10);
        assertEquals(List.of("a@1.0", "b@2.0", "b2@2.5", "c@3.0"), seen);
        assertEquals(10, q.now(), 0);
    }

    @Test
    void tiesRunInTheOrderTheyWereScheduled() {
        EventQueue q = new EventQueue();
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            int k = i;
            q.at(1, () -> seen.add(k));
        }
        q.at(1, () -> q.at(1, () -> seen.add(99))); // a tie scheduled while the tied ones run goes last
        q.runUntil(1);
        for (int i = 0; i < 50; i++) assertEquals(i, seen.get(i));
        assertEquals(99, seen.get(50));
    }

    @Test
    void refusesThePastAndStopsWhenAsked() {
        EventQueue q = new EventQueue();
        q.at(5, () -> { });
        q.runUntil(5);
        assertThrows(IllegalArgumentException.class, () -> q.at(4, () -> { }));
        int[] ran = {0};
        for (int i = 0; i < 10; i++) q.at(6 + i, () -> ran[0]++);
        q.runUntil(100, () -> ran[0] < 3);
        assertEquals(3, ran[0]);
        assertEquals(8, q.now(), 0); // stopped at the last action run, not at 100
    }

    @Test
    void aSimulationIsAFunctionOfItsSeed() {
        SimCluster c = new SimCluster(io.shadowsync.comm.LinkModel.parse("1gbit", "100us"), 2, 1, false, Stragglers.parse("lognormal:0.3"));
        for (String algo : List.of("s-ma", "fr-ma", "s-easgd", "sync-sgd", "async-ps", "s-gossip")) {
            SimJob job = SimFixtures.job(algo, 2, 10_000);
            SimResult a = new ScalingSimulation(job, c, SimFixtures.costs(1e-3), 4, 7, 200).run();
            SimResult b = new ScalingSimulation(job, c, SimFixtures.costs(1e-3), 4, 7, 200).run();
            SimResult other = new ScalingSimulation(job, c, SimFixtures.costs(1e-3), 4, 8, 200).run();
            assertEquals(a, b, algo);
            assertNotEquals(a.examplesPerSec(), other.examplesPerSec(), algo + ": another seed draws other stragglers");
        }
    }
}
