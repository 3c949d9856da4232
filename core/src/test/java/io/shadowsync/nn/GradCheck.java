package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences against analytic gradients. An entry passes when
 * {@code |analytic − numeric| ≤ REL · max(|analytic|, |numeric|) + ABS}: 2% relative, because the layers compute in
 * float and the step is 1e-3, with an absolute floor for gradients near zero.
 */
public final class GradCheck {
    public static final double REL = 2e-2;
    public static final double ABS = 2e-4;
    public static final float H = 1e-3f;

    private GradCheck() {}

    /** (loss(x_i + h) − loss(x_i − h)) / 2h, restoring x_i afterwards. */
    public static double numeric(float[] x, int i, DoubleSupplier loss) {
        float old = x[i];
        x[i] = old + H;
        double up = loss.getAsDouble();
        x[i] = old - H;
        double down = loss.getAsDouble();
        x[i] = old;
        return (up - down) / (2.0 * H);
    }

    /** Checks analytic[aOff + i] against the numeric gradient of loss w.r.t. x[xOff + i] for i in [0, n). */
    public static void check(String what, float[] analytic, int aOff, float[] x, int xOff, int n, DoubleSupplier loss) {
        for (int i = 0; i < n; i++) checkOne(what + "[" + i + "]", analytic[aOff + i], numeric(x, xOff + i, loss));
    }

    /** Like {@link #check} but over at most {@code max} entries chosen at random (seeded) among n. */
    public static void checkSample(String what, float[] analytic, int aOff, float[] x, int xOff, int n, int max, long seed, DoubleSupplier loss) {
        if (n <= max) {
            check(what, analytic, aOff, x, xOff, n, loss);
            return;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int k = 0; k < max; k++) {
            int i = r.nextInt(n);
            checkOne(what + "[" + i + "]", analytic[aOff + i], numeric(x, xOff + i, loss));
        }
    }

    public static void checkOne(String what, double analytic, double numeric) {
        double err = Math.abs(analytic - numeric);
        if (err > REL * Math.max(Math.abs(analytic), Math.abs(numeric)) + ABS) {
            fail(what + ": analytic " + analytic + " vs numeric " + numeric + " (|diff| " + err + ")");
        }
    }

    public static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((2 * r.nextDouble() - 1) * scale);
        return x;
    }

    /** Σ c_i · y[yOff + i]: a scalar loss whose gradient w.r.t. y is c. */
    public static double weightedSum(float[] c, float[] y, int yOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) c[i] * y[yOff + i];
        return s;
    }
}
