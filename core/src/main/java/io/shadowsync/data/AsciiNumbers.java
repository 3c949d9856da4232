package io.shadowsync.data;

import java.nio.charset.StandardCharsets;

/**
 * Numbers parsed straight from ASCII bytes, for the text readers: no String per field on the common path.
 * Each parser returns a sentinel for malformed input (NaN, or {@link #BAD_INT}) so that the caller, which
 * knows the file, line and column, writes the error sentence.
 */
final class AsciiNumbers {
    /** Returned by {@link #parseNonNegativeInt} for malformed or out-of-range input. */
    static final int BAD_INT = -1;
    private static final double[] POW10 = new double[23];

    static {
        double p = 1;
        for (int i = 0; i < POW10.length; i++, p *= 10) POW10[i] = p; // 10^0..10^22 are exact doubles
    }

    private AsciiNumbers() {
    }

    /**
     * Parses a decimal {@code [+-]digits[.digits][(e|E)[+-]digits]} in b[from, to) to the nearest float, exactly
     * as {@link Float#parseFloat} does. Returns NaN for anything else (empty, letters, "nan", "inf", hex) and
     * for values beyond the float range, so the result is always finite or NaN.
     *
     * <p>Fast path (Clinger): a mantissa below 2^53 times or divided by an exact 10^k (k &le; 22) is one correctly
     * rounded double operation; narrowing it to float is then correct unless the double lies exactly halfway
     * between two floats, which falls back to {@link Float#parseFloat} along with long mantissas and big exponents.
     */
    static float parseFloat(byte[] b, int from, int to) {
        int i = from;
        boolean neg = false;
        if (i < to && (b[i] == '-' || b[i] == '+')) neg = b[i++] == '-';
        long m = 0;
        int exp10 = 0, digits = 0;
        boolean exact = true;
        for (; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) break;
            digits++;
            if (m < 100_000_000_000_000_000L) m = m * 10 + d;
            else { exp10++; exact = false; }
        }
        if (i < to && b[i] == '.') {
            for (i++; i < to; i++) {
                int d = b[i] - '0';
                if (d < 0 || d > 9) break;
                digits++;
                if (m < 100_000_000_000_000_000L) { m = m * 10 + d; exp10--; }
                else exact = false;
            }
        }
        if (digits == 0) return Float.NaN;
        if (i < to && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            boolean eneg = false;
            if (i < to && (b[i] == '-' || b[i] == '+')) eneg = b[i++] == '-';
            int e = 0, edigits = 0;
            for (; i < to; i++) {
                int d = b[i] - '0';
                if (d < 0 || d > 9) break;
                edigits++;
                if (e < 100_000) e = e * 10 + d;
            }
            if (edigits == 0) return Float.NaN;
            exp10 += eneg ? -e : e;
        }
        if (i != to) return Float.NaN;
        if (m == 0) return neg ? -0f : 0f;
        if (exact && m < (1L << 53) && exp10 >= -22 && exp10 <= 22) {
            double d = exp10 >= 0 ? m * POW10[exp10] : m / POW10[-exp10];
            if (d >= Float.MIN_NORMAL && d <= Float.MAX_VALUE && !isFloatMidpoint(d)) {
                float f = (float) d;
                return neg ? -f : f;
            }
        }
        float f = Float.parseFloat(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
        return Float.isInfinite(f) ? Float.NaN : f;
    }

    /** Whether a double in the normal float range lies exactly halfway between two adjacent floats. */
    private static boolean isFloatMidpoint(double d) {
        long lowBits = Double.doubleToRawLongBits(d) & ((1L << 29) - 1); // the 29 mantissa bits a float drops
        return lowBits == 1L << 28;
    }

    /** Parses plain decimal digits b[from, to) (no sign) to an int; {@link #BAD_INT} if empty, not digits, or &gt; 2^31-1. */
    static int parseNonNegativeInt(byte[] b, int from, int to) {
        if (from == to || to - from > 10) return BAD_INT;
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) return BAD_INT;
            v = v * 10 + d;
        }
        return v > Integer.MAX_VALUE ? BAD_INT : (int) v;
    }

    /**
     * Checks a parsed label against the task and maps it to the stored value: binary 0/1 (and -1 to 0, +1 to 1
     * when plusMinusOne), multiclass an integer in [0, numClasses), regression (numClasses 0) any finite value.
     * A class label is stored as +0, never as the -0 that "-0" parses to, so equal classes have equal bits.
     * Returns NaN when the label does not fit; {@link #labelRule} says what would.
     */
    static float checkLabel(float v, int numClasses, boolean plusMinusOne) {
        if (Float.isNaN(v)) return Float.NaN;
        if (numClasses == 0) return v;
        if (numClasses == 2) {
            if (v == 0f) return 0f;
            if (v == 1f) return 1f;
            return plusMinusOne && v == -1f ? 0f : Float.NaN;
        }
        return v >= 0 && v < numClasses && v == Math.rint(v) ? v + 0f : Float.NaN; // -0 + 0 = +0
    }

    /** The words for what {@link #checkLabel} accepts, e.g. "label must be 0 or 1". */
    static String labelRule(int numClasses, boolean plusMinusOne) {
        if (numClasses == 0) return "label must be a finite number";
        if (numClasses == 2) return plusMinusOne ? "label must be 0 or 1 (or -1 or +1)" : "label must be 0 or 1";
        return "label must be an integer class in 0.." + (numClasses - 1);
    }

    /** Refuses a class count that is neither regression (0), binary (2) nor multiclass (&gt; 2). */
    static int checkNumClasses(int numClasses) {
        if (numClasses < 0 || numClasses == 1) {
            throw new IllegalArgumentException("numClasses must be 0 (regression), 2 (binary) or more (multiclass), got "
                    + numClasses);
        }
        return numClasses;
    }
}
