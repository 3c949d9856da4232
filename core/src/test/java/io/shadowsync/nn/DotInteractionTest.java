package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class DotInteractionTest {
    @Test
    void pairsComeInTrilIndicesOrder() {
        // F = 4 one-dimensional vectors t = [2, 3, 5, 7] of one example: pairs (1,0) (2,0) (2,1) (3,0) (3,1) (3,2)
        DotInteraction di = new DotInteraction(4, 1);
        int ld = DotInteraction.leadingDimension(1);
        float[] t = new float[di.blockedSize(1)];
        float[] v = {2, 3, 5, 7};
        for (int f = 0; f < 4; f++) t[di.offset(0, f, 0)] = v[f];
        float[] z = new float[6 * ld];
        di.forward(z, 0, ld, t, 0, 1);
        float[] first = new float[6];
        for (int p = 0; p < 6; p++) first[p] = z[p * ld];
        assertArrayEquals(new float[] {6, 10, 15, 14, 21, 35}, first);
        assertEquals(6, di.pairs());
    }

    @Test
    void blockedOffsetsAreABijectionOntoTheBuffer() {
        DotInteraction di = new DotInteraction(5, 3);
        int B = 19;
        boolean[] seen = new boolean[di.blockedSize(B)];
        for (int b = 0; b < B; b++) {
            for (int f = 0; f < 5; f++) {
                for (int d = 0; d < 3; d++) {
                    int o = di.offset(b, f, d);
                    assertTrue(!seen[o], "offset " + o + " taken twice");
                    seen[o] = true;
                }
            }
        }
    }

    @Test
    void fastMatchesNaiveForDlrmShapeAndOddShapes() {
        for (int dim : new int[] {16, 5, 1, 3, 8}) {
            for (int fields : new int[] {27, 2, 3, 4, 5, 8}) {
                for (int batch : new int[] {1, 7, 19}) compareWithNaive(fields, dim, batch);
            }
        }
    }

    /** Kernels and naive references agree on examples 0..B−1, and leave the arrays outside their rows alone. */
    static void compareWithNaive(int fields, int dim, int batch) {
        String what = "F " + fields + " D " + dim + " B " + batch;
        DotInteraction di = new DotInteraction(fields, dim);
        int ld = DotInteraction.leadingDimension(batch), tOff = 3, zOff = 2;
        float[] t = GradCheck.random(tOff + di.blockedSize(batch), dim + batch, 1.0);
        float[] z1 = new float[zOff + di.pairs() * ld + 1], z2 = z1.clone();
        Arrays.fill(z1, -9f);
        Arrays.fill(z2, -9f);
        di.forward(z1, zOff, ld, t, tOff, batch);
        di.forwardNaive(z2, zOff, ld, t, tOff, batch);
        for (int p = 0; p < di.pairs(); p++) {
            for (int b = 0; b < batch; b++) {
                int k = zOff + p * ld + b;
                assertEquals(z2[k], z1[k], 1e-5f * dim, "forward pair " + p + " example " + b + ", " + what);
            }
        }
        assertEquals(-9f, z1[0]);
        assertEquals(-9f, z1[z1.length - 1], "forward wrote past its last row, " + what);
        float[] dz = GradCheck.random(zOff + di.pairs() * ld, 7, 1.0);
        float[] d1 = new float[t.length], d2 = new float[t.length];
        Arrays.fill(d1, Float.NaN); // backward writes, not adds
        di.backward(d1, tOff, dz, zOff, ld, t, tOff, batch, new float[di.scratchSize()]);
        di.backwardNaive(d2, tOff, dz, zOff, ld, t, tOff, batch);
        for (int b = 0; b < batch; b++) {
            for (int f = 0; f < fields; f++) {
                for (int d = 0; d < dim; d++) {
                    int k = tOff + di.offset(b, f, d);
                    assertEquals(d2[k], d1[k], 1e-5f * fields, "backward field " + f + " dim " + d + " example " + b + ", " + what);
                }
            }
        }
        assertTrue(Float.isNaN(d1[0]) && Float.isNaN(d1[2]), "backward wrote before its buffer, " + what);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        int F = 6, D = 10, B = 3;
        DotInteraction di = new DotInteraction(F, D);
        int ld = DotInteraction.leadingDimension(B);
        float[] t = GradCheck.random(di.blockedSize(B), 5, 1.0);
        float[] c = GradCheck.random(di.pairs() * ld, 6, 1.0);
        for (int p = 0; p < di.pairs(); p++) Arrays.fill(c, p * ld + B, (p + 1) * ld, 0f); // padding lanes carry no loss
        float[] z = new float[di.pairs() * ld];
        DoubleSupplier loss = () -> {
            di.forward(z, 0, ld, t, 0, B);
            return GradCheck.weightedSum(c, z, 0, z.length);
        };
        float[] dt = new float[t.length];
        di.backward(dt, 0, c, 0, ld, t, 0, B, new float[di.scratchSize()]);
        for (int b = 0; b < B; b++) {
            for (int f = 0; f < F; f++) {
                for (int d = 0; d < D; d++) {
                    int o = di.offset(b, f, d);
                    GradCheck.check("dt[" + b + ", " + f + ", " + d + "]", dt, o, t, o, 1, loss);
                }
            }
        }
    }

    @Test
    void refusesARowStrideNarrowerThanTheBatchAndTooLittleScratch() {
        DotInteraction di = new DotInteraction(3, 2);
        assertThrows(IllegalArgumentException.class, () -> di.forward(new float[100], 0, 4, new float[100], 0, 5));
        assertThrows(IllegalArgumentException.class, () -> di.backward(new float[100], 0, new float[100], 0, 8, new float[100], 0, 5, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> new DotInteraction(1, 4));
    }
}
