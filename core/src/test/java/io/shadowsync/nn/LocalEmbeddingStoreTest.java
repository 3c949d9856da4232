package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.RowSgd;
import io.shadowsync.optim.RowwiseAdagrad;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LocalEmbeddingStoreTest {
    private static final EmbeddingOptimizerSpec SGD = new EmbeddingOptimizerSpec("sgd", 0.5);

    private static LocalEmbeddingStore store(long seed, float std0, float std1) {
        return new LocalEmbeddingStore(new long[][] {{5, 3}, {4, 2}}, new float[] {std0, std1}, seed, SGD);
    }

    @Test
    void shapesAndOptimizersArePerTable() {
        LocalEmbeddingStore s = new LocalEmbeddingStore(new long[][] {{5, 3}, {4, 2}}, new float[] {0, 0}, 1,
                new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1));
        assertEquals(2, s.numTables());
        assertEquals(5, s.rows(0));
        assertEquals(2, s.dim(1));
        assertEquals(15, s.table(0).length);
        assertEquals(4, assertInstanceOf(RowwiseAdagrad.class, s.optimizer(1)).state().length);
    }

    @Test
    void initIsSeededPerTableWithTheGivenStd() {
        LocalEmbeddingStore a = store(42, 0.1f, 0), b = store(42, 0.1f, 0), c = store(43, 0.1f, 0);
        assertArrayEquals(a.table(0), b.table(0));
        assertFalse(Arrays.equals(a.table(0), c.table(0)));
        assertArrayEquals(new float[8], a.table(1)); // std 0: zeros

        // a table's values do not depend on the std or shape of the tables before it
        LocalEmbeddingStore d = new LocalEmbeddingStore(new long[][] {{7, 1}, {5, 3}}, new float[] {0.3f, 0.1f}, 42, SGD);
        LocalEmbeddingStore e = new LocalEmbeddingStore(new long[][] {{2, 2}, {5, 3}}, new float[] {0f, 0.1f}, 42, SGD);
        assertArrayEquals(d.table(1), e.table(1));

        // std scales: a larger table's sample std is near the requested one
        LocalEmbeddingStore big = new LocalEmbeddingStore(new long[][] {{1000, 10}}, new float[] {0.05f}, 3, SGD);
        double ss = 0;
        for (float x : big.table(0)) ss += x * x;
        assertEquals(0.05, Math.sqrt(ss / 10000), 0.002);
    }

    @Test
    void localTableIsTheLiveArrayAndRecordingStoresHaveNone() {
        LocalEmbeddingStore s = store(3, 0.1f, 0.2f);
        assertTrue(s.localTable(1) == s.table(1), "localTable must return the live table, not a copy");
        s.push(1, new int[] {2}, 0, 1, new float[] {1f, -1f}, 0);
        assertEquals(s.table(1)[4], s.localTable(1)[4]);
        assertThrows(IllegalArgumentException.class, () -> s.localTable(2));
        assertEquals(null, new RecordingEmbeddingStore(new long[][] {{2, 2}}).localTable(0), "the default is no local table");
    }

    @Test
    void pushChecksEveryIdBeforeUpdatingAnyRow() {
        LocalEmbeddingStore s = store(3, 0.1f, 0.2f);
        float[] before = s.table(0).clone();
        assertThrows(IllegalArgumentException.class, () -> s.push(0, new int[] {1, 5}, 0, 2, new float[6], 0));
        assertArrayEquals(before, s.table(0), "a push with a bad id must not apply the good ones before it");
    }

    @Test
    void pullCopiesRowsInIdOrderWithOffsets() {
        LocalEmbeddingStore s = store(1, 0.1f, 0.1f);
        float[] w = s.table(0);
        float[] out = new float[1 + 3 * 3];
        s.pull(0, new int[] {9, 4, 0, 4}, 1, 3, out, 1);
        assertEquals(0f, out[0], 0f);
        assertArrayEquals(Arrays.copyOfRange(w, 12, 15), Arrays.copyOfRange(out, 1, 4));
        assertArrayEquals(Arrays.copyOfRange(w, 0, 3), Arrays.copyOfRange(out, 4, 7));
        assertArrayEquals(Arrays.copyOfRange(w, 12, 15), Arrays.copyOfRange(out, 7, 10));
    }

    @Test
    void pushAppliesTheRowOptimizerToEachIdIncludingDuplicates() {
        LocalEmbeddingStore s = store(1, 0, 0);
        assertInstanceOf(RowSgd.class, s.optimizer(1));
        // table 1: 4 rows × 2; push row 2 twice and row 0 once, lr 0.5
        float[] grads = {99, 1, 2, 3, 4, 10, 20};
        s.push(1, new int[] {2, 0, 2}, 0, 3, grads, 1);
        assertArrayEquals(new float[] {-1.5f, -2f, 0, 0, -0.5f - 5f, -1f - 10f, 0, 0}, s.table(1));
        assertArrayEquals(new float[15], s.table(0)); // the other table untouched
    }

    @Test
    void idsOutsideTheTableAreRefusedNamingTableAndId() {
        LocalEmbeddingStore s = store(1, 0, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> s.pull(1, new int[] {4}, 0, 1, new float[2], 0));
        assertEquals("embedding table 1: id 4 is outside [0, 4)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.push(0, new int[] {0, -1}, 0, 2, new float[6], 0));
        assertEquals("embedding table 0: id -1 is outside [0, 5)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.rows(2));
        assertEquals("no embedding table 2; this store has 2", e.getMessage());
    }

    @Test
    void constructorRefusesOversizedTablesAndBadSettings() {
        var e = assertThrows(IllegalArgumentException.class, () ->
                new LocalEmbeddingStore(new long[][] {{1L << 28, 16}}, new float[] {0}, 1, SGD));
        assertTrue(e.getMessage().startsWith("table 0 has 268435456 rows × 16 dims, over the 2147483631 floats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                new LocalEmbeddingStore(new long[][] {{3, 2}}, new float[] {0, 0}, 1, SGD));
        assertEquals("one init std per table: 1 tables but 2 init stds", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                new LocalEmbeddingStore(new long[][] {{3, 2}, {0, 2}}, new float[] {0, 0}, 1, SGD));
        assertEquals("table 1: rows and dim must be positive, got 0 × 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                new LocalEmbeddingStore(new long[][] {{3, 2}}, new float[] {-1f}, 1, SGD));
        assertEquals("table 0: init std must be zero or positive and finite, got -1.0", e.getMessage());
    }
}
