package io.shadowsync.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BinaryMetricsTest {
    /** O(n²) Mann–Whitney: pairs (positive, negative) with the positive above, ties one half. */
    private static double pairwiseAuc(float[] p, float[] y, int n) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++) {
            if (y[i] != 1f) continue;
            for (int j = 0; j < n; j++) {
                if (y[j] != 0f) continue;
                pairs++;
                if (p[i] > p[j]) wins += 1;
                else if (p[i] == p[j]) wins += 0.5;
            }
        }
        return wins / pairs;
    }

    @Test
    void aucMatchesPairwiseCountOnRandomDataWithTies() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int trial = 0; trial < 5; trial++) {
            int n = 500 + trial * 37;
            float[] p = new float[n], y = new float[n];
            for (int i = 0; i < n; i++) {
                y[i] = rng.nextDouble() < 0.3 ? 1f : 0f;
                // coarse scores, so many ties, and correlated with the label; includes 0 and 1 and -0
                int level = Math.min(10, Math.max(0, (int) (rng.nextInt(8) + 3 * y[i])));
                p[i] = level == 0 && rng.nextBoolean() ? -0f : level / 10f;
            }
            BinaryMetrics m = new BinaryMetrics();
            m.add(p, y, n);
            assertEquals(pairwiseAuc(p, y, n), m.auc(), 1e-12, "trial " + trial);
        }
    }

    @Test
    void aucOfPerfectRandomAndReversedScores() {
        BinaryMetrics perfect = new BinaryMetrics(), tied = new BinaryMetrics(), reversed = new BinaryMetrics();
        for (int i = 0; i < 10; i++) {
            float label = i % 2;
            perfect.add(label == 1 ? 0.9f : 0.1f, label);
            tied.add(0.4f, label);
            reversed.add(label == 1 ? 0.2f : 0.8f, label);
        }
        assertEquals(1.0, perfect.auc(), 0);
        assertEquals(0.5, tied.auc(), 0);
        assertEquals(0.0, reversed.auc(), 0);
    }

    @Test
    void aucIsNaNWithOneClassOrANaNScore() {
        BinaryMetrics one = new BinaryMetrics();
        one.add(0.3f, 1f);
        one.add(0.7f, 1f);
        assertTrue(Double.isNaN(one.auc()));
        assertTrue(Double.isNaN(one.ne()));
        BinaryMetrics nan = new BinaryMetrics();
        nan.add(0.3f, 1f);
        nan.add(Float.NaN, 0f);
        assertTrue(Double.isNaN(nan.auc()));
        assertTrue(Double.isNaN(nan.logloss()));
    }

    @Test
    void constantPredictorAtTheBaseRateHasNeOne() {
        BinaryMetrics m = new BinaryMetrics();
        for (int i = 0; i < 1000; i++) m.add(0.25f, i % 4 == 0 ? 1f : 0f);
        assertEquals(0.25, m.baseRate(), 0);
        assertEquals(BinaryMetrics.entropy(0.25), m.logloss(), 1e-12);
        assertEquals(1.0, m.ne(), 1e-12);
        assertEquals(1.0, m.calibration(), 1e-9);
        assertEquals(0.75, m.accuracy(), 0); // 0.25 < 0.5: every example predicted negative
    }

    @Test
    void loglossClipsConfidentMistakes() {
        BinaryMetrics m = new BinaryMetrics();
        m.add(0f, 1f);
        m.add(1f, 0f);
        assertEquals(-Math.log(1e-7), m.logloss(), 1e-9);
        BinaryMetrics right = new BinaryMetrics();
        right.add(1f, 1f);
        assertEquals(-Math.log(1 - 1e-7), right.logloss(), 1e-12);
        BinaryMetrics half = new BinaryMetrics();
        half.add(0.5f, 1f);
        half.add(0.5f, 0f);
        assertEquals(Math.log(2), half.logloss(), 1e-12);
        assertEquals(1.0, half.accuracy() * 2, 0); // 0.5 counts as positive: one of two right
    }

    @Test
    void mergeEqualsAddingEverythingToOneAccumulator() {
        SplittableRandom rng = new SplittableRandom(5);
        BinaryMetrics all = new BinaryMetrics(), a = new BinaryMetrics(), b = new BinaryMetrics(), c = new BinaryMetrics();
        for (int i = 0; i < 3000; i++) {
            float y = rng.nextDouble() < 0.2 ? 1f : 0f;
            float p = (float) Math.min(1, Math.max(0, 0.2 + 0.3 * y + 0.2 * rng.nextGaussian()));
            all.add(p, y);
            (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(p, y);
        }
        a.auc(); // a sorted accumulator merges like an unsorted one
        a.merge(b);
        a.merge(c);
        Metrics x = all.result(), z = a.result();
        assertEquals(x.count(), z.count());
        assertEquals(x.logloss(), z.logloss(), 1e-12);
        assertEquals(x.ne(), z.ne(), 1e-12);
        assertEquals(x.auc(), z.auc(), 1e-15);
        assertEquals(x.accuracy(), z.accuracy(), 0);
        assertEquals(x.baseRate(), z.baseRate(), 0);
        assertTrue(x.auc() > 0.7, "scores carry signal: " + x.auc());
    }

    @Test
    void badLabelsAndProbabilitiesAreRefused() {
        BinaryMetrics m = new BinaryMetrics();
        var e = assertThrows(IllegalArgumentException.class, () -> m.add(0.5f, 2f));
        assertEquals("a binary label is 0 or 1, got 2.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.add(1.5f, 1f));
        assertEquals("a predicted probability lies in [0, 1], got 1.5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.merge(new RegressionMetrics()));
        assertEquals(0, m.count());
    }

    @Test
    void resultMapHoldsOnlyTheBinaryMetrics() {
        BinaryMetrics m = new BinaryMetrics();
        m.add(0.8f, 1f);
        m.add(0.3f, 0f);
        var map = m.result().toMap();
        assertEquals(2L, map.get("count"));
        assertEquals(1.0, map.get("auc"));
        assertTrue(map.containsKey("ne"));
        assertFalse(map.containsKey("mse"));
    }
}
