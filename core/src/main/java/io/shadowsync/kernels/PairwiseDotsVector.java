package io.shadowsync.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API path of {@link PairwiseDots}: each SIMD lane is one example, so a strip of L examples is
 * computed at once from its contiguous block of F·D vectors. Backward first copies the strip's pair
 * gradients out of the strided pair matrix into a contiguous scratch, so that both of its inputs are read
 * from L1. Loaded only behind {@link Vec#SIMD}.
 *
 * <p>Register blocking keeps eight independent FMA chains busy (an FMA takes about four cycles and two
 * issue per cycle): forward computes two rows i, i+1 of the pair triangle against four j at a time (six
 * loads per eight FMAs), backward two output vectors i, i+1 times four dimensions d (six loads per eight
 * FMAs). Blocks that run past the triangle or past D repeat their last index instead of branching: they
 * compute and store the same value twice.
 */
final class PairwiseDotsVector {
    private PairwiseDotsVector() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    // u blocked by strips of L examples (see PairwiseDots); z[p][b] with row stride ldz
    static void forward(int F, int D, int B, float[] u, int uOff, float[] z, int zOff, int ldz) {
        final int fs = D * L, block = F * fs;
        for (int b0 = 0, base = uOff; b0 < B; b0 += L, base += block) {
            int i = 1;
            for (; i + 1 < F; i += 2) {
                int ua = base + i * fs, ub = ua + fs;
                int za = zOff + (i * (i - 1) / 2) * ldz + b0, zb = zOff + ((i + 1) * i / 2) * ldz + b0;
                for (int j0 = 0; j0 < i; j0 += 4) forwardTwoRows(u, ua, ub, base, fs, i, j0, z, za, zb, ldz);
                // pair (i+1, i), the one row i+1 has beyond row i
                FloatVector s = FloatVector.zero(S);
                for (int o = 0; o < fs; o += L) s = FloatVector.fromArray(S, u, ua + o).fma(FloatVector.fromArray(S, u, ub + o), s);
                s.intoArray(z, zb + i * ldz);
            }
            if (i < F) {
                int ua = base + i * fs, za = zOff + (i * (i - 1) / 2) * ldz + b0;
                for (int j0 = 0; j0 < i; j0 += 4) forwardOneRow(u, ua, base, fs, i, j0, z, za, ldz);
            }
        }
    }

    // z[row a, j], z[row b, j] for j = j0..j0+3 (clamped to i−1): 8 accumulators, d ascending
    private static void forwardTwoRows(float[] u, int ua, int ub, int base, int fs, int i, int j0,
                                       float[] z, int za, int zb, int ld) {
        int j1 = Math.min(j0 + 1, i - 1), j2 = Math.min(j0 + 2, i - 1), j3 = Math.min(j0 + 3, i - 1);
        int u0 = base + j0 * fs, u1 = base + j1 * fs, u2 = base + j2 * fs, u3 = base + j3 * fs;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        for (int o = 0; o < fs; o += L) {
            FloatVector x = FloatVector.fromArray(S, u, ua + o), y = FloatVector.fromArray(S, u, ub + o);
            FloatVector v0 = FloatVector.fromArray(S, u, u0 + o), v1 = FloatVector.fromArray(S, u, u1 + o);
            FloatVector v2 = FloatVector.fromArray(S, u, u2 + o), v3 = FloatVector.fromArray(S, u, u3 + o);
            a0 = x.fma(v0, a0);
            a1 = x.fma(v1, a1);
            a2 = x.fma(v2, a2);
            a3 = x.fma(v3, a3);
            c0 = y.fma(v0, c0);
            c1 = y.fma(v1, c1);
            c2 = y.fma(v2, c2);
            c3 = y.fma(v3, c3);
        }
        // highest j first: a clamped duplicate is overwritten by the same value
        a3.intoArray(z, za + j3 * ld);
        a2.intoArray(z, za + j2 * ld);
        a1.intoArray(z, za + j1 * ld);
        a0.intoArray(z, za + j0 * ld);
        c3.intoArray(z, zb + j3 * ld);
        c2.intoArray(z, zb + j2 * ld);
        c1.intoArray(z, zb + j1 * ld);
        c0.intoArray(z, zb + j0 * ld);
    }

    private static void forwardOneRow(float[] u, int ua, int base, int fs, int i, int j0, float[] z, int za, int ld) {
        int j1 = Math.min(j0 + 1, i - 1), j2 = Math.min(j0 + 2, i - 1), j3 = Math.min(j0 + 3, i - 1);
        int u0 = base + j0 * fs, u1 = base + j1 * fs, u2 = base + j2 * fs, u3 = base + j3 * fs;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int o = 0; o < fs; o += L) {
            FloatVector x = FloatVector.fromArray(S, u, ua + o);
            a0 = x.fma(FloatVector.fromArray(S, u, u0 + o), a0);
            a1 = x.fma(FloatVector.fromArray(S, u, u1 + o), a1);
            a2 = x.fma(FloatVector.fromArray(S, u, u2 + o), a2);
            a3 = x.fma(FloatVector.fromArray(S, u, u3 + o), a3);
        }
        a3.intoArray(z, za + j3 * ld);
        a2.intoArray(z, za + j2 * ld);
        a1.intoArray(z, za + j1 * ld);
        a0.intoArray(z, za + j0 * ld);
    }

    // du blocked like u; dz[p][b] with row stride lddz, packed strip by strip into sg [pairs × L]
    static void backward(int F, int D, int B, float[] u, int uOff, float[] dz, int dzOff, int lddz, float[] du, int duOff, float[] sg) {
        final int fs = D * L, block = F * fs, P = F * (F - 1) / 2;
        for (int b0 = 0, base = 0; b0 < B; b0 += L, base += block) {
            for (int p = 0; p < P; p++) FloatVector.fromArray(S, dz, dzOff + p * lddz + b0).intoArray(sg, p * L);
            int i = 0;
            for (; i + 1 < F; i += 2) {
                for (int d0 = 0; d0 < D; d0 += 4) backwardTwoRows(F, D, u, uOff + base, fs, L, sg, 0, du, duOff + base, i, d0);
            }
            if (i < F) {
                for (int d0 = 0; d0 < D; d0 += 4) backwardOneRow(F, D, u, uOff + base, fs, L, sg, 0, du, duOff + base, i, d0);
            }
        }
    }

    // du[a = i][d], du[b = i+1][d] for d = d0..d0+3 (clamped to D−1): Σ over j ascending, skipping the row itself
    private static void backwardTwoRows(int F, int D, float[] u, int base, int fs, int ld, float[] dz, int g0,
                                        float[] du, int out, int i, int d0) {
        int e1 = Math.min(d0 + 1, D - 1) - d0, e2 = Math.min(d0 + 2, D - 1) - d0, e3 = Math.min(d0 + 3, D - 1) - d0;
        int o1 = e1 * ld, o2 = e2 * ld, o3 = e3 * ld;
        int dOff = base + d0 * ld;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        int pa = g0 + (i * (i - 1) / 2) * ld, pb = g0 + ((i + 1) * i / 2) * ld;
        for (int j = 0; j < i; j++) { // pairs (i, j) and (i+1, j): consecutive rows of dz
            int uj = dOff + j * fs;
            FloatVector v0 = FloatVector.fromArray(S, u, uj), v1 = FloatVector.fromArray(S, u, uj + o1);
            FloatVector v2 = FloatVector.fromArray(S, u, uj + o2), v3 = FloatVector.fromArray(S, u, uj + o3);
            FloatVector g = FloatVector.fromArray(S, dz, pa + j * ld), h = FloatVector.fromArray(S, dz, pb + j * ld);
            a0 = g.fma(v0, a0);
            a1 = g.fma(v1, a1);
            a2 = g.fma(v2, a2);
            a3 = g.fma(v3, a3);
            c0 = h.fma(v0, c0);
            c1 = h.fma(v1, c1);
            c2 = h.fma(v2, c2);
            c3 = h.fma(v3, c3);
        }
        FloatVector gab = FloatVector.fromArray(S, dz, pb + i * ld); // pair (i+1, i)
        int ua = dOff + i * fs, ub = ua + fs;
        c0 = gab.fma(FloatVector.fromArray(S, u, ua), c0); // row i+1, j = i
        c1 = gab.fma(FloatVector.fromArray(S, u, ua + o1), c1);
        c2 = gab.fma(FloatVector.fromArray(S, u, ua + o2), c2);
        c3 = gab.fma(FloatVector.fromArray(S, u, ua + o3), c3);
        a0 = gab.fma(FloatVector.fromArray(S, u, ub), a0); // row i, j = i+1
        a1 = gab.fma(FloatVector.fromArray(S, u, ub + o1), a1);
        a2 = gab.fma(FloatVector.fromArray(S, u, ub + o2), a2);
        a3 = gab.fma(FloatVector.fromArray(S, u, ub + o3), a3);
        for (int j = i + 2; j < F; j++) { // pairs (j, i) and (j, i+1): adjacent rows of dz
            int uj = dOff + j * fs, p = g0 + (j * (j - 1) / 2 + i) * ld;
            FloatVector v0 = FloatVector.fromArray(S, u, uj), v1 = FloatVector.fromArray(S, u, uj + o1);
            FloatVector v2 = FloatVector.fromArray(S, u, uj + o2), v3 = FloatVector.fromArray(S, u, uj + o3);
            FloatVector g = FloatVector.fromArray(S, dz, p), h = FloatVector.fromArray(S, dz, p + ld);
            a0 = g.fma(v0, a0);
            a1 = g.fma(v1, a1);
            a2 = g.fma(v2, a2);
            a3 = g.fma(v3, a3);
            c0 = h.fma(v0, c0);
            c1 = h.fma(v1, c1);
            c2 = h.fma(v2, c2);
            c3 = h.fma(v3, c3);
        }
        int oa = out + i * fs + d0 * ld, ob = oa + fs;
        a3.intoArray(du, oa + o3);
        a2.intoArray(du, oa + o2);
        a1.intoArray(du, oa + o1);
        a0.intoArray(du, oa);
        c3.intoArray(du, ob + o3);
        c2.intoArray(du, ob + o2);
        c1.intoArray(du, ob + o1);
        c0.intoArray(du, ob);
    }

    private static void backwardOneRow(int F, int D, float[] u, int base, int fs, int ld, float[] dz, int g0,
                                       float[] du, int out, int i, int d0) {
        int o1 = (Math.min(d0 + 1, D - 1) - d0) * ld, o2 = (Math.min(d0 + 2, D - 1) - d0) * ld, o3 = (Math.min(d0 + 3, D - 1) - d0) * ld;
        int dOff = base + d0 * ld;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < F; j++) {
            if (j == i) continue;
            int p = g0 + (i > j ? i * (i - 1) / 2 + j : j * (j - 1) / 2 + i) * ld, uj = dOff + j * fs;
            FloatVector g = FloatVector.fromArray(S, dz, p);
            a0 = g.fma(FloatVector.fromArray(S, u, uj), a0);
            a1 = g.fma(FloatVector.fromArray(S, u, uj + o1), a1);
            a2 = g.fma(FloatVector.fromArray(S, u, uj + o2), a2);
            a3 = g.fma(FloatVector.fromArray(S, u, uj + o3), a3);
        }
        int oa = out + i * fs + d0 * ld;
        a3.intoArray(du, oa + o3);
        a2.intoArray(du, oa + o2);
        a1.intoArray(du, oa + o1);
        a0.intoArray(du, oa);
    }
}
