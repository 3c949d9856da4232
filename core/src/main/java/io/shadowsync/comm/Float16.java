package io.shadowsync.comm;

/**
 * IEEE 754 binary16 conversions, rounded to nearest even: the bits {@code Float.floatToFloat16} and
 * {@code Float.float16ToFloat} give on Java 20+, here because core compiles for Java 17 (Spark executors). NaN stays
 * NaN (quiet, its sign and upper payload bits kept); overflow gives infinity; values at most half the smallest
 * subnormal give zero.
 */
final class Float16 {
    private Float16() {}

    /** The binary16 nearest to f (ties to even). */
    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7f_ffff;
        if (exp == 0xff) return (short) (sign | 0x7c00 | (mant == 0 ? 0 : 0x200 | mant >>> 13));
        int e = exp - 127 + 15; // binary16's biased exponent
        if (e >= 31) return (short) (sign | 0x7c00);
        int shift; // how many of the 24 significand bits (hidden one included) fall off
        int sig;
        if (e > 0) {
            shift = 13;
            sig = mant;
        } else {
            if (e < -10) return (short) sign; // below half the smallest subnormal: zero
            shift = 14 - e;
            sig = mant | 0x80_0000;
            e = 0;
        }
        int h = (e << 10) + (sig >>> shift);
        int rest = sig & ((1 << shift) - 1), halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (h & 1) != 0)) h++; // a carry into the exponent is right (up to ∞)
        return (short) (sign | h);
    }

    /** The float of binary16 bits h (exact). */
    static float toFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int e = (h >>> 10) & 0x1f, m = h & 0x3ff;
        if (e == 0) return Float.intBitsToFloat(sign | Float.floatToRawIntBits(m * 0x1p-24f));
        if (e == 31) return Float.intBitsToFloat(sign | 0x7f80_0000 | m << 13);
        return Float.intBitsToFloat(sign | (e - 15 + 127) << 23 | m << 13);
    }
}
