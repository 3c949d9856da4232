package io.shadowsync.kernels;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import dev.ludovic.netlib.blas.NativeBLAS;

/**
 * Holder of netlib's two BLAS instances, kept out of {@link Blas} so that a missing or broken netlib jar
 * fails the initialisation of this class only ({@code Blas} catches that once and stays on the scalar path).
 *
 * <p>The instances are stateless and safe to call from any number of threads at once.
 */
final class NetlibGemm {
    private NetlibGemm() {}

    /** OpenBLAS (or whatever {@code libblas.so.3} the system has) through JNI; null when it cannot be loaded. */
    static final BLAS NATIVE = loadNative();

    /** netlib's pure-Java BLAS: VectorBLAS with {@code jdk.incubator.vector}, else its Java 11 scalar build. */
    static final BLAS JAVA = JavaBLAS.getInstance();

    private static BLAS loadNative() {
        try {
            return NativeBLAS.getInstance();
        } catch (RuntimeException | LinkageError e) {
            // netlib has already logged why (no libblas.so.3, unsupported platform); Blas reports it as absent
            return null;
        }
    }

    /**
     * Row-major {@code C = alpha·op(A)·op(B) + beta·C} on a column-major BLAS: a row-major matrix is the
     * column-major view of its transpose, so computing {@code Cᵀ = op(B)ᵀ·op(A)ᵀ} swaps the operands and
     * the sizes m and n, and leaves every leading dimension as it is. Needs m, n, k ≥ 1 (checked by Blas).
     */
    static void sgemm(BLAS blas, boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha,
                b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
    }
}
