package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class DotInteractionTest {
    @Test
    void pairsComeInTrilIndicesOrder() {
        // F = 4 one-dimensional vectors t = [2, 3, 5, 7]: pairs (1,0) (2,0) (2,1) (3,0) (3,1) (3,2)
        DotInteraction di = new DotInteraction(4, 1);
        float[] z = new float[6];
        di.forward(z, 0, 6, new float[] {2, 3, 5, 7}, 0, 4, 1, 1);
        assertArrayEquals(new float[] {6, 10, 15, 14, 21, 35}, z);
        assertEquals(6, di.pairs());
    }

    @Test
    void fastMatchesNaiveForDlrmShapeAndOddDims() {
        for (int dim : new int[] {16, 5, 1, 19}) {
            int F = 27, B = 3;
            DotInteraction di = new DotInteraction(F, dim);
            float[] t = GradCheck.random(B * F * dim, dim, 1.0);
            int ldz = di.pairs() + 2;
            float[] z1 = new float[B * ldz + 1], z2 = new float[B * ldz + 1];
            di.forward(z1, 1, ldz, t, 0, F * dim, dim, B);
            di.forwardNaive(z2, 1, ldz, t, 0, F * dim, dim, B);
            assertArrayEquals(z2, z1, 1e-4f, "forward, dim " + dim);
            float[] dz = GradCheck.random(B * ldz + 1, 7, 1.0);
            float[] d1 = new float[t.length], d2 = new float[t.length];
            java.util.Arrays.fill(d1, Float.NaN); // backward writes, not adds
            di.backward(d1, dz, 1, ldz, t, 0, F * dim, dim, B);
            di.backwardNaive(d2, dz, 1, ldz, t, 0, F * dim, dim, B);
            assertArrayEquals(d2, d1, 1e-4f, "backward, dim " + dim);
        }
    }

    @Test
    void fieldMajorAndExampleMajorLayoutsAgree() {
        int F = 5, D = 3, B = 4;
        DotInteraction di = new DotInteraction(F, D);
        float[] ex = GradCheck.random(B * F * D, 3, 1.0); // [B][F][D]
        float[] fm = new float[ex.length];                // [F][B][D]
        for (int b = 0; b < B; b++) for (int f = 0; f < F; f++) System.arraycopy(ex, (b * F + f) * D, fm, (f * B + b) * D, D);
        float[] z1 = new float[B * di.pairs()], z2 = new float[B * di.pairs()];
        di.forward(z1, 0, di.pairs(), ex, 0, F * D, D, B);
        di.forward(z2, 0, di.pairs(), fm, 0, D, B * D, B);
        assertArrayEquals(z1, z2);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        int F = 6, D = 10, B = 2;
        DotInteraction di = new DotInteraction(F, D);
        float[] t = GradCheck.random(F * B * D, 5, 1.0);
        float[] c = GradCheck.random(B * di.pairs(), 6, 1.0);
        float[] z = new float[B * di.pairs()];
        DoubleSupplier loss = () -> {
            di.forward(z, 0, di.pairs(), t, 0, D, B * D, B);
            return GradCheck.weightedSum(c, z, 0, z.length);
        };
        float[] dt = new float[t.length];
        di.backward(dt, c, 0, di.pairs(), t, 0, D, B * D, B);
        GradCheck.check("dt", dt, 0, t, 0, t.length, loss);
    }
}
