package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Secure aggregation between parties that only exchange messages through the server, as client processes do. */
class SecureClientTest {
    static final int N = SecureAggregationTest.N, LEN = SecureAggregationTest.LEN;
    static final SecureRandom RNG = new SecureRandom();

    /** [j][i] = what i dealt to j. */
    static byte[][] column(byte[][][] dealt, int to) {
        return LocalClients.column(dealt, to);
    }

    /**
     * Clients 1 and 4 deal their shares and then drop out before uploading: the unmasked sum is bit for bit the
     * fixed-point sum of the 4 survivors. Catches pair masks of a dropped client left in the sum, self masks not
     * removed, shares that do not reach their client through the server, or a survivor revealing the wrong secret.
     */
    @Test
    void survivorsSumIsExactAfterDropouts() {
        float[][] x = SecureAggregationTest.updates(3);
        SecureClient[] c = new SecureClient[N];
        byte[][] keys = new byte[N][];
        for (int i = 0; i < N; i++) {
            c[i] = new SecureClient(i, N, 4, RNG);
            keys[i] = c[i].publicKeys();
        }
        byte[][][] dealt = new byte[N][][];
        for (int i = 0; i < N; i++) dealt[i] = c[i].deal(keys);
        boolean[] inRound = new boolean[N];
        java.util.Arrays.fill(inRound, true);
        boolean[] survived = {true, false, true, true, false, true};
        Map<Integer, long[]> up = new HashMap<>();
        for (int i = 0; i < N; i++) if (survived[i]) up.put(i, c[i].masked(x[i], keys, column(dealt, i)));
        Map<Integer, byte[][]> reveals = new HashMap<>();
        for (int i = 0; i < N; i++) {
            if (!survived[i]) continue;
            byte[][] r = c[i].reveal(survived);
            reveals.put(i, r);
        }
        assertArrayEquals(SecureAggregationTest.plainSum(x, 1, 4), SecureClient.unmask(up, keys, inRound, reveals, 4, LEN));
    }

    /**
     * A client that never advertised is outside the round: nobody masks with it, nobody holds its shares, and the
     * others' sum is exact. Catches masking with a client whose shares nobody can reveal.
     */
    @Test
    void aClientThatNeverAdvertisedIsLeftOut() {
        float[][] x = SecureAggregationTest.updates(4);
        SecureClient[] c = new SecureClient[N];
        byte[][] keys = new byte[N][];
        for (int i = 0; i < N; i++) {
            c[i] = new SecureClient(i, N, 3, RNG);
            if (i != 2) keys[i] = c[i].publicKeys();
        }
        byte[][][] dealt = new byte[N][][];
        for (int i = 0; i < N; i++) if (i != 2) dealt[i] = c[i].deal(keys);
        assertNull(dealt[0][2]);
        boolean[] inRound = {true, true, false, true, true, true};
        boolean[] survived = {true, true, false, true, true, true};
        Map<Integer, long[]> up = new HashMap<>();
        Map<Integer, byte[][]> reveals = new HashMap<>();
        for (int i = 0; i < N; i++) {
            if (!survived[i]) continue;
            up.put(i, c[i].masked(x[i], keys, column(dealt, i)));
            reveals.put(i, c[i].reveal(survived));
        }
        assertArrayEquals(SecureAggregationTest.plainSum(x, 2), SecureClient.unmask(up, keys, inRound, reveals, 3, LEN));
    }

    /**
     * A sealed share altered on its way through the server, or handed to the wrong client, does not open: the
     * client refuses it. Catches shares sent in the clear or under a key the server could compute.
     */
    @Test
    void alteredOrMisroutedSharesAreRefused() {
        SecureClient[] c = new SecureClient[3];
        byte[][] keys = new byte[3][];
        for (int i = 0; i < 3; i++) {
            c[i] = new SecureClient(i, 3, 2, RNG);
            keys[i] = c[i].publicKeys();
        }
        byte[][][] dealt = new byte[3][][];
        for (int i = 0; i < 3; i++) dealt[i] = c[i].deal(keys);
        byte[][] mine = column(dealt, 0);
        mine[1] = mine[1].clone();
        mine[1][5] ^= 1;
        float[] x = new float[8];
        assertThrows(SecureAggregationException.class, () -> c[0].masked(x, keys, mine));
        byte[][] misrouted = column(dealt, 0);
        misrouted[1] = dealt[1][2]; // meant for client 2
        assertThrows(SecureAggregationException.class, () -> c[0].masked(x, keys, misrouted));
    }
}
