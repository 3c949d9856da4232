package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The counts the checkpointer sends through float collectives: exact, alone and summed over ranks. */
class MultiProcessCheckpointerTest {
    @Test
    void longsTravelExactlyAsFloatsAndSumWithCarries() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int trial = 0; trial < 1000; trial++) {
            int ranks = 1 + rnd.nextInt(256);
            float[] sum = new float[4];
            long expect = 0;
            for (int r = 0; r < ranks; r++) {
                long v = trial % 3 == 0 ? 0xFFFF_FFFFL : rnd.nextLong(1L << 54);
                float[] one = new float[4];
                MultiProcessCheckpointer.putLong(one, 0, v);
                assertEquals(v, MultiProcessCheckpointer.getLong(one, 0));
                for (int k = 0; k < 4; k++) sum[k] += one[k]; // what an all-reduce of SUM does
                expect += v;
            }
            assertEquals(expect, MultiProcessCheckpointer.getLong(sum, 0), ranks + " ranks");
        }
        assertThrows(IllegalArgumentException.class, () -> MultiProcessCheckpointer.putLong(new float[4], 0, -1));
    }
    @Test
    void reasonsTravelExactlyAsFloatsAndALongOneIsCut() {
        int w = MultiProcessCheckpointer.REASON_CHARS + 1;
        float[] two = new float[2 * w];
        String a = "writing /data/ckpt/ckpt-3/trainer-1.bin: No space left on device", b = "Prüfsumme \u2260 ✓ \uD83D\uDE00";
        MultiProcessCheckpointer.putString(two, 0, a);
        MultiProcessCheckpointer.putString(two, w, b);
        assertEquals(a, MultiProcessCheckpointer.getString(two, 0));
        assertEquals(b, MultiProcessCheckpointer.getString(two, w), "every UTF-16 unit, surrogates included");
        float[] one = new float[w];
        MultiProcessCheckpointer.putString(one, 0, "");
        assertEquals("", MultiProcessCheckpointer.getString(one, 0));
        String longer = "x".repeat(MultiProcessCheckpointer.REASON_CHARS + 50);
        MultiProcessCheckpointer.putString(one, 0, longer);
        String cut = MultiProcessCheckpointer.getString(one, 0);
        assertEquals(MultiProcessCheckpointer.REASON_CHARS, cut.length());
        assertTrue(cut.endsWith("..."), cut);
    }
}
