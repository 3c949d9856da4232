package io.shadowsync.kernels;

/**
 * Level-1 vector kernels on {@code float[]} with offsets. Vector API where it pays, scalar otherwise;
 * every method has a scalar twin ({@code *Scalar}) that is the reference in tests.
 */
public final class Vec {
    private Vec() {}

    /** {@code y[yOff+i] += alpha · x[xOff+i]} for i in [0, n). */
    public static void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        axpyScalar(n, alpha, x, xOff, y, yOff);
    }

    public static void axpyScalar(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** {@code Σ x[xOff+i] · y[yOff+i]} for i in [0, n). */
    public static float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        return dotScalar(n, x, xOff, y, yOff);
    }

    public static float dotScalar(int n, float[] x, int xOff, float[] y, int yOff) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    /** {@code x[xOff+i] *= alpha} for i in [0, n). */
    public static void scale(int n, float alpha, float[] x, int xOff) {
        scaleScalar(n, alpha, x, xOff);
    }

    public static void scaleScalar(int n, float alpha, float[] x, int xOff) {
        for (int i = 0; i < n; i++) x[xOff + i] *= alpha;
    }

    /** Adds bias[0..n) to each of the m rows of the row-major {@code m×n} matrix y (leading dimension n). */
    public static void addRowVector(int m, int n, float[] bias, int bOff, float[] y, int yOff) {
        for (int i = 0; i < m; i++) axpy(n, 1f, bias, bOff, y, yOff + i * n);
    }

    /** {@code out[oOff+j] += Σ_i y[yOff + i·n + j]}: column sums of a row-major {@code m×n} matrix (bias gradient). */
    public static void addColumnSums(int m, int n, float[] y, int yOff, float[] out, int oOff) {
        for (int i = 0; i < m; i++) axpy(n, 1f, y, yOff + i * n, out, oOff);
    }
}
