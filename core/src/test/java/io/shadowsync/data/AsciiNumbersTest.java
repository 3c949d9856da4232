package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

class AsciiNumbersTest {
    private static float parse(String s) {
        byte[] b = ("<" + s + ">").getBytes(StandardCharsets.ISO_8859_1);
        return AsciiNumbers.parseFloat(b, 1, b.length - 1);
    }

    private static void assertSameAsJava(String s) {
        assertEquals(Float.floatToRawIntBits(Float.parseFloat(s)), Float.floatToRawIntBits(parse(s)), s);
    }

    @Test
    void parsesLikeFloatParseFloatOnRandomDecimals() {
        Random rnd = new Random(11);
        for (int t = 0; t < 200_000; t++) {
            StringBuilder sb = new StringBuilder();
            if (rnd.nextInt(4) == 0) sb.append(rnd.nextBoolean() ? '-' : '+');
            int intDigits = rnd.nextInt(12), fracDigits = rnd.nextInt(t % 3 == 0 ? 25 : 9);
            for (int i = 0; i < intDigits; i++) sb.append((char) ('0' + rnd.nextInt(10)));
            if (fracDigits > 0 || intDigits == 0) {
                sb.append('.');
                for (int i = 0; i < Math.max(fracDigits, intDigits == 0 ? 1 : 0); i++) sb.append((char) ('0' + rnd.nextInt(10)));
            }
            if (rnd.nextInt(3) == 0) sb.append(rnd.nextBoolean() ? 'e' : 'E').append(rnd.nextInt(3) == 0 ? "-" : "").append(rnd.nextInt(45));
            String s = sb.toString();
            if (Float.isInfinite(Float.parseFloat(s))) continue;
            assertSameAsJava(s);
        }
    }

    @Test
    void roundsFloatMidpointsToEvenLikeJava() {
        for (String s : new String[] {"16777217", "16777219", "16777217.000001", "0.1", "3.4028235e38", "1.4e-45", "1e-40",
                "-0", "0.0000", "123456789012345678901234567890", "1.00000005960464477539062500000000001"}) {
            assertSameAsJava(s);
        }
        Random rnd = new Random(3);
        for (int t = 0; t < 4000; t++) { // decimals at and near the midpoints between adjacent floats
            float a = Float.intBitsToFloat(rnd.nextInt(0x7f000000));
            double mid = ((double) a + (double) Math.nextUp(a)) / 2;
            assertSameAsJava(new BigDecimal(mid).toPlainString());
            // 15-16 significant digits of a midpoint within 1e-6..1e6: mantissa < 2^53 and |exponent| <= 22, the
            // fast path, where the double nearest the decimal is often the midpoint itself though the decimal is not
            float near = (float) (Math.pow(10, rnd.nextInt(13) - 6) * (1 + rnd.nextFloat()));
            double m = ((double) near + (double) Math.nextUp(near)) / 2;
            assertSameAsJava(new BigDecimal(m).round(new MathContext(16)).toString());
            assertSameAsJava(new BigDecimal(m).round(new MathContext(15)).toString());
        }
    }

    @Test
    void refusesWhatIsNotAFiniteDecimal() {
        for (String s : new String[] {"", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", "nan", "NaN", "inf", "Infinity",
                "0x1p3", "1f", " 1", "1 ", "1e39", "-1e39", "--1"}) {
            assertTrue(Float.isNaN(parse(s)), "'" + s + "' should be refused");
        }
    }

    @Test
    void parsesNonNegativeInts() {
        byte[] b = "0 17 2147483647 2147483648 -1 12a".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0, AsciiNumbers.parseNonNegativeInt(b, 0, 1));
        assertEquals(17, AsciiNumbers.parseNonNegativeInt(b, 2, 4));
        assertEquals(Integer.MAX_VALUE, AsciiNumbers.parseNonNegativeInt(b, 5, 15));
        assertEquals(AsciiNumbers.BAD_INT, AsciiNumbers.parseNonNegativeInt(b, 16, 26));
        assertEquals(AsciiNumbers.BAD_INT, AsciiNumbers.parseNonNegativeInt(b, 27, 29));
        assertEquals(AsciiNumbers.BAD_INT, AsciiNumbers.parseNonNegativeInt(b, 30, 33));
        assertEquals(AsciiNumbers.BAD_INT, AsciiNumbers.parseNonNegativeInt(b, 4, 4));
    }

    @Test
    void labelsFollowTheTask() {
        assertEquals(1f, AsciiNumbers.checkLabel(1f, 2, false));
        assertEquals(0f, AsciiNumbers.checkLabel(-1f, 2, true));
        assertTrue(Float.isNaN(AsciiNumbers.checkLabel(-1f, 2, false)));
        assertTrue(Float.isNaN(AsciiNumbers.checkLabel(0.5f, 2, true)));
        assertEquals(4f, AsciiNumbers.checkLabel(4f, 5, false));
        assertTrue(Float.isNaN(AsciiNumbers.checkLabel(5f, 5, false)));
        assertTrue(Float.isNaN(AsciiNumbers.checkLabel(1.5f, 5, false)));
        assertEquals(-2.5f, AsciiNumbers.checkLabel(-2.5f, 0, false));
        assertTrue(Float.isNaN(AsciiNumbers.checkLabel(Float.NaN, 0, false)));
    }
}
