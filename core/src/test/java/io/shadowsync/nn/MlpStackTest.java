package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class MlpStackTest {
    static final int B = 4;

    void checkStack(Activation act, boolean activateLast) {
        int[] widths = {6, 5, 7, 3};
        ParameterSet.Builder pb = new ParameterSet.Builder();
        MlpStack s = new MlpStack(pb, "mlp", widths, act, activateLast);
        float[] p = pb.build().data();
        s.init(p, 9);
        float[] x = GradCheck.random(B * 6, 1, 1.0);
        float[] c = GradCheck.random(B * 3, 2, 1.0);
        float[] y = new float[B * 3];
        MlpStack.Scratch sc = s.newScratch(B + 3);
        DoubleSupplier loss = () -> {
            s.forward(p, x, 0, B, sc, y, 0);
            return GradCheck.weightedSum(c, y, 0, B * 3);
        };
        loss.getAsDouble();
        float[] grad = new float[p.length];
        float[] dx = new float[B * 6];
        s.backward(p, grad, false, x, 0, y, 0, c.clone(), 0, B, sc, dx, 0);
        GradCheck.check(act + " params", grad, 0, p, 0, p.length, loss);
        GradCheck.check(act + " dx", dx, 0, x, 0, B * 6, loss);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        checkStack(Activation.TANH, false);
        checkStack(Activation.SIGMOID, true);
        checkStack(Activation.RELU, false);
    }

    @Test
    void namesLayersByPrefixAndIndex() {
        ParameterSet.Builder pb = new ParameterSet.Builder();
        MlpStack s = new MlpStack(pb, "bottom", new int[] {13, 64, 16}, Activation.RELU, true);
        ParameterSet ps = pb.build();
        assertEquals(2, s.depth());
        assertEquals(13 * 64 + 64 + 64 * 16 + 16, ps.size());
        assertEquals(64, ps.view("bottom.1.weight").shape()[1]);
    }
}
