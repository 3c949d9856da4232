package io.shadowsync.kernels;

/**
 * Level-1 vector kernels on {@code float[]} with offsets. Vector API where it pays, scalar otherwise;
 * every method has a scalar twin ({@code *Scalar}) that is the reference in tests.
 *
 * <p>The Vector API path ({@code VectorKernels}) is taken when {@code jdk.incubator.vector} is in the boot
 * layer (run with {@code --add-modules jdk.incubator.vector}); {@link #simdDescription()} says which path is
 * live. All kernels but {@link #dot} give bit-identical results on both paths, so a model trains the same
 * with or without the module.
 *
 * <p>Sharing: the kernels write only their output range and allocate nothing; Hogwild callers may run
 * them on arrays other threads are writing, and get the racy element values that implies (no tearing of
 * a single float, no exceptions).
 */
public final class Vec {
    private Vec() {}

    /** Whether the Vector API path is used; decided once, from the boot layer, when this class loads. */
    static final boolean SIMD = detectSimd();

    private static boolean detectSimd() {
        if (!vectorModulePresent()) return false;
        try {
            return VectorKernels.worthUsing();
        } catch (LinkageError | RuntimeException e) { // a JVM whose Vector API cannot initialise: stay scalar
            return false;
        }
    }

    private static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** What the kernels run on: e.g. "Vector API, 256-bit (8 floats)" or "scalar (...)". */
    public static String simdDescription() {
        if (SIMD) return VectorKernels.description();
        return vectorModulePresent() ? "scalar (Vector API present, but unusable or narrower than 4 floats)"
                : "scalar (jdk.incubator.vector not in the boot layer; add --add-modules jdk.incubator.vector)";
    }

    /**
     * Below this many floats {@link #axpy} takes the scalar loop even where the Vector API is live: an embedding row's
     * update (16–128 floats at a random place in a large table) costs its cache miss more than its arithmetic, and
     * the scalar loop is fast from its first call, where Vector API code runs one to two orders of magnitude slower
     * until C2 has compiled it (interpreted and C1 code box every vector) — the first seconds of every process,
     * in which a parameter server's pushes hold up every trainer (ColdRowsBench: docs/benchmarks.md).
     */
    static final int AXPY_SIMD_MIN = 256;

    /** {@code y[yOff+i] += alpha · x[xOff+i]} for i in [0, n); the same bits on either path. */
    public static void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        if (SIMD && n >= AXPY_SIMD_MIN) VectorKernels.axpy(n, alpha, x, xOff, y, yOff);
        else axpyScalar(n, alpha, x, xOff, y, yOff);
    }

    /** {@link #axpy} on the Vector API path whatever n (scalar where the Vector API is not live): its benchmark twin. */
    public static void axpySimd(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        if (SIMD) VectorKernels.axpy(n, alpha, x, xOff, y, yOff);
        else axpyScalar(n, alpha, x, xOff, y, yOff);
    }

    public static void axpyScalar(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /**
     * {@code Σ x[xOff+i] · y[yOff+i]} for i in [0, n), accumulated in float. The SIMD path sums in a
     * different order (and with fused multiply-adds), so it differs from {@link #dotScalar} by rounding,
     * within about n·2⁻²⁴·Σ|x·y|.
     */
    public static float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        return SIMD ? VectorKernels.dot(n, x, xOff, y, yOff) : dotScalar(n, x, xOff, y, yOff);
    }

    public static float dotScalar(int n, float[] x, int xOff, float[] y, int yOff) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    /** {@code x[xOff+i] *= alpha} for i in [0, n). */
    public static void scale(int n, float alpha, float[] x, int xOff) {
        if (SIMD) VectorKernels.scale(n, alpha, x, xOff);
        else scaleScalar(n, alpha, x, xOff);
    }

    public static void scaleScalar(int n, float alpha, float[] x, int xOff) {
        for (int i = 0; i < n; i++) x[xOff + i] *= alpha;
    }

    /** {@code y[yOff+i] = alpha · x[xOff+i]} for i in [0, n): a scaled copy (y may alias x at the same offset). */
    static void scaleInto(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        if (SIMD) VectorKernels.scaleInto(n, alpha, x, xOff, y, yOff);
        else scaleIntoScalar(n, alpha, x, xOff, y, yOff);
    }

    static void scaleIntoScalar(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    /**
     * {@code y[yOff+i] = x[xOff+i]} for i in [0, n), for short runs such as one embedding row: a
     * {@link System#arraycopy} of 16 floats costs about twice two vector moves (measured on embedding pulls).
     * x and y must not overlap.
     */
    public static void copy(int n, float[] x, int xOff, float[] y, int yOff) {
        if (SIMD) VectorKernels.copy(n, x, xOff, y, yOff);
        else System.arraycopy(x, xOff, y, yOff, n);
    }

    /** Adds bias[0..n) to each of the m rows of the row-major {@code m×n} matrix y (leading dimension n). */
    public static void addRowVector(int m, int n, float[] bias, int bOff, float[] y, int yOff) {
        if (SIMD) VectorKernels.addRowVector(m, n, bias, bOff, y, yOff);
        else addRowVectorScalar(m, n, bias, bOff, y, yOff);
    }

    public static void addRowVectorScalar(int m, int n, float[] bias, int bOff, float[] y, int yOff) {
        for (int i = 0; i < m; i++) {
            int row = yOff + i * n;
            for (int j = 0; j < n; j++) y[row + j] += bias[bOff + j];
        }
    }

    /** {@code out[oOff+j] += Σ_i y[yOff + i·n + j]}: column sums of a row-major {@code m×n} matrix (bias gradient). */
    public static void addColumnSums(int m, int n, float[] y, int yOff, float[] out, int oOff) {
        if (SIMD) VectorKernels.addColumnSums(m, n, y, yOff, out, oOff);
        else addColumnSumsScalar(m, n, y, yOff, out, oOff);
    }

    public static void addColumnSumsScalar(int m, int n, float[] y, int yOff, float[] out, int oOff) {
        for (int i = 0; i < m; i++) {
            int row = yOff + i * n;
            for (int j = 0; j < n; j++) out[oOff + j] += y[row + j];
        }
    }

    /**
     * Whether x[xOff, xOff+n) holds no NaN and no infinity: the check a worker makes on a step's gradients before
     * they may touch shared parameters. Both paths give the same answer for every input.
     */
    public static boolean allFinite(int n, float[] x, int xOff) {
        return SIMD ? VectorKernels.allFinite(n, x, xOff) : allFiniteScalar(n, x, xOff);
    }

    /**
     * {@code x·0} is ±0 for a finite x and NaN for NaN or ±∞, so the sum of those products is zero exactly when
     * every value is finite (it never overflows); four independent sums keep the loop at load speed.
     */
    public static boolean allFiniteScalar(int n, float[] x, int xOff) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += x[xOff + i] * 0f;
            s1 += x[xOff + i + 1] * 0f;
            s2 += x[xOff + i + 2] * 0f;
            s3 += x[xOff + i + 3] * 0f;
        }
        for (; i < n; i++) s0 += x[xOff + i] * 0f;
        return (s0 + s1) + (s2 + s3) == 0f;
    }
}
