package io.shadowsync.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Dense matrix multiply on row-major {@code float[]} with offsets and leading dimensions.
 *
 * <p>{@code C[m×n] = alpha · op(A) · op(B) + beta · C}, where {@code op(A)} is {@code m×k} and
 * {@code op(B)} is {@code k×n}. Row-major: element (i, j) of A lives at {@code a[aOff + i·lda + j]}.
 * As in BLAS, {@code beta == 0} means C is only written (a NaN already in C does not survive), and
 * {@code k == 0} leaves {@code C = beta·C}. Elements of C outside the {@code m×n} window are never touched.
 *
 * <p>Backend order: native BLAS through {@code dev.ludovic.netlib} (OpenBLAS when the system has
 * it), else netlib's Java implementation (Vector API when {@code jdk.incubator.vector} is present),
 * else {@link #gemmNaive}, which also serves as the reference the tests compare against. Toy shapes
 * ({@code m·n·k <} {@value #NATIVE_MIN_MNK}) skip the JNI call and run on the Java BLAS. The system
 * property {@code shadowsync.blas=native|java|scalar} forces one (it is read once, when this class loads,
 * and a backend that cannot load then is an error); {@link #gemmOn} picks one per call, for benchmarks.
 *
 * <p>Each worker thread calls gemm on its own; run with {@code OPENBLAS_NUM_THREADS=1} so that OpenBLAS
 * does not start a thread per core under every one of them.
 *
 * <p>Sharing: gemm reads A and B and writes only C; concurrent calls on disjoint C are safe, and Hogwild
 * callers that read parameters another thread is writing get the usual racy-but-harmless values.
 */
public final class Blas {
    private Blas() {}

    /** The implementations {@link #gemmOn} can be asked for. */
    public enum Backend {
        /** The system's {@code libblas.so.3} (OpenBLAS here) through netlib's JNI binding. */
        NATIVE,
        /** netlib's pure-Java BLAS (its VectorBLAS when {@code jdk.incubator.vector} is present). */
        JAVA,
        /** {@link #gemmNaive}: triple loop, double accumulation; slow, always there. */
        SCALAR
    }

    /**
     * In automatic mode, native calls with {@code m·n·k} below this go to the Java BLAS instead. Measured
     * with GemmBench (bench/README.md; OpenBLAS 0.3.21, one thread, AVX2): a native call costs about 0.5 µs
     * whatever its size (1×1×1: 550 ns native, 70 ns Java; 8×8×8: 630 vs 340 ns), and native is ahead from
     * 16×16×16 (900 vs 1,700 ns) on. Every layer we train is far above the crossover: at the smallest,
     * 128×64×1 (m·n·k = 8,192), native ties Java in the forward gemv (about 3 GFLOP/s each) and doubles it
     * in both backward gemms; at 128×13×64 it is 3 to 6 times faster. So only toy shapes take the Java path.
     */
    static final long NATIVE_MIN_MNK = 2048;

    private static final boolean NATIVE_OK;
    private static final boolean JAVA_OK;
    private static final Backend PRIMARY;
    private static final boolean FORCED;
    private static final String DESCRIPTION;

    static {
        boolean nativeOk = false;
        boolean javaOk = false;
        String javaKind = null;
        String netlibFailure = null;
        try {
            nativeOk = NetlibGemm.NATIVE != null;
            javaOk = NetlibGemm.JAVA != null;
            javaKind = NetlibGemm.JAVA.getClass().getSimpleName();
        } catch (Throwable t) { // a missing or broken netlib (NoClassDefFoundError, UnsatisfiedLinkError, ...)
            netlibFailure = t.toString();
        }
        NATIVE_OK = nativeOk;
        JAVA_OK = javaOk;

        String requested = System.getProperty("shadowsync.blas", "auto").trim().toLowerCase(Locale.ROOT);
        Backend primary;
        switch (requested) {
            case "", "auto" -> primary = nativeOk ? Backend.NATIVE : javaOk ? Backend.JAVA : Backend.SCALAR;
            case "native" -> primary = Backend.NATIVE;
            case "java" -> primary = Backend.JAVA;
            case "scalar" -> primary = Backend.SCALAR;
            default -> throw new IllegalStateException("system property shadowsync.blas=" + requested
                    + " is not one of native, java, scalar or auto");
        }
        if (!available(primary, nativeOk, javaOk)) {
            throw new IllegalStateException("shadowsync.blas=" + requested + " was requested, but that backend"
                    + " could not be loaded" + (netlibFailure == null ? "" : " (" + netlibFailure + ")")
                    + "; run with --verbose for netlib's own warning, or drop the property to fall back automatically");
        }
        PRIMARY = primary;
        FORCED = !requested.isEmpty() && !requested.equals("auto");
        String desc = describe(primary, javaKind);
        if (primary == Backend.NATIVE && !FORCED && NATIVE_MIN_MNK > 0) {
            desc += "; " + describe(Backend.JAVA, javaKind) + " below m·n·k = " + NATIVE_MIN_MNK;
        }
        if (netlibFailure != null) desc += " (netlib failed to load: " + netlibFailure + ")";
        else if (!nativeOk && !FORCED) desc += "; no native BLAS (netlib found no loadable libblas.so.3, e.g. libopenblas0-pthread)";
        if (FORCED) desc += " [forced by shadowsync.blas]";
        DESCRIPTION = desc;
    }

    /** Row-major gemm; see the class comment. All arrays are read/written in place, nothing allocated. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        Backend route = PRIMARY;
        if (route == Backend.NATIVE && !FORCED && (long) m * n * k < NATIVE_MIN_MNK) route = Backend.JAVA;
        run(route, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /**
     * The same gemm on a backend chosen by the caller (benchmarks and tests), without the small-size
     * routing of {@link #gemm}. Throws IllegalStateException when that backend could not be loaded here.
     */
    public static void gemmOn(Backend backend, boolean transA, boolean transB, int m, int n, int k, float alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        if (!isAvailable(backend)) {
            throw new IllegalStateException("BLAS backend " + backend + " could not be loaded on this machine"
                    + " (available: " + (NATIVE_OK ? "NATIVE, " : "") + (JAVA_OK ? "JAVA, " : "") + "SCALAR)");
        }
        run(backend, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    private static void run(Backend backend, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        checkArguments(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scaleMatrix(m, n, beta, c, cOff, ldc);
            return;
        }
        switch (backend) {
            case NATIVE -> NetlibGemm.sgemm(NetlibGemm.NATIVE, transA, transB, m, n, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            case JAVA -> NetlibGemm.sgemm(NetlibGemm.JAVA, transA, transB, m, n, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            case SCALAR -> gemmNaive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
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

    /** Human-readable name of the backend {@link #gemm} uses, e.g. "native BLAS (... -> libopenblas)". */
    public static String backend() {
        return DESCRIPTION;
    }

    /** Whether {@link #gemmOn} can run on {@code backend} here. */
    public static boolean isAvailable(Backend backend) {
        return available(backend, NATIVE_OK, JAVA_OK);
    }

    /** The backend {@link #gemm} sends work to (before the small-size routing to Java, if any). */
    public static Backend primaryBackend() {
        return PRIMARY;
    }

    private static boolean available(Backend backend, boolean nativeOk, boolean javaOk) {
        return switch (backend) {
            case NATIVE -> nativeOk;
            case JAVA -> javaOk;
            case SCALAR -> true;
        };
    }

    // C[m×n] *= beta (beta == 0: C = 0, so that NaN or garbage in C is dropped, as BLAS does)
    private static void scaleMatrix(int m, int n, float beta, float[] c, int cOff, int ldc) {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            for (int j = 0; j < n; j++) c[row + j] = beta == 0f ? 0f : beta * c[row + j];
        }
    }

    /**
     * Refuses shapes that would read or write outside the arrays. The JNI path must never see them: a bad
     * offset there is memory corruption, not an exception. Operands that a call does not read (A and B
     * when k, m or n is 0) are not checked.
     */
    private static void checkArguments(boolean transA, boolean transB, int m, int n, int k,
                                       float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                       float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm sizes must be non-negative, got m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) return;
        checkMatrix("C", c, cOff, ldc, m, n);
        if (k == 0) return;
        if (transA) checkMatrix("A (transposed, stored k×m)", a, aOff, lda, k, m);
        else checkMatrix("A", a, aOff, lda, m, k);
        if (transB) checkMatrix("B (transposed, stored n×k)", b, bOff, ldb, n, k);
        else checkMatrix("B", b, bOff, ldb, k, n);
    }

    // a row-major rows×cols matrix (rows, cols ≥ 1) at off with leading dimension ld must fit in x
    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (ld < cols) {
            throw new IllegalArgumentException("gemm: leading dimension of " + name + " is " + ld
                    + ", less than its row width " + cols);
        }
        long last = off + (long) (rows - 1) * ld + cols; // one past the last element read or written
        if (off < 0 || last > x.length) {
            throw new IllegalArgumentException("gemm: " + name + " is " + rows + "×" + cols + " with leading dimension "
                    + ld + " at offset " + off + ", which needs " + last + " floats, but its array has " + x.length);
        }
    }

    private static String describe(Backend backend, String javaKind) {
        return switch (backend) {
            case NATIVE -> "native BLAS (dev.ludovic.netlib NativeBLAS -> " + nativeLibrary() + ", "
                    + openBlasThreads() + ")";
            case JAVA -> "VectorBLAS".equals(javaKind) ? "Java BLAS (Vector API)"
                    : "Java BLAS (" + javaKind + ", no Vector API)";
            case SCALAR -> "scalar Java";
        };
    }

    /**
     * The BLAS shared objects netlib dlopen'ed, read back from /proc/self/maps (Debian's OpenBLAS is a
     * {@code libblas.so.3} shim over {@code libopenblasp-r*.so}: both are named); else the name it was asked for.
     */
    private static String nativeLibrary() {
        String asked = System.getProperty("dev.ludovic.netlib.blas.nativeLibPath",
                System.getProperty("dev.ludovic.netlib.blas.nativeLib", "libblas.so.3"));
        try {
            Set<String> files = new LinkedHashSet<>();
            String firstPath = null;
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                String path = line.substring(slash);
                String file = path.substring(path.lastIndexOf('/') + 1);
                if (!file.contains("blas") || file.contains("netlibblasjni")) continue;
                if (firstPath == null) firstPath = path;
                files.add(file);
            }
            if (firstPath != null) {
                files.remove(firstPath.substring(firstPath.lastIndexOf('/') + 1));
                return files.isEmpty() ? firstPath : firstPath + " + " + String.join(" + ", files);
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: the requested name is the best we can say
        }
        return asked;
    }

    private static String openBlasThreads() {
        String threads = System.getenv("OPENBLAS_NUM_THREADS");
        return threads == null ? "OPENBLAS_NUM_THREADS unset: OpenBLAS may start a thread per core"
                : "OPENBLAS_NUM_THREADS=" + threads;
    }
}
