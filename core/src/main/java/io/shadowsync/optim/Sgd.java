package io.shadowsync.optim;

/**
 * Stochastic gradient descent with optional heavy-ball or Nesterov momentum and L2 weight decay, in the
 * form PyTorch's {@code torch.optim.SGD} uses (dampening 0):
 * <pre>
 *   g = grad + weightDecay·w
 *   v = momentum·v + g                       (skipped when momentum = 0: no state at all)
 *   w = w − lr·(nesterov ? g + momentum·v : v)
 * </pre>
 *
 * <p>Sharing contract: one instance per parameter replica; {@link #step} is called by all Hogwild workers of
 * that replica at once, <b>without locks</b>. Two workers may read the same {@code w[i]} and {@code v[i]},
 * and the later write wins (a lost update): the race is the algorithm (Recht et al., 2011), kept on purpose.
 */
public final class Sgd implements DenseOptimizer {
    private final float lr;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;
    private final int size;
    /** Momentum buffer, [size]; null for plain SGD. Racy by design (see class comment). */
    private final float[] velocity;

    /**
     * @param n           number of parameters this optimizer updates (the replica's size)
     * @param lr          learning rate, positive
     * @param momentum    in [0, 1); 0 is plain SGD and keeps no state
     * @param nesterov    Nesterov momentum; needs momentum &gt; 0
     * @param weightDecay L2 coefficient added to the gradient, zero or positive
     */
    public Sgd(int n, double lr, double momentum, boolean nesterov, double weightDecay) {
        Args.size("parameter count", n);
        this.lr = Args.positiveFinite("SGD learning rate", lr);
        this.momentum = Args.decay("SGD momentum", momentum);
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("Nesterov momentum needs a momentum above 0, got " + momentum);
        }
        this.nesterov = nesterov;
        this.weightDecay = Args.nonNegativeFinite("SGD weight decay", weightDecay);
        this.size = n;
        this.velocity = momentum == 0 ? null : new float[n];
    }

    /** Plain SGD: no momentum, no weight decay. */
    public Sgd(int n, double lr) {
        this(n, lr, 0, false, 0);
    }

    @Override
    public void step(float[] params, float[] grad, int n) {
        Args.stepLength(n, size, params, grad);
        final float lr = this.lr, mu = momentum, wd = weightDecay;
        final float[] v = velocity;
        if (v == null) {
            for (int i = 0; i < n; i++) params[i] -= lr * (grad[i] + wd * params[i]);
        } else if (nesterov) {
            for (int i = 0; i < n; i++) {
                float g = grad[i] + wd * params[i];
                float vi = mu * v[i] + g;
                v[i] = vi;
                params[i] -= lr * (g + mu * vi);
            }
        } else {
            for (int i = 0; i < n; i++) {
                float vi = mu * v[i] + grad[i] + wd * params[i];
                v[i] = vi;
                params[i] -= lr * vi;
            }
        }
    }

    /** {velocity} with momentum, empty without. The live array, not a copy: checkpoints copy it. */
    @Override
    public float[][] state() {
        return velocity == null ? new float[0][] : new float[][] {velocity};
    }

    public double lr() {
        return lr;
    }

    public double momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return weightDecay;
    }
}
