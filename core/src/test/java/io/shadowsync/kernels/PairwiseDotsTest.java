package io.shadowsync.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The SIMD kernels against their scalar twins (same sums, same order, FMA rounding apart) and the stride rule. */
class PairwiseDotsTest {
    @Test
    void simdPathMatchesScalarTwin() {
        for (int[] s : new int[][] {{27, 16, 128}, {27, 16, 61}, {2, 1, 1}, {5, 3, 9}, {8, 7, 17}, {9, 4, 33}}) {
            int F = s[0], D = s[1], B = s[2], ld = PairwiseDots.leadingDimension(B);
            String what = "F " + F + " D " + D + " B " + B;
            float[] u = random(PairwiseDots.blockedSize(F, D, B), F + D + B);
            float[] z1 = new float[PairwiseDots.pairs(F) * ld], z2 = new float[z1.length];
            PairwiseDots.forward(F, D, B, u, 0, z1, 0, ld);
            PairwiseDots.forwardScalar(F, D, B, u, 0, z2, 0, ld);
            for (int p = 0; p < PairwiseDots.pairs(F); p++) {
                for (int b = 0; b < B; b++) assertEquals(z2[p * ld + b], z1[p * ld + b], 1e-5f * D, "forward, " + what);
            }
            float[] dz = random(z1.length, 3);
            float[] d1 = new float[u.length], d2 = new float[u.length];
            PairwiseDots.backward(F, D, B, u, 0, dz, 0, ld, d1, 0, new float[PairwiseDots.backwardScratchSize(F)]);
            PairwiseDots.backwardScalar(F, D, B, u, 0, dz, 0, ld, d2, 0);
            for (int b = 0; b < B; b++) {
                for (int f = 0; f < F; f++) {
                    for (int d = 0; d < D; d++) {
                        int o = PairwiseDots.offset(F, D, b, f, d);
                        assertEquals(d2[o], d1[o], 1e-5f * F, "backward, " + what);
                    }
                }
            }
        }
    }

    @Test
    void leadingDimensionCoversThePaddedBatchAndAvoidsPowerOfTwoStrides() {
        for (int B = 1; B <= 300; B++) {
            int ld = PairwiseDots.leadingDimension(B);
            assertTrue(ld >= PairwiseDots.paddedBatch(B) && PairwiseDots.paddedBatch(B) >= B, "B " + B);
            assertTrue(ld % 64 != 0, "B " + B + " gives a stride of " + ld + " floats, a multiple of 256 bytes");
        }
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }
}
