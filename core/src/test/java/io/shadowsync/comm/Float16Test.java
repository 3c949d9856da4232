package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * core's own binary16 conversions (core compiles for Java 17) give the JDK's bits (Java 20+, what the tests run on).
 * Caught: truncation instead of rounding to nearest even, ties rounded away from zero, a wrong subnormal shift, an
 * overflow threshold off by the half ulp, a lost sign on zeros and subnormals.
 */
class Float16Test {
    @Test
    void everyHalfRoundTripsAndDecodesAsTheJdk() {
        for (int h = 0; h < 0x1_0000; h++) {
            float f = Float16.toFloat((short) h);
            float jdk = Float.float16ToFloat((short) h);
            if (Float.isNaN(jdk)) { // the JDK's intrinsic may quiet a signalling NaN: a NaN of the same sign
                assertEquals(true, Float.isNaN(f), "half " + Integer.toHexString(h));
                assertEquals(h >= 0x8000, Float.floatToRawIntBits(f) < 0, "half " + Integer.toHexString(h));
                continue;
            }
            assertEquals(Float.floatToRawIntBits(jdk), Float.floatToRawIntBits(f), "half " + Integer.toHexString(h));
            if (!Float.isNaN(f)) assertEquals((short) h, Float16.fromFloat(f), "half " + Integer.toHexString(h));
        }
    }

    @Test
    void encodesAsTheJdkAtTiesEdgesAndRandomFloats() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 3_000_000; i++) same(Float.intBitsToFloat(r.nextInt()));
        for (int h = 0; h < 0x7c00; h++) { // every value halfway between two halves, and one float ulp either side
            int mid = (Float.floatToRawIntBits(Float16.toFloat((short) h)) + Float.floatToRawIntBits(Float16.toFloat((short) (h + 1)))) >>> 1;
            for (int d = -1; d <= 1; d++) {
                same(Float.intBitsToFloat(mid + d));
                same(-Float.intBitsToFloat(mid + d));
            }
        }
        for (float f : new float[] {0f, -0f, 65504f, 65519.99f, 65520f, 1e9f, Float.MIN_VALUE, 0x1p-25f, 0x1.000002p-25f, 0x1p-24f,
                0x1p-14f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            same(f);
            same(-f);
        }
    }

    private static void same(float f) {
        if (Float.isNaN(f)) { // NaN payloads may differ: a NaN of the same sign
            short h = Float16.fromFloat(f);
            assertEquals(true, Float.isNaN(Float16.toFloat(h)), "NaN " + Integer.toHexString(Float.floatToRawIntBits(f)));
            assertEquals(Float.floatToRawIntBits(f) < 0, h < 0, "NaN's sign");
            return;
        }
        assertEquals(Float.floatToFloat16(f), Float16.fromFloat(f), () -> "float " + f + " (" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
    }
}
