package io.shadowsync.optim;

import java.util.Arrays;

/**
 * Adagrad (Duchi, Hazan and Singer, 2011), element-wise, in PyTorch's form (no learning-rate decay):
 * <pre>
 *   g = grad + weightDecay·w
 *   G = G + g²
 *   w = w − lr·g / (sqrt(G) + eps)
 * </pre>
 * Good for sparse or rarely active features (a logistic regression over hashed features), where a feature
 * seen rarely keeps a large step.
 *
 * <p>Sharing contract: one instance per parameter replica; {@link #step} is called by all Hogwild workers of
 * that replica at once, <b>without locks</b>. Concurrent read-modify-writes of {@code G[i]} and {@code w[i]}
 * may lose an addition: the race is the algorithm (Recht et al., 2011), kept on purpose.
 */
public final class Adagrad implements DenseOptimizer {
    private final float lr;
    private final float eps;
    private final float weightDecay;
    private final int size;
    /** Sum of squared gradients, [size]; racy by design (see class comment). */
    private final float[] accumulator;

    /**
     * @param n                  number of parameters this optimizer updates
     * @param lr                 learning rate, positive
     * @param eps                added to sqrt(G), positive so that a zero accumulator cannot divide by zero
     * @param initialAccumulator starting value of G, zero or positive (0.1 in TensorFlow, 0 in PyTorch)
     * @param weightDecay        L2 coefficient added to the gradient, zero or positive
     */
    public Adagrad(int n, double lr, double eps, double initialAccumulator, double weightDecay) {
        Args.size("parameter count", n);
        this.lr = Args.positiveFinite("Adagrad learning rate", lr);
        this.eps = Args.positiveFinite("Adagrad eps", eps);
        float init = Args.nonNegativeFinite("Adagrad initial accumulator", initialAccumulator);
        this.weightDecay = Args.nonNegativeFinite("Adagrad weight decay", weightDecay);
        this.size = n;
        this.accumulator = new float[n];
        if (init != 0f) Arrays.fill(accumulator, init);
    }

    /** Adagrad without weight decay. */
    public Adagrad(int n, double lr, double eps, double initialAccumulator) {
        this(n, lr, eps, initialAccumulator, 0);
    }

    @Override
    public void step(float[] params, float[] grad, int n) {
        Args.stepLength(n, size, params, grad);
        final float lr = this.lr, eps = this.eps, wd = weightDecay;
        final float[] acc = accumulator;
        for (int i = 0; i < n; i++) {
            float g = grad[i] + wd * params[i];
            float a = acc[i] + g * g;
            acc[i] = a;
            params[i] -= lr * g / ((float) Math.sqrt(a) + eps);
        }
    }

    /** {accumulator}: the live array, not a copy. */
    @Override
    public float[][] state() {
        return new float[][] {accumulator};
    }

    public double lr() {
        return lr;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }
}
