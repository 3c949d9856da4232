package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.InMemorySource;
import org.junit.jupiter.api.Test;

/** The non-IID splits: every example dealt exactly once, and the skew each form promises. */
class ClientSplitTest {
    static final int N = 6000, CLASSES = 10, K = 20;

    static float[] labels() {
        float[] y = new float[N];
        for (int i = 0; i < N; i++) y[i] = i % CLASSES;
        return y;
    }

    /** Catches a split that loses or duplicates examples (a cut with rounding gaps, a class dealt twice). */
    static void assertPartition(int[][] parts) {
        boolean[] seen = new boolean[N];
        int total = 0;
        for (int[] p : parts) {
            assertTrue(p.length > 0, "a client without examples");
            for (int i : p) {
                assertTrue(!seen[i], "example " + i + " dealt twice");
                seen[i] = true;
            }
            total += p.length;
        }
        assertEquals(N, total);
    }

    /** The mean over clients of the share of its largest class. */
    static double dominance(int[][] parts, float[] y) {
        double s = 0;
        for (int[] p : parts) {
            int[] c = new int[CLASSES];
            for (int i : p) c[(int) y[i]]++;
            int max = 0;
            for (int v : c) max = Math.max(max, v);
            s += (double) max / p.length;
        }
        return s / parts.length;
    }

    @Test
    void iidDealsEqualShares() {
        int[][] parts = ClientSplit.IID.assign(labels(), CLASSES, K, 1);
        assertPartition(parts);
        for (int[] p : parts) assertEquals(N / K, p.length);
        assertTrue(dominance(parts, labels()) < 0.25, "IID clients hold every class about equally");
    }

    /** Dirichlet(0.1) gives clients dominated by one class; Dirichlet(100) is near IID: catches α ignored or inverted. */
    @Test
    void dirichletSkewsLabelsByAlpha() {
        float[] y = labels();
        int[][] skewed = ClientSplit.parse("dirichlet:0.1").assign(y, CLASSES, K, 7);
        int[][] mild = ClientSplit.parse("dirichlet:100").assign(y, CLASSES, K, 7);
        assertPartition(skewed);
        assertPartition(mild);
        assertTrue(dominance(skewed, y) > 0.6, "α = 0.1: mostly one class per client, got " + dominance(skewed, y));
        assertTrue(dominance(mild, y) < 0.3, "α = 100: near IID, got " + dominance(mild, y));
    }

    @Test
    void quantitySkewVariesSizesNotLabels() {
        float[] y = labels();
        int[][] parts = ClientSplit.parse("quantity:0.5").assign(y, CLASSES, K, 3);
        assertPartition(parts);
        int min = N, max = 0;
        for (int[] p : parts) {
            min = Math.min(min, p.length);
            max = Math.max(max, p.length);
        }
        assertTrue(max > 4 * min, "quantity skew: sizes " + min + ".." + max);
    }

    @Test
    void sameSeedSameSplit() {
        float[] y = labels();
        ClientSplit s = ClientSplit.parse("dirichlet:0.5");
        int[][] a = s.assign(y, CLASSES, K, 11), b = s.assign(y, CLASSES, K, 11);
        for (int k = 0; k < K; k++) assertArrayEquals(a[k], b[k]);
    }

    @Test
    void shardsHoldTheirExamplesAndTablePrintsCounts() throws Exception {
        InMemorySource data = Blobs.make(300, 3, 1);
        int[][] parts = ClientSplit.parse("dirichlet:0.3").assign(ClientSplit.labels(data), 3, 4, 5);
        InMemorySource[] shards = ClientSplit.shards(data, parts);
        String table = ClientSplit.table(shards, 10);
        for (int k = 0; k < 4; k++) {
            assertEquals(parts[k].length, shards[k].size());
            int[] c = new int[3];
            for (float v : ClientSplit.labels(shards[k])) c[(int) v]++;
            int[] want = new int[3];
            for (int i : parts[k]) want[i % 3]++;
            assertArrayEquals(want, c, "client " + k + "'s classes");
        }
        assertTrue(table.lines().count() == 5 && table.contains("c2"), table);
    }

    @Test
    void badSpecsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ClientSplit.parse("dirichlet"));
        assertThrows(IllegalArgumentException.class, () -> ClientSplit.parse("dirichlet:-1"));
        assertThrows(IllegalArgumentException.class, () -> ClientSplit.parse("quantity:x"));
        assertThrows(IllegalArgumentException.class, () -> ClientSplit.parse("random"));
        assertThrows(IllegalArgumentException.class, () -> ClientSplit.IID.assign(new float[3], 2, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> ClientSplit.parse("dirichlet:1").assign(new float[30], 0, 3, 1));
    }
}
