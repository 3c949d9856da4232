package io.shadowsync.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AshaTest {
    /**
     * Scripted curves, eta 3, rungs at 100, 300, 900 examples; each report is (trial, examples, loss), in arrival order.
     * At rung 0 the n-th arrival goes on only if it is among the best max(1, floor(n/3)) recorded there.
     */
    @Test
    void stopsExactlyTheTrialsThatFallBehindAtARung() {
        Asha a = new Asha(100, 3);
        // rung 0 (100 examples)
        assertTrue(a.report(1, 100, 0.50));  // n=1, keep 1: first arrival always goes on
        assertFalse(a.report(2, 100, 0.60)); // n=2, keep 1: 0.50 is better
        assertTrue(a.report(3, 100, 0.40));  // n=3, keep 1: best so far
        assertFalse(a.report(4, 100, 0.45)); // n=4, keep 1: 0.40 better
        assertFalse(a.report(5, 100, 0.55)); // n=5, keep 1
        assertTrue(a.report(6, 100, 0.41));  // n=6, keep 2: only 0.40 better
        assertTrue(a.report(7, 100, 0.40));  // n=7, keep 2: a tie with the best goes on
        // rung 1 (300 examples): trial 1 arrives first, then 3, 6, 7
        assertTrue(a.report(1, 300, 0.30));  // n=1
        assertTrue(a.report(3, 300, 0.20));  // n=2, keep 1: best
        assertFalse(a.report(6, 300, 0.35)); // n=3, keep 1: 0.20 better
        assertFalse(a.report(7, 320, 0.25)); // n=4, keep 1
        // evaluations between rungs are not recorded
        assertTrue(a.report(3, 500, 0.99));
        assertTrue(a.report(1, 600, 0.99));
        // a stopped trial stays stopped and its later reports are not recorded
        assertFalse(a.report(2, 300, 0.01));
        assertEquals(Set.of(2, 4, 5, 6, 7), a.stopped());
        assertEquals(List.of(0.30, 0.20, 0.35, 0.25), a.recorded(1));
        assertEquals(List.of(), a.recorded(2));
    }

    /** A report past two rungs at once is recorded at both, lowest first, and stops the trial at the first it fails. */
    @Test
    void aLateReportCountsAtEveryRungItPassed() {
        Asha a = new Asha(10, 2);
        assertTrue(a.report(1, 10, 1.0));
        assertTrue(a.report(1, 20, 1.0));
        assertTrue(a.report(2, 25, 0.5)); // rung 0 (n=2, keep 1, best) and rung 1 (n=2, keep 1, best)
        assertEquals(List.of(1.0, 0.5), a.recorded(0));
        assertEquals(List.of(1.0, 0.5), a.recorded(1));
        assertFalse(a.report(3, 45, 2.0)); // rung 0: n=3, keep 1, worst: stopped there, not recorded at rung 1
        assertEquals(List.of(1.0, 0.5), a.recorded(1));
        assertEquals(Set.of(3), a.stopped());
    }

    @Test
    void nanLossesCountAsTheWorst() {
        Asha a = new Asha(10, 2);
        assertTrue(a.report(1, 10, 5.0));
        assertFalse(a.report(2, 10, Double.NaN));
    }

    @Test
    void refusesBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Asha(0, 3));
        assertThrows(IllegalArgumentException.class, () -> new Asha(10, 1));
    }
}
