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
        di.forward(z, 0, 6, new float[] {2, 3, 5, 7}, 0, 4, 1, 1, new float[di.scratchSize()]);
        assertArrayEquals(new float[] {6, 10, 15, 14, 21, 35}, z);
        assertEquals(6, di.pairs());
    }

    @Test
    void fastMatchesNaiveForDlrmShapeAndOddShapes() {
        for (int dim : new int[] {16, 5, 1, 19, 8, 24}) {
            for (int fields : new int[] {27, 2, 3, 4, 5, 9, 17}) {
                compareWithNaive(fields, dim);
            }
        }
    }

    /** Fast and naive kernels agree on an example-major batch of 3 with ldz wider than the pairs. */
    static void compareWithNaive(int fields, int dim) {
        int batch = 3;
        String what = "F " + fields + " dim " + dim;
        DotInteraction di = new DotInteraction(fields, dim);
        float[] scratch = new float[di.scratchSize()];
        float[] t = GradCheck.random(batch * fields * dim, dim, 1.0);
        int ldz = di.pairs() + 2;
        float[] z1 = new float[batch * ldz + 1], z2 = new float[batch * ldz + 1];
        di.forward(z1, 1, ldz, t, 0, fields * dim, dim, batch, scratch);
        di.forwardNaive(z2, 1, ldz, t, 0, fields * dim, dim, batch);
        assertArrayEquals(z2, z1, 1e-4f, "forward, " + what);
        float[] dz = GradCheck.random(batch * ldz + 1, 7, 1.0);
        float[] d1 = new float[t.length], d2 = new float[t.length];
        java.util.Arrays.fill(d1, Float.NaN); // backward writes, not adds
        di.backward(d1, dz, 1, ldz, t, 0, fields * dim, dim, batch, scratch);
        di.backwardNaive(d2, dz, 1, ldz, t, 0, fields * dim, dim, batch);
        assertArrayEquals(d2, d1, 1e-4f, "backward, " + what);
    }

    @Test
    void fieldMajorAndExampleMajorLayoutsAgree() {
        int F = 5, D = 3, B = 4;
        DotInteraction di = new DotInteraction(F, D);
        float[] ex = GradCheck.random(B * F * D, 3, 1.0); // [B][F][D]
        float[] fm = new float[ex.length];                // [F][B][D]
        for (int b = 0; b < B; b++) for (int f = 0; f < F; f++) System.arraycopy(ex, (b * F + f) * D, fm, (f * B + b) * D, D);
        float[] z1 = new float[B * di.pairs()], z2 = new float[B * di.pairs()];
        di.forward(z1, 0, di.pairs(), ex, 0, F * D, D, B, new float[di.scratchSize()]);
        di.forward(z2, 0, di.pairs(), fm, 0, D, B * D, B, new float[di.scratchSize()]);
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
            di.forward(z, 0, di.pairs(), t, 0, D, B * D, B, new float[di.scratchSize()]);
            return GradCheck.weightedSum(c, z, 0, z.length);
        };
        float[] dt = new float[t.length];
        di.backward(dt, c, 0, di.pairs(), t, 0, D, B * D, B, new float[di.scratchSize()]);
        GradCheck.check("dt", dt, 0, t, 0, t.length, loss);
    }
}
