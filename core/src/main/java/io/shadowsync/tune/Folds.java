package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How examples are dealt into k folds for cross-validation; each method returns, per fold, the indices of the examples
 * it holds out, in increasing order. Every example is in exactly one fold.
 */
public final class Folds {
    private Folds() {}

    /** k folds of a random permutation of n examples: fold sizes differ by at most 1. */
    public static int[][] kFold(int n, int k, long seed) {
        check(n, k);
        int[] order = permutation(n, new SplittableRandom(seed));
        List<List<Integer>> folds = empty(k);
        for (int i = 0; i < n; i++) folds.get(i % k).add(order[i]);
        return sorted(folds);
    }

    /**
     * Stratified by label: each class's examples, in a random order, are dealt round the folds, each class starting where
     * the one before left off, so that every fold holds floor or ceil of (class count / k) examples of every class and
     * fold sizes differ by at most 1. Labels are class indices (0/1 for binary).
     */
    public static int[][] stratified(float[] labels, int k, long seed) {
        check(labels.length, k);
        SplittableRandom random = new SplittableRandom(seed);
        Map<Float, List<Integer>> byClass = new java.util.TreeMap<>();
        for (int i = 0; i < labels.length; i++) byClass.computeIfAbsent(labels[i], c -> new ArrayList<>()).add(i);
        List<List<Integer>> folds = empty(k);
        int next = 0;
        for (List<Integer> members : byClass.values()) {
            int[] order = permutation(members.size(), random);
            for (int j : order) {
                folds.get(next).add(members.get(j));
                next = (next + 1) % k;
            }
        }
        return sorted(folds);
    }

    /**
     * Grouped: examples with the same key are held out together, never split between folds (sklearn's GroupKFold): the
     * groups, largest first (ties in a random order), each go to the fold that holds the fewest examples so far. Needs at
     * least k distinct keys.
     */
    public static int[][] grouped(long[] keys, int k, long seed) {
        check(keys.length, k);
        Map<Long, List<Integer>> groups = new HashMap<>();
        for (int i = 0; i < keys.length; i++) groups.computeIfAbsent(keys[i], g -> new ArrayList<>()).add(i);
        if (groups.size() < k) {
            throw new IllegalArgumentException("grouped folds need at least as many groups as folds: " + groups.size() + " distinct keys, "
                    + k + " folds");
        }
        List<List<Integer>> order = new ArrayList<>(groups.values());
        order.sort((a, b) -> Integer.compare(a.get(0), b.get(0))); // the map's order is not: start from the data's
        java.util.Collections.shuffle(order, new java.util.Random(seed));
        order.sort((a, b) -> Integer.compare(b.size(), a.size())); // stable: equal sizes keep the shuffled order
        List<List<Integer>> folds = empty(k);
        for (List<Integer> g : order) {
            int smallest = 0;
            for (int f = 1; f < k; f++) if (folds.get(f).size() < folds.get(smallest).size()) smallest = f;
            folds.get(smallest).addAll(g);
        }
        return sorted(folds);
    }

    /** The examples of n not in fold f: what a fold trains on. */
    public static int[] complement(int[][] folds, int f, int n) {
        boolean[] held = new boolean[n];
        for (int i : folds[f]) held[i] = true;
        int[] rest = new int[n - folds[f].length];
        int m = 0;
        for (int i = 0; i < n; i++) if (!held[i]) rest[m++] = i;
        return rest;
    }

    private static void check(int n, int k) {
        if (k < 2) throw new IllegalArgumentException("cross-validation needs at least 2 folds, got " + k);
        if (k > n) throw new IllegalArgumentException(k + " folds need at least " + k + " examples, and the data has " + n);
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static List<List<Integer>> empty(int k) {
        List<List<Integer>> folds = new ArrayList<>(k);
        for (int f = 0; f < k; f++) folds.add(new ArrayList<>());
        return folds;
    }

    private static int[][] sorted(List<List<Integer>> folds) {
        int[][] out = new int[folds.size()][];
        for (int f = 0; f < out.length; f++) {
            out[f] = folds.get(f).stream().mapToInt(Integer::intValue).toArray();
            Arrays.sort(out[f]);
        }
        return out;
    }
}
