package io.shadowsync.optim;

/** Argument checks shared by the optimizers and their specs: each refusal says what is wrong and what was given. */
final class Args {
    private Args() {}

    static float positiveFinite(String what, double v) {
        if (!(v > 0) || !Double.isFinite(v) || (float) v == 0f) {
            throw new IllegalArgumentException(what + " must be positive and finite, got " + v);
        }
        return (float) v;
    }

    static float nonNegativeFinite(String what, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(what + " must be zero or positive and finite, got " + v);
        }
        return (float) v;
    }

    /** A decay rate in [0, 1): 1 would never forget, above 1 diverges. */
    static float decay(String what, double v) {
        if (!(v >= 0) || !(v < 1)) throw new IllegalArgumentException(what + " must be in [0, 1), got " + v);
        return (float) v;
    }

    static void size(String what, long n) {
        if (n < 0) throw new IllegalArgumentException(what + " must not be negative, got " + n);
    }

    /** Refuses a step over more elements than the optimizer holds state for (a replica/optimizer mismatch). */
    static void stepLength(int n, int stateLength, float[] params, float[] grad) {
        if (n < 0 || n > stateLength || n > params.length || n > grad.length) {
            throw new IllegalArgumentException("step over " + n + " elements, but the optimizer holds state for "
                    + stateLength + ", params has " + params.length + " and grad " + grad.length);
        }
    }
}
