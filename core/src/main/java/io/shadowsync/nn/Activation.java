package io.shadowsync.nn;

import io.shadowsync.kernels.Activations;

/**
 * Element-wise activation layers (ReLU, sigmoid, tanh) over the kernels in {@link Activations}.
 *
 * <p>Backward takes the forward <em>output</em>, so a layer may run in place ({@code out == inp}) and keep only
 * its output for the backward pass; {@code dinp} may alias {@code dout}. Stateless, shared by all workers.
 */
public enum Activation {
    RELU("relu"),
    SIGMOID("sigmoid"),
    TANH("tanh");

    private final String id;

    Activation(String id) {
        this.id = id;
    }

    /** The lower-case name used in specs and properties ("relu", "sigmoid", "tanh"). */
    public String id() {
        return id;
    }

    /** The activation called name ("relu", "sigmoid", "tanh"); throws naming the accepted values otherwise. */
    public static Activation of(String name) {
        for (Activation a : values()) {
            if (a.id.equals(name)) return a;
        }
        throw new IllegalArgumentException("activation must be one of relu, sigmoid, tanh; got '" + name + "'");
    }

    // out[n] = act(inp[n]); out may alias inp
    public void forward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        switch (this) {
            case RELU -> Activations.reluForward(out, outOff, inp, inpOff, n);
            case SIGMOID -> Activations.sigmoidForward(out, outOff, inp, inpOff, n);
            case TANH -> Activations.tanhForward(out, outOff, inp, inpOff, n);
        }
    }

    // dinp[n] = dout[n] · act'(·) expressed through the forward output out[n]; dinp may alias dout
    public void backward(float[] dinp, int dinpOff, float[] dout, int doutOff, float[] out, int outOff, int n) {
        switch (this) {
            case RELU -> Activations.reluBackward(dinp, dinpOff, dout, doutOff, out, outOff, n);
            case SIGMOID -> Activations.sigmoidBackward(dinp, dinpOff, dout, doutOff, out, outOff, n);
            case TANH -> Activations.tanhBackward(dinp, dinpOff, dout, doutOff, out, outOff, n);
        }
    }
}
