package io.shadowsync.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FoldsTest {
    /** Every example in exactly one fold: disjoint and covering; and fold f's complement is everything else. */
    static void assertPartition(int[][] folds, int n) {
        int[] seen = new int[n];
        for (int[] f : folds) {
            assertTrue(f.length > 0, "an empty fold");
            for (int i = 1; i < f.length; i++) assertTrue(f[i - 1] < f[i], "a fold's indices are increasing");
            for (int i : f) seen[i]++;
        }
        for (int i = 0; i < n; i++) assertEquals(1, seen[i], "example " + i + " is in " + seen[i] + " folds");
        for (int f = 0; f < folds.length; f++) assertEquals(n - folds[f].length, Folds.complement(folds, f, n).length);
    }

    @Test
    void kFoldPartitionsTheDataIntoNearlyEqualFolds() {
        int[][] folds = Folds.kFold(103, 5, 1);
        assertPartition(folds, 103);
        for (int[] f : folds) assertTrue(f.length == 20 || f.length == 21, "fold of " + f.length);
    }

    /**
     * Class proportions per fold within 1 example of count/k, for skewed classes (catches dealing each class from fold 0,
     * which overfills the first folds, and an unstratified shuffle).
     */
    @Test
    void stratifiedFoldsKeepEveryClassWithinOneExampleOfItsShare() {
        SplittableRandom r = new SplittableRandom(3);
        float[] labels = new float[997];
        for (int i = 0; i < labels.length; i++) labels[i] = r.nextDouble() < 0.07 ? 2 : r.nextDouble() < 0.3 ? 1 : 0;
        for (int k : new int[] {2, 3, 5, 10}) {
            int[][] folds = Folds.stratified(labels, k, 42);
            assertPartition(folds, labels.length);
            int[] total = new int[3];
            for (float y : labels) total[(int) y]++;
            int min = Integer.MAX_VALUE, max = 0;
            for (int[] f : folds) {
                int[] c = new int[3];
                for (int i : f) c[(int) labels[i]]++;
                for (int y = 0; y < 3; y++) {
                    assertTrue(c[y] == total[y] / k || c[y] == (total[y] + k - 1) / k,
                            "k=" + k + ": class " + y + " has " + c[y] + " in a fold, share " + (double) total[y] / k);
                }
                min = Math.min(min, f.length);
                max = Math.max(max, f.length);
            }
            assertTrue(max - min <= 1, "k=" + k + ": fold sizes " + min + ".." + max);
        }
    }

    /** A group is never split between folds (catches an assignment per example rather than per group). */
    @Test
    void groupedFoldsKeepAGroupInOneFold() {
        SplittableRandom r = new SplittableRandom(5);
        long[] keys = new long[500];
        for (int i = 0; i < keys.length; i++) keys[i] = r.nextInt(40) * 1_000_003L; // 40 groups of uneven sizes
        int[][] folds = Folds.grouped(keys, 4, 9);
        assertPartition(folds, keys.length);
        Map<Long, Integer> foldOf = new HashMap<>();
        for (int f = 0; f < folds.length; f++) {
            for (int i : folds[f]) {
                Integer before = foldOf.putIfAbsent(keys[i], f);
                assertTrue(before == null || before == f, "group " + keys[i] + " is in folds " + before + " and " + f);
            }
        }
        for (int[] f : folds) assertTrue(f.length > 500 / 4 - 40, "fold of " + f.length + ": groups are balanced by size");
    }

    @Test
    void badFoldCountsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> Folds.kFold(10, 1, 1));
        assertTrue(e.getMessage().contains("at least 2 folds"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Folds.stratified(new float[3], 4, 1));
        assertTrue(e.getMessage().contains("4 folds need at least 4 examples"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Folds.grouped(new long[] {1, 1, 2, 2}, 3, 1));
        assertTrue(e.getMessage().contains("2 distinct keys"), e.getMessage());
    }
}
