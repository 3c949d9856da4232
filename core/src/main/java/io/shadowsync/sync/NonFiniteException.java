package io.shadowsync.sync;

/**
 * Training went non-finite: a replica holds a NaN or infinite parameter, or a worker's batches have been non-finite
 * too many times in a row. The job stops with this (the CLI exits 1) rather than spreading the values to the other
 * trainers or writing them to a model file or a checkpoint.
 */
public final class NonFiniteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NonFiniteException(String message) {
        super(message);
    }

    /** The index of the first NaN or infinite value of x[0, n), or −1 when all are finite. */
    public static int firstNonFinite(float[] x, int n) {
        if (io.shadowsync.kernels.Vec.allFinite(n, x, 0)) return -1;
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(x[i])) return i;
        }
        return -1;
    }
}
