package io.shadowsync.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The host's cores time-sliced ({@link CpuPool} with a quantum), against closed forms: a run queue in arrival order
 * served by the cores, a task on a core until it is through or has run its quantum.
 */
class TimeSlicesTest {
    /** Runs tasks of the given work, all submitted at time 0 in order, on a pool; returns when each is through. */
    private static double[] ends(double cores, double quantum, double... work) {
        EventQueue q = new EventQueue();
        CpuPool pool = new CpuPool(q, cores, quantum);
        double[] end = new double[work.length];
        for (int i = 0; i < work.length; i++) {
            int k = i;
            pool.run(work[i], () -> end[k] = q.now());
        }
        q.runUntil(Double.MAX_VALUE);
        return end;
    }

    private static double[] equal(int n, double w) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, w);
        return a;
    }

    /**
     * n equal tasks of w on c cores with a quantum of at least w run to completion in waves: task i (in arrival order)
     * is through at (⌊i/c⌋ + 1)·w. Catches processor sharing (all at n·w/c), more tasks on the cores than cores, a
     * queue served last-in first, or a task preempted before its quantum.
     */
    @Test
    void equalTasksRunInWavesWhenTheQuantumCoversThem() {
        for (int c = 1; c <= 3; c++) {
            for (int n = 1; n <= 7; n++) {
                for (double quantum : new double[] {1.0, 5.0}) {
                    double[] end = ends(c, quantum, equal(n, 1.0));
                    for (int i = 0; i < n; i++) assertEquals(i / c + 1, end[i], 1e-9, n + " tasks on " + c + " cores, quantum " + quantum + ": task " + i);
                }
            }
        }
    }

    /**
     * k tasks of w = m·q on one core take turns of q: task i is through at k·w − (k − 1 − i)·q. Catches a task that is
     * never preempted (the first through at w), one put back at the front of the queue (the same), or slices counted in
     * work instead of time on the core.
     */
    @Test
    void longerTasksTakeTurnsOfOneQuantum() {
        double q = 1e-3;
        for (int k = 2; k <= 5; k++) {
            for (int m = 2; m <= 4; m++) {
                double w = m * q;
                double[] end = ends(1, q, equal(k, w));
                for (int i = 0; i < k; i++) assertEquals(k * w - (k - 1 - i) * q, end[i], 1e-12, k + " tasks of " + m + " quanta: task " + i);
            }
        }
    }

    /** A task with nobody waiting keeps its core: one task of 10 quanta is through at 10 quanta, two on two cores likewise. */
    @Test
    void nobodyWaitingMeansNoSlicing() {
        assertArrayEquals(new double[] {10e-3}, ends(1, 1e-3, 10e-3), 1e-12);
        assertArrayEquals(new double[] {10e-3, 10e-3}, ends(2, 1e-3, 10e-3, 10e-3), 1e-12);
    }

    /**
     * A fractional host runs at most ⌈c⌉ tasks at once, sharing its c cores: on 1.5 cores three tasks of 1.5 (a quantum
     * longer than them) are through at 2 (two at 0.75 each) and 3.5 (the third alone). Catches ⌊c⌋ tasks at once (1.5,
     * 3, 4.5), every task at once (all at 3), a task faster than one core (the third at 3), or a slice counted in work
     * done rather than time on the core.
     */
    @Test
    void aFractionalHostRunsItsLastCoreSlower() {
        assertArrayEquals(new double[] {2.0, 2.0, 3.5}, ends(1.5, 10, 1.5, 1.5, 1.5), 1e-9);
        // slices are time on a core, not work: with a quantum of 1, A and B run [0, 1], C and A [1, 2] (A through),
        // then B and C [2, 3]
        assertArrayEquals(new double[] {2.0, 3.0, 3.0}, ends(1.5, 1.0, 1.5, 1.5, 1.5), 1e-9);
        // the cores reserved for the processes' own CPU leave the same 1.5
        EventQueue q = new EventQueue();
        CpuPool pool = new CpuPool(q, 2, 10);
        pool.reserve(0.5);
        double[] end = new double[3];
        for (int i = 0; i < 3; i++) {
            int k = i;
            pool.run(1.5, () -> end[k] = q.now());
        }
        q.runUntil(Double.MAX_VALUE);
        assertArrayEquals(new double[] {2.0, 2.0, 3.5}, end, 1e-9);
    }

    /**
     * Whatever the arrivals, every task is through and the busy core-seconds are the work: slicing neither loses nor
     * repeats a preempted task's work; with every task arriving at once and never fewer tasks than cores until the
     * last wave, the cores are busy all along: the last is through at the total work over the cores. The same arrivals give the same schedule.
     */
    @Test
    void workIsConservedAndTheScheduleIsAFunctionOfTheArrivals() {
        double[] first = null;
        for (int rep = 0; rep < 2; rep++) {
            SplittableRandom r = new SplittableRandom(42);
            EventQueue q = new EventQueue();
            CpuPool pool = new CpuPool(q, 2, 0.5e-3);
            pool.measureFrom(0);
            int n = 200;
            double[] end = new double[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                double w = 1e-4 + r.nextDouble() * 3e-3, at = r.nextDouble() * 0.1;
                total += w;
                int k = i;
                q.at(at, () -> pool.run(w, () -> end[k] = q.now()));
            }
            q.runUntil(1.0); // all arrive by 0.1 s, with 0.33 core-seconds of work in all
            for (double e : end) assertEquals(true, e > 0, "every task is through");
            assertEquals(total, pool.utilisation(1000) * 1.0 * 2, 1e-9, "busy core-seconds = work");
            if (first == null) first = end;
            else assertArrayEquals(first, end, 0, "deterministic");
        }
        // 8 tasks of 3 quanta, all at once, on 2 cores: never an idle core until the end, at 8·3q / 2
        EventQueue q = new EventQueue();
        CpuPool pool = new CpuPool(q, 2, 1e-3);
        pool.measureFrom(0);
        double[] end = new double[8];
        for (int i = 0; i < 8; i++) {
            int k = i;
            pool.run(3e-3, () -> end[k] = q.now());
        }
        q.runUntil(20e-3);
        double last = java.util.Arrays.stream(end).max().orElseThrow();
        assertEquals(12e-3, last, 1e-12, "the last through when all the work is done at 2 cores");
        assertEquals(24e-3, pool.utilisation(8) * 20e-3 * 2, 1e-12, "busy core-seconds = work");
    }
}
