package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinearTest {
    static final int B = 3, IN = 5, OUT = 4;

    @Test
    void forwardIsXTimesWTransposedPlusBias() {
        ParameterSet.Builder pb = new ParameterSet.Builder();
        Linear l = new Linear(pb, "fc", 2, 2);
        float[] p = pb.build().data();
        // W = [[1, 2], [3, 4]] (out×in), b = [10, 20]
        System.arraycopy(new float[] {1, 2, 3, 4}, 0, p, l.wOff, 4);
        p[l.bOff] = 10;
        p[l.bOff + 1] = 20;
        float[] y = new float[2];
        l.forward(y, 0, new float[] {1, 1}, 0, p, 1);
        assertArrayEquals(new float[] {13, 27}, y);
    }

    @Test
    void registersPyTorchShapedTensors() {
        ParameterSet.Builder pb = new ParameterSet.Builder();
        new Linear(pb, "fc", IN, OUT);
        ParameterSet ps = pb.build();
        assertArrayEquals(new int[] {OUT, IN}, ps.view("fc.weight").shape());
        assertArrayEquals(new int[] {OUT}, ps.view("fc.bias").shape());
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        ParameterSet.Builder pb = new ParameterSet.Builder();
        pb.add("before", 3); // the layer's tensors must not start at offset 0
        Linear l = new Linear(pb, "fc", IN, OUT);
        float[] p = pb.build().data();
        System.arraycopy(GradCheck.random(p.length, 1, 1.0), 0, p, 0, p.length);
        float[] x = GradCheck.random(B * IN + 2, 2, 1.0); // x starts at offset 2
        float[] c = GradCheck.random(B * OUT, 3, 1.0);
        float[] y = new float[B * OUT];
        java.util.function.DoubleSupplier loss = () -> {
            l.forward(y, 0, x, 2, p, B);
            return GradCheck.weightedSum(c, y, 0, B * OUT);
        };
        float[] grad = new float[p.length];
        java.util.Arrays.fill(grad, Float.NaN); // overwrite mode must not read these
        grad[0] = 7f;
        float[] dx = new float[B * IN + 1];
        l.backward(dx, 1, grad, false, c.clone(), 0, x, 2, p, B);
        GradCheck.check("dW", grad, l.wOff, p, l.wOff, OUT * IN, loss);
        GradCheck.check("db", grad, l.bOff, p, l.bOff, OUT, loss);
        GradCheck.check("dx", dx, 1, x, 2, B * IN, loss);
        assertEquals(7f, grad[0], "backward touched a tensor that is not its own");
    }

    @Test
    void accumulateAddsToTheGradientAndNullDxIsSkipped() {
        ParameterSet.Builder pb = new ParameterSet.Builder();
        Linear l = new Linear(pb, "fc", IN, OUT);
        float[] p = pb.build().data();
        System.arraycopy(GradCheck.random(p.length, 4, 1.0), 0, p, 0, p.length);
        float[] x = GradCheck.random(B * IN, 5, 1.0);
        float[] dy = GradCheck.random(B * OUT, 6, 1.0);
        float[] once = new float[p.length];
        l.backward(null, 0, once, false, dy, 0, x, 0, p, B);
        float[] twice = once.clone();
        l.backward(null, 0, twice, true, dy, 0, x, 0, p, B);
        for (int i = 0; i < p.length; i++) assertEquals(2 * once[i], twice[i], 1e-5f * (1 + Math.abs(once[i])));
    }

    @Test
    void initIsSeededBoundedAndBiasZero() {
        ParameterSet.Builder pb = new ParameterSet.Builder();
        Linear l = new Linear(pb, "fc", 50, 30);
        float[] a = pb.build().data();
        float[] b = a.clone();
        java.util.Arrays.fill(a, 1f);
        l.init(a, 42, true);
        l.init(b, 42, true);
        assertArrayEquals(a, b, "same seed must give the same values");
        float he = (float) Math.sqrt(6.0 / 50);
        boolean nonZero = false;
        for (int i = 0; i < 50 * 30; i++) {
            assertTrue(Math.abs(a[l.wOff + i]) <= he);
            nonZero |= a[l.wOff + i] != 0f;
        }
        assertTrue(nonZero);
        for (int i = 0; i < 30; i++) assertEquals(0f, a[l.bOff + i]);
        l.init(b, 43, true);
        assertTrue(a[l.wOff] != b[l.wOff], "another seed must give other values");
        l.init(b, 42, false);
        float xavier = (float) Math.sqrt(6.0 / 80);
        for (int i = 0; i < 50 * 30; i++) assertTrue(Math.abs(b[l.wOff + i]) <= xavier);
    }

    @Test
    void refusesNonPositiveSizes() {
        assertThrows(IllegalArgumentException.class, () -> new Linear(new ParameterSet.Builder(), "fc", 0, 3));
    }
}
