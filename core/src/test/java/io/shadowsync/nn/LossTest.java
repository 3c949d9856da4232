package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class LossTest {
    static final int B = 5;

    @Test
    void bceGradientMatchesFiniteDifferences() {
        float[] x = GradCheck.random(B, 1, 3.0);
        float[] y = {0, 1, 1, 0, 0.3f};
        float[] p = new float[B];
        DoubleSupplier loss = () -> BceWithLogits.forward(p, 0, x, 0, y, 0, B) / B;
        loss.getAsDouble();
        float[] dx = new float[B];
        BceWithLogits.backward(dx, 0, p, 0, y, 0, B, 1f / B);
        GradCheck.check("bce", dx, 0, x, 0, B, loss);
    }

    @Test
    void bceProbabilitiesAreTheSigmoidsBits() {
        float[] x = {-90f, -17.5f, -1f, -1e-7f, -0f, 0f, 1e-7f, 0.3f, 2f, 40f, Float.NaN};
        float[] p = new float[x.length];
        BceWithLogits.forward(p, 0, x, 0, new float[x.length], 0, x.length);
        for (int i = 0; i < x.length; i++) assertEquals(io.shadowsync.kernels.Activations.sigmoid(x[i]), p[i], "x = " + x[i]);
    }

    @Test
    void bceIsStableAtHugeLogits() {
        float[] p = new float[3];
        double l = BceWithLogits.forward(p, 0, new float[] {100f, -100f, 0f}, 0, new float[] {0f, 0f, 1f}, 0, 3);
        assertEquals(100 + 0 + Math.log(2), l, 1e-9);
        assertEquals(1f, p[0]);
        assertEquals(0f, p[1], 1e-30f);
    }

    @Test
    void softmaxCrossEntropyGradientMatchesFiniteDifferences() {
        int C = 4;
        float[] x = GradCheck.random(B * C, 2, 2.0);
        float[] y = {0, 3, 2, 2, 1};
        float[] probs = new float[B * C];
        int[] lab = new int[B];
        DoubleSupplier loss = () -> SoftmaxCrossEntropyLoss.forward(probs, x, y, lab, B, C) / B;
        loss.getAsDouble();
        float[] dx = new float[B * C];
        SoftmaxCrossEntropyLoss.backward(dx, probs, lab, B, C, 1f / B);
        GradCheck.check("softmax ce", dx, 0, x, 0, B * C, loss);
        float rowSum = 0;
        for (int c = 0; c < C; c++) rowSum += probs[c];
        assertEquals(1f, rowSum, 1e-6f);
    }

    @Test
    void softmaxCrossEntropyRefusesANonClassLabel() {
        float[] x = new float[2 * 3];
        for (float bad : new float[] {3f, -1f, 1.5f}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SoftmaxCrossEntropyLoss.forward(new float[6], x, new float[] {0f, bad}, new int[2], 2, 3));
            assertTrue(e.getMessage().contains("example 1"), e.getMessage());
        }
    }

    @Test
    void mseGradientMatchesFiniteDifferences() {
        float[] x = GradCheck.random(B, 3, 2.0);
        float[] y = GradCheck.random(B, 4, 2.0);
        DoubleSupplier loss = () -> Mse.forward(x, 0, y, 0, B) / B;
        float[] dx = new float[B];
        Mse.backward(dx, 0, x, 0, y, 0, B, 1f / B);
        GradCheck.check("mse", dx, 0, x, 0, B, loss);
        assertEquals(8.0, Mse.forward(new float[] {1, 3}, 0, new float[] {3, 1}, 0, 2), 0.0);
    }
}
