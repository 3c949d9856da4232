package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
