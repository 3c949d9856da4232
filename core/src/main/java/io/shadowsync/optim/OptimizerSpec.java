package io.shadowsync.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which dense optimizer to use and its settings: immutable, validated at construction, so a bad job file
 * fails before training starts. Build one with {@link #of} and the withers, then {@link #dense} makes one
 * optimizer per parameter replica.
 * <pre>
 *   OptimizerSpec spec = OptimizerSpec.of("sgd", 0.05).withMomentum(0.9).withNesterov(true);
 *   DenseOptimizer opt = spec.dense(replica.size());
 * </pre>
 *
 * @param name               "sgd", "adagrad" or "adam"
 * @param lr                 learning rate, positive
 * @param momentum           SGD momentum in [0, 1); must be 0 for the others (Adam's is beta1)
 * @param nesterov           SGD Nesterov momentum (needs momentum &gt; 0); false for the others
 * @param beta1              Adam first-moment decay in [0, 1)
 * @param beta2              Adam second-moment decay in [0, 1)
 * @param eps                Adagrad/Adam denominator term, positive (unused by SGD)
 * @param weightDecay        L2 coefficient, zero or positive (all three)
 * @param initialAccumulator Adagrad's starting sum of squares, zero or positive; must be 0 for the others
 */
public record OptimizerSpec(String name, double lr, double momentum, boolean nesterov, double beta1, double beta2,
                            double eps, double weightDecay, double initialAccumulator) {
    /** The valid names, in the order messages list them. */
    public static final List<String> NAMES = List.of("sgd", "adagrad", "adam");

    public OptimizerSpec {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown optimizer '" + name + "'; valid: " + String.join(", ", NAMES));
        }
        Args.positiveFinite(name + " learning rate", lr);
        Args.decay("momentum", momentum);
        if (!name.equals("sgd") && momentum != 0) {
            throw new IllegalArgumentException("momentum applies to sgd only, got " + momentum + " for " + name
                    + (name.equals("adam") ? " (Adam's momentum is beta1)" : ""));
        }
        if (nesterov && (!name.equals("sgd") || momentum == 0)) {
            throw new IllegalArgumentException("Nesterov momentum needs sgd with a momentum above 0, got " + name
                    + " with momentum " + momentum);
        }
        Args.decay("beta1", beta1);
        Args.decay("beta2", beta2);
        Args.positiveFinite("eps", eps);
        Args.nonNegativeFinite("weight decay", weightDecay);
        Args.nonNegativeFinite("initial accumulator", initialAccumulator);
        if (!name.equals("adagrad") && initialAccumulator != 0) {
            throw new IllegalArgumentException("an initial accumulator applies to adagrad only, got "
                    + initialAccumulator + " for " + name);
        }
    }

    /**
     * The named optimizer at learning rate lr with the usual defaults: no momentum, no weight decay,
     * beta1 0.9, beta2 0.999, eps 1e-8 (1e-10 for Adagrad, as in PyTorch), initial accumulator 0.
     */
    public static OptimizerSpec of(String name, double lr) {
        double eps = "adagrad".equals(name) ? 1e-10 : 1e-8;
        return new OptimizerSpec(name, lr, 0, false, 0.9, 0.999, eps, 0, 0);
    }

    public OptimizerSpec withLr(double v) {
        return new OptimizerSpec(name, v, momentum, nesterov, beta1, beta2, eps, weightDecay, initialAccumulator);
    }

    public OptimizerSpec withMomentum(double v) {
        return new OptimizerSpec(name, lr, v, nesterov, beta1, beta2, eps, weightDecay, initialAccumulator);
    }

    /** Set the momentum first: Nesterov without momentum is refused. */
    public OptimizerSpec withNesterov(boolean v) {
        return new OptimizerSpec(name, lr, momentum, v, beta1, beta2, eps, weightDecay, initialAccumulator);
    }

    public OptimizerSpec withBetas(double b1, double b2) {
        return new OptimizerSpec(name, lr, momentum, nesterov, b1, b2, eps, weightDecay, initialAccumulator);
    }

    public OptimizerSpec withEps(double v) {
        return new OptimizerSpec(name, lr, momentum, nesterov, beta1, beta2, v, weightDecay, initialAccumulator);
    }

    public OptimizerSpec withWeightDecay(double v) {
        return new OptimizerSpec(name, lr, momentum, nesterov, beta1, beta2, eps, v, initialAccumulator);
    }

    public OptimizerSpec withInitialAccumulator(double v) {
        return new OptimizerSpec(name, lr, momentum, nesterov, beta1, beta2, eps, weightDecay, v);
    }

    /** A new optimizer, with zeroed state, for a replica of n parameters. */
    public DenseOptimizer dense(int n) {
        return switch (name) {
            case "sgd" -> new Sgd(n, lr, momentum, nesterov, weightDecay);
            case "adagrad" -> new Adagrad(n, lr, eps, initialAccumulator, weightDecay);
            case "adam" -> new Adam(n, lr, beta1, beta2, eps, weightDecay);
            default -> throw new IllegalStateException("unreachable: name validated as one of " + NAMES);
        };
    }

    /** The settings that apply to this optimizer, in order, for run summaries and model provenance. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("lr", lr);
        switch (name) {
            case "sgd" -> {
                m.put("momentum", momentum);
                m.put("nesterov", nesterov);
            }
            case "adagrad" -> {
                m.put("eps", eps);
                m.put("initialAccumulator", initialAccumulator);
            }
            default -> {
                m.put("beta1", beta1);
                m.put("beta2", beta2);
                m.put("eps", eps);
            }
        }
        m.put("weightDecay", weightDecay);
        return m;
    }
}
