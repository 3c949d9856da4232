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

    /** The transposed-input entry points compute what the row-major ones compute on the transposed input. */
    @Test
    void transposedInputMatchesRowMajorInput() {
        int[] widths = {6, 5, 3};
        ParameterSet.Builder pb = new ParameterSet.Builder();
        MlpStack s = new MlpStack(pb, "mlp", widths, Activation.RELU, false);
        float[] p = pb.build().data();
        s.init(p, 4);
        int ldx = B + 3, xOff = 2;
        float[] x = GradCheck.random(B * 6, 1, 1.0);
        float[] xT = new float[xOff + 6 * ldx];
        java.util.Arrays.fill(xT, Float.NaN); // the padding columns must never be read
        for (int b = 0; b < B; b++) for (int i = 0; i < 6; i++) xT[xOff + i * ldx + b] = x[b * 6 + i];
        float[] y1 = new float[B * 3], y2 = new float[B * 3];
        MlpStack.Scratch s1 = s.newScratch(B), s2 = s.newScratch(B);
        s.forward(p, x, 0, B, s1, y1, 0);
        s.forwardTransposedInput(p, xT, xOff, ldx, B, s2, y2, 0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(y1, y2, 1e-6f, "forward");
        float[] dy1 = GradCheck.random(B * 3, 2, 1.0), dy2 = dy1.clone();
        float[] g1 = new float[p.length], g2 = new float[p.length];
        float[] dx = new float[B * 6], dxT = new float[xOff + 6 * ldx];
        s.backward(p, g1, false, x, 0, y1, 0, dy1, 0, B, s1, dx, 0);
        s.backwardTransposedInput(p, g2, false, xT, xOff, ldx, y2, 0, dy2, 0, B, s2, dxT, xOff);
        org.junit.jupiter.api.Assertions.assertArrayEquals(g1, g2, 1e-6f, "parameter gradients");
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < 6; i++) assertEquals(dx[b * 6 + i], dxT[xOff + i * ldx + b], 1e-6f, "dx[" + b + "][" + i + "]");
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> s.forwardTransposedInput(p, xT, xOff, B - 1, B, s2, y2, 0), "a row stride below the batch");
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

    /** The builder finds a duplicate name through a set (linear construction), and still refuses it. */
    @Test
    void aDuplicateTensorNameIsRefused() {
        ParameterSet.Builder b = new ParameterSet.Builder();
        b.add("a.w", 2, 3);
        b.add("b.w", 4);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> b.add("a.w", 1));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("duplicate parameter tensor name 'a.w'"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertEquals(10, b.build().size());
    }
}
