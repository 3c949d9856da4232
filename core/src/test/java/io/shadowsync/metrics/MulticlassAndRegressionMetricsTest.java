package io.shadowsync.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MulticlassAndRegressionMetricsTest {
    @Test
    void multiclassCrossEntropyAndArgmaxAccuracy() {
        MulticlassMetrics m = new MulticlassMetrics(3);
        float[] probs = {
            0.7f, 0.2f, 0.1f,   // label 0: right
            0.1f, 0.3f, 0.6f,   // label 1: wrong
            0.4f, 0.2f, 0.4f,   // label 2: tie between 0 and 2, first wins: wrong
            0f, 1f, 0f,         // label 2: p = 0, clipped
        };
        m.add(probs, new float[] {0, 1, 2, 2}, 4);
        assertEquals(4, m.count());
        assertEquals(0.25, m.accuracy(), 0);
        double ce = -(Math.log(0.7f) + Math.log(0.3f) + Math.log(0.4f) + Math.log(1e-7)) / 4;
        assertEquals(ce, m.crossEntropy(), 1e-9);
        Metrics r = m.result();
        assertEquals(ce, r.logloss(), 1e-9);
        assertTrue(Double.isNaN(r.auc()));
    }

    @Test
    void multiclassMergeAndRefusals() {
        MulticlassMetrics a = new MulticlassMetrics(2 + 1), b = new MulticlassMetrics(3);
        a.add(new float[] {0.5f, 0.3f, 0.2f}, 0, 0);
        b.add(new float[] {0.5f, 0.3f, 0.2f}, 0, 1);
        a.merge(b);
        assertEquals(2, a.count());
        assertEquals(0.5, a.accuracy(), 0);
        var e = assertThrows(IllegalArgumentException.class, () -> a.merge(new MulticlassMetrics(4)));
        assertEquals("cannot merge MulticlassMetrics of 4 classes into MulticlassMetrics of 3 classes", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.add(new float[3], new float[] {3}, 1));
        assertEquals("a class label lies in [0, 3), got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.add(new float[3], new float[] {1.5f}, 1));
        assertEquals("a class label is a whole number, got 1.5", e.getMessage());
    }

    @Test
    void regressionErrors() {
        RegressionMetrics a = new RegressionMetrics(), b = new RegressionMetrics();
        a.add(new float[] {1, 2}, new float[] {2, 2}, 2); // errors −1, 0
        b.add(5, 2);                                       // error 3
        a.merge(b);
        assertEquals(3, a.count());
        assertEquals(10.0 / 3, a.mse(), 1e-12);
        assertEquals(Math.sqrt(10.0 / 3), a.rmse(), 1e-12);
        assertEquals(4.0 / 3, a.mae(), 1e-12);
        var map = a.result().toMap();
        assertEquals(10.0 / 3, (Double) map.get("mse"), 1e-12);
        assertFalse(map.containsKey("logloss"));
    }

    @Test
    void accumulatorForEachKindOfSchema() {
        assertInstanceOf(BinaryMetrics.class, MetricAccumulator.forClasses(2));
        assertEquals(5, assertInstanceOf(MulticlassMetrics.class, MetricAccumulator.forClasses(5)).classes());
        assertInstanceOf(RegressionMetrics.class, MetricAccumulator.forClasses(0));
        var e = assertThrows(IllegalArgumentException.class, () -> MetricAccumulator.forClasses(1));
        assertEquals("numClasses is 2 (binary), above 2 (multiclass) or 0 (regression), got 1", e.getMessage());
    }
}
