package io.shadowsync.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DenseOptimizersTest {
    private static final double TOL = 1e-6;

    private static void stepConstant(DenseOptimizer opt, float[] w, float g, int steps, double[] expected) {
        float[] grad = new float[w.length];
        java.util.Arrays.fill(grad, g);
        for (int s = 0; s < steps; s++) {
            opt.step(w, grad, w.length);
            for (float x : w) assertEquals(expected[s], x, TOL, "after step " + (s + 1));
        }
    }

    @Test
    void plainSgdSubtractsLrTimesGradientAndKeepsNoState() {
        Sgd sgd = new Sgd(3, 0.1);
        float[] w = {1, 2, 3};
        sgd.step(w, new float[] {1, -2, 0.5f}, 3);
        assertArrayEquals(new float[] {0.9f, 2.2f, 2.95f}, w, 1e-6f);
        assertEquals(0, sgd.state().length);
    }

    @Test
    void sgdMomentumAccumulatesVelocity() {
        // v: 1, 1.9, 2.71; w: −0.1, −0.29, −0.561
        stepConstant(new Sgd(2, 0.1, 0.9, false, 0), new float[2], 1f, 3, new double[] {-0.1, -0.29, -0.561});
    }

    @Test
    void sgdNesterovLooksAhead() {
        // v: 1, 1.9, 2.71; update g + μv: 1.9, 2.71, 3.439
        stepConstant(new Sgd(2, 0.1, 0.9, true, 0), new float[2], 1f, 3, new double[] {-0.19, -0.461, -0.8049});
    }

    @Test
    void sgdWeightDecayShrinksWithZeroGradient() {
        float[] w = {1, 1};
        stepConstant(new Sgd(2, 0.1, 0, false, 0.5), w, 0f, 2, new double[] {0.95, 0.9025});
    }

    @Test
    void sgdMomentumWithWeightDecayAddsDecayToVelocity() {
        // w0 = 1, g = 1, wd = 0.5: g' = 1.5, v = 1.5, w = 0.85; g' = 1.425, v = 0.9·1.5 + 1.425 = 2.775, w = 0.5725
        float[] w = {1};
        stepConstant(new Sgd(1, 0.1, 0.9, false, 0.5), w, 1f, 2, new double[] {0.85, 0.5725});
    }

    @Test
    void adagradDividesBySqrtOfAccumulatedSquares() {
        Adagrad a = new Adagrad(1, 0.5, 1e-10, 0.1);
        float[] w = {0};
        a.step(w, new float[] {1}, 1); // G = 1.1
        double w1 = -0.5 / Math.sqrt(1.1);
        assertEquals(w1, w[0], TOL);
        a.step(w, new float[] {2}, 1); // G = 5.1
        assertEquals(w1 - 0.5 * 2 / Math.sqrt(5.1), w[0], TOL);
        assertEquals(5.1, a.state()[0][0], 1e-6);
    }

    @Test
    void adagradWeightDecayEntersTheAccumulator() {
        Adagrad a = new Adagrad(1, 0.1, 1e-10, 0, 1.0);
        float[] w = {2};
        a.step(w, new float[] {0}, 1); // g = 2, G = 4, step = 0.1·2/2
        assertEquals(1.9, w[0], TOL);
        assertEquals(4.0, a.state()[0][0], 1e-6);
    }

    @Test
    void adamBiasCorrectionMakesAConstantGradientStepByLr() {
        // m̂ = g and v̂ = g² for a constant g at every t, so each step is lr·g/(|g| + eps)
        Adam adam = new Adam(2, 0.1, 0.9, 0.999, 1e-8, 0);
        stepConstant(adam, new float[2], 2f, 3, new double[] {-0.1, -0.2, -0.3});
        assertEquals(3, adam.steps());
        assertEquals(0.2 * (1 + 0.9 + 0.81), adam.state()[0][0], 1e-6); // m = (1−β1)·g·(1 + β1 + β1²)
    }

    @Test
    void adamMatchesTheTextbookFormulasOnVaryingGradients() {
        double lr = 0.01, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.1;
        int n = 17; // not a multiple of any vector width
        SplittableRandom rng = new SplittableRandom(7);
        float[] w = new float[n];
        double[] ref = new double[n], m = new double[n], v = new double[n];
        for (int i = 0; i < n; i++) ref[i] = w[i] = (float) rng.nextGaussian();
        Adam adam = new Adam(n, lr, b1, b2, eps, wd);
        float[] g = new float[n];
        for (int t = 1; t <= 5; t++) {
            for (int i = 0; i < n; i++) g[i] = (float) rng.nextGaussian();
            adam.step(w, g, n);
            for (int i = 0; i < n; i++) {
                double gi = g[i] + wd * ref[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double mh = m[i] / (1 - Math.pow(b1, t)), vh = v[i] / (1 - Math.pow(b2, t));
                ref[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
        }
        for (int i = 0; i < n; i++) assertEquals(ref[i], w[i], 1e-5, "element " + i);
    }

    @Test
    void adamRestoredStepCountContinuesTheBiasCorrection() {
        Adam a = new Adam(1, 0.1, 0.9, 0.999, 1e-8, 0);
        a.restoreSteps(1000);
        float[] w = {0};
        a.step(w, new float[] {1}, 1);
        assertEquals(1001, a.steps());
        // t = 1001: bias corrections ≈ 1 and 0.632, m = 0.1, v = 0.001 → step ≈ 0.1·0.1/(sqrt(0.001/0.6325))
        double bc2 = 1 - Math.pow(0.999, 1001);
        double expected = -0.1 * 0.1 / (1 - Math.pow(0.9, 1001)) / (Math.sqrt(0.001) / Math.sqrt(bc2) + 1e-8);
        assertEquals(expected, w[0], 1e-6);
    }

    @Test
    void hogwildWorkersStepOneAdamWithoutLocksAndEachCallCountsOnce() throws InterruptedException {
        int n = 64;
        Adam adam = new Adam(n, 0.01, 0.9, 0.999, 1e-8, 0);
        float[] w = new float[n];
        Thread[] workers = new Thread[2];
        for (int t = 0; t < 2; t++) {
            workers[t] = new Thread(() -> {
                float[] g = new float[n];
                java.util.Arrays.fill(g, 1f);
                for (int s = 0; s < 500; s++) adam.step(w, g, n);
            }, "test/worker-" + t);
            workers[t].start();
        }
        for (Thread t : workers) t.join(10_000);
        assertEquals(1000, adam.steps());
        // every update of a constant gradient moves w down by about lr (a lost or interleaved update
        // of m and v, or a bias correction for a step count the other worker has moved past, can make a step
        // larger or smaller: on a loaded 2-core machine 1,000 steps once summed to −13.6), races or not
        for (float x : w) assertTrue(x < -1 && x > -25f, "w = " + x);
    }

    @Test
    void stepOverOnlyAPrefixLeavesTheRestAlone() {
        Sgd sgd = new Sgd(4, 1.0);
        float[] w = {1, 1, 1, 1};
        sgd.step(w, new float[] {1, 1, 1, 1}, 2);
        assertArrayEquals(new float[] {0, 0, 1, 1}, w);
    }

    @Test
    void stepLongerThanTheStateIsRefused() {
        Adagrad a = new Adagrad(2, 0.1, 1e-10, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> a.step(new float[3], new float[3], 3));
        assertTrue(e.getMessage().contains("holds state for 2"), e.getMessage());
    }

    @Test
    void constructorsRefuseBadArgumentsSayingWhy() {
        assertMessage("SGD learning rate must be positive and finite, got 0.0", () -> new Sgd(1, 0));
        assertMessage("SGD learning rate must be positive and finite, got NaN", () -> new Sgd(1, Double.NaN));
        assertMessage("SGD momentum must be in [0, 1), got 1.0", () -> new Sgd(1, 0.1, 1, false, 0));
        assertMessage("SGD momentum must be in [0, 1), got -0.1", () -> new Sgd(1, 0.1, -0.1, false, 0));
        assertMessage("Nesterov momentum needs a momentum above 0, got 0.0", () -> new Sgd(1, 0.1, 0, true, 0));
        assertMessage("SGD weight decay must be zero or positive and finite, got -1.0", () -> new Sgd(1, 0.1, 0, false, -1));
        assertMessage("parameter count must not be negative, got -1", () -> new Sgd(-1, 0.1));
        assertMessage("Adagrad eps must be positive and finite, got 0.0", () -> new Adagrad(1, 0.1, 0, 0));
        assertMessage("Adagrad initial accumulator must be zero or positive and finite, got -0.5", () -> new Adagrad(1, 0.1, 1e-10, -0.5));
        assertMessage("Adam beta1 must be in [0, 1), got 1.0", () -> new Adam(1, 0.1, 1, 0.999, 1e-8, 0));
        assertMessage("Adam beta2 must be in [0, 1), got 1.5", () -> new Adam(1, 0.1, 0.9, 1.5, 1e-8, 0));
        assertMessage("Adam learning rate must be positive and finite, got Infinity", () -> new Adam(1, Double.POSITIVE_INFINITY, 0.9, 0.999, 1e-8, 0));
        assertMessage("Adam step count must not be negative, got -1", () -> new Adam(1, 0.1, 0.9, 0.999, 1e-8, 0).restoreSteps(-1));
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        var e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(expected, e.getMessage());
    }
}
