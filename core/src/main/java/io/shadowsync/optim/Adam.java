package io.shadowsync.optim;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Adam (Kingma and Ba, 2015) with bias correction and L2 weight decay added to the gradient, in the form of
 * PyTorch's {@code torch.optim.Adam} (not the decoupled AdamW):
 * <pre>
 *   t = t + 1                                 (one shared counter: one atomic per step call, not per element)
 *   g = grad + weightDecay·w
 *   m = β1·m + (1 − β1)·g
 *   v = β2·v + (1 − β2)·g²
 *   w = w − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)
 * </pre>
 * Without the correction the first steps would be too small by about (1 − β1)/sqrt(1 − β2), since m and v
 * start at zero.
 *
 * <p>Sharing contract: one instance per parameter replica; {@link #step} is called by all Hogwild workers of
 * that replica at once, <b>without locks</b>. Each call takes its own t from the counter (so t counts the
 * updates of all workers), then reads and writes {@code m[i]}, {@code v[i]} and {@code w[i]} racily: two
 * workers may interleave and lose an update, which is the Hogwild algorithm (Recht et al., 2011), kept on
 * purpose.
 */
public final class Adam implements DenseOptimizer {
    private final float lr;
    private final double beta1;
    private final double beta2;
    private final float eps;
    private final float weightDecay;
    private final int size;
    /** First and second moment estimates, [size] each; racy by design. */
    private final float[] m;
    private final float[] v;
    private final AtomicLong steps = new AtomicLong();

    /**
     * @param n           number of parameters this optimizer updates
     * @param lr          learning rate, positive
     * @param beta1       decay of the first moment, in [0, 1) (0.9 usual)
     * @param beta2       decay of the second moment, in [0, 1) (0.999 usual)
     * @param eps         added to the denominator, positive (1e-8 usual)
     * @param weightDecay L2 coefficient added to the gradient, zero or positive
     */
    public Adam(int n, double lr, double beta1, double beta2, double eps, double weightDecay) {
        Args.size("parameter count", n);
        this.lr = Args.positiveFinite("Adam learning rate", lr);
        Args.decay("Adam beta1", beta1);
        Args.decay("Adam beta2", beta2);
        this.beta1 = beta1; // kept in double: the bias correction raises them to the power t
        this.beta2 = beta2;
        this.eps = Args.positiveFinite("Adam eps", eps);
        this.weightDecay = Args.nonNegativeFinite("Adam weight decay", weightDecay);
        this.size = n;
        this.m = new float[n];
        this.v = new float[n];
    }

    @Override
    public void step(float[] params, float[] grad, int n) {
        Args.stepLength(n, size, params, grad);
        long t = steps.incrementAndGet();
        final float stepSize = (float) (lr / (1 - Math.pow(beta1, t)));
        final float invSqrtBc2 = (float) (1 / Math.sqrt(1 - Math.pow(beta2, t)));
        final float b1 = (float) beta1, a1 = (float) (1 - beta1);
        final float b2 = (float) beta2, a2 = (float) (1 - beta2);
        final float eps = this.eps, wd = weightDecay;
        final float[] m = this.m, v = this.v;
        for (int i = 0; i < n; i++) {
            float g = grad[i] + wd * params[i];
            float mi = b1 * m[i] + a1 * g;
            float vi = b2 * v[i] + a2 * g * g;
            m[i] = mi;
            v[i] = vi;
            params[i] -= stepSize * mi / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
        }
    }

    /** {m, v}: the live arrays, not copies. The step counter is separate: {@link #steps()}. */
    @Override
    public float[][] state() {
        return new float[][] {m, v};
    }

    /** Number of step calls so far (t of the bias correction); a checkpoint saves it beside {@link #state()}. */
    @Override
    public long steps() {
        return steps.get();
    }

    /** Sets t when restoring a checkpoint, before any worker steps. */
    @Override
    public void restoreSteps(long t) {
        if (t < 0) throw new IllegalArgumentException("Adam step count must not be negative, got " + t);
        steps.set(t);
    }

    public double lr() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }
}
