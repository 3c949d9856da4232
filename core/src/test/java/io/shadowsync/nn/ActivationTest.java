package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class ActivationTest {
    static final int N = 40;

    @Test
    void everyActivationMatchesFiniteDifferences() {
        for (Activation a : Activation.values()) {
            float[] x = GradCheck.random(N, 11, 2.0);
            for (int i = 0; i < N; i++) if (Math.abs(x[i]) < 0.01f) x[i] = 0.5f; // keep ReLU away from its kink
            float[] c = GradCheck.random(N, 12, 1.0);
            float[] y = new float[N];
            DoubleSupplier loss = () -> {
                a.forward(y, 0, x, 0, N);
                return GradCheck.weightedSum(c, y, 0, N);
            };
            loss.getAsDouble();
            float[] dx = c.clone();
            a.backward(dx, 0, dx, 0, y, 0, N); // in place, from the output
            GradCheck.check(a.id(), dx, 0, x, 0, N, loss);
        }
    }

    @Test
    void forwardValues() {
        float[] x = {-2f, 0f, 3f};
        float[] y = new float[3];
        Activation.RELU.forward(y, 0, x, 0, 3);
        assertEquals(3f, y[2]);
        assertEquals(0f, y[0]);
        Activation.SIGMOID.forward(y, 0, x, 0, 3);
        assertEquals(0.5f, y[1]);
        Activation.TANH.forward(y, 0, x, 0, 3);
        assertEquals((float) Math.tanh(3), y[2], 1e-7f);
    }

    @Test
    void parsesNamesAndRefusesOthers() {
        assertEquals(Activation.TANH, Activation.of("tanh"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.of("gelu"));
        assertEquals(true, e.getMessage().contains("gelu"));
    }
}
