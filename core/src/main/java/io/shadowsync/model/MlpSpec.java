package io.shadowsync.model;

import io.shadowsync.nn.Activation;
import io.shadowsync.nn.MlpStack;
import io.shadowsync.nn.ModelSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A multilayer perceptron on dense features ({@link MlpModel}).
 *
 * @param inputs     dense features per example
 * @param hidden     hidden layer widths (may be empty: a linear model); copied, never shared
 * @param outputs    classes for "multiclass" (≥ 2), 1 for "binary" and "regression"
 * @param activation "relu", "tanh" or "sigmoid", after every hidden layer
 * @param task       "multiclass" (softmax cross-entropy), "binary" (one logit, BCE) or "regression" (MSE)
 */
public record MlpSpec(int inputs, int[] hidden, int outputs, String activation, String task) implements ModelSpec {
    public static final String KIND = "mlp";
    /** The most hidden layers an MLP (or either DLRM stack) takes: deeper is a mistake, not a model. */
    public static final int MAX_HIDDEN_LAYERS = 1000;
    private static final Set<String> KEYS = Set.of("kind", "inputs", "hidden", "outputs", "activation", "task");

    public MlpSpec {
        if (inputs < 1) throw new IllegalArgumentException("an MLP needs at least one input, got inputs=" + inputs);
        if (hidden == null) throw new IllegalArgumentException("hidden widths must be given (an empty array for none)");
        hidden = hidden.clone();
        if (hidden.length > MAX_HIDDEN_LAYERS) {
            throw new IllegalArgumentException("an MLP takes at most " + MAX_HIDDEN_LAYERS + " hidden layers, got " + hidden.length + " hidden widths");
        }
        for (int h : hidden) {
            if (h < 1) throw new IllegalArgumentException("hidden widths must be positive, got " + Arrays.toString(hidden));
        }
        if (activation == null) throw new IllegalArgumentException("activation must be relu, tanh or sigmoid, got null");
        Activation.of(activation);
        if (task == null) throw new IllegalArgumentException("task must be multiclass, binary or regression, got null");
        switch (task) {
            case "multiclass" -> {
                if (outputs < 2) throw new IllegalArgumentException("a multiclass MLP needs outputs ≥ 2 classes, got " + outputs);
            }
            case "binary", "regression" -> {
                if (outputs != 1) throw new IllegalArgumentException("a " + task + " MLP has exactly 1 output (one label per example), got " + outputs);
            }
            default -> throw new IllegalArgumentException("task must be multiclass, binary or regression, got '" + task + "'");
        }
    }

    /** The PyTorch peer's Fashion-MNIST MLP: 784-256-128-10, ReLU, softmax cross-entropy. */
    public static MlpSpec fashionMnist() {
        return new MlpSpec(784, new int[] {256, 128}, 10, "relu", "multiclass");
    }

    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public MlpModel build() {
        return new MlpModel(this);
    }

    private int[] widths() {
        return MlpStack.widths(inputs, hidden, outputs);
    }

    @Override
    public long denseParameters() {
        return MlpStack.parameters(widths());
    }

    @Override
    public long[][] embeddingShapes() {
        return new long[0][];
    }

    /** MlpModel's workspace: the dense gradient, outputs, logits and their gradient, int labels, the stack's scratch. */
    @Override
    public long workspaceBytes(long maxBatch) {
        long perExample = 3L * outputs + 1 + MlpStack.scratchFloatsPerExample(widths());
        return (long) (4.0 * denseParameters() + 4.0 * maxBatch * perExample); // a double cast saturates, never wraps
    }

    @Override
    public long widestBufferPerExample() {
        return MlpStack.maxWidth(widths());
    }

    @Override
    public Map<String, String> toProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kind", KIND);
        p.put("inputs", Integer.toString(inputs));
        p.put("hidden", Props.ints(hidden));
        p.put("outputs", Integer.toString(outputs));
        p.put("activation", activation);
        p.put("task", task);
        return p;
    }

    /** Inverse of {@link #toProperties}; a missing, invalid or unknown key fails naming it. */
    public static MlpSpec fromProperties(Map<String, String> p) {
        Props.kind(p, KIND);
        Props.onlyKeys(p, KEYS);
        return new MlpSpec(Props.integer(p, "inputs"), Props.ints(p, "hidden"), Props.integer(p, "outputs"),
                Props.str(p, "activation"), Props.str(p, "task"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MlpSpec s && s.inputs == inputs && Arrays.equals(s.hidden, hidden) && s.outputs == outputs
                && s.activation.equals(activation) && s.task.equals(task);
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputs, Arrays.hashCode(hidden), outputs, activation, task);
    }

    @Override
    public String toString() {
        return "MlpSpec[inputs=" + inputs + ", hidden=" + Arrays.toString(hidden) + ", outputs=" + outputs
                + ", activation=" + activation + ", task=" + task + "]";
    }
}
