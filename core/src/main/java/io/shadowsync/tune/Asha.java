package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020):
 * stops trials that fall behind, by their evaluation metric as they train. Rung k is reached after
 * {@code minExamples · eta^k} training examples. When a trial reports its first evaluation at or past a rung, its loss
 * is recorded there, among those of every trial that reached the rung before it, and the trial goes on only if it is
 * among the best {@code max(1, floor(n / eta))} of the n recorded (ties go on); otherwise it is stopped. The decision is
 * taken once, when the trial arrives, and never revisited: the first trial at a rung always goes on, so trials need not
 * wait for each other. A report past several rungs at once is recorded at each, lowest first.
 *
 * <p>Thread-safe (trials report from their own metrics threads). NaN losses count as the worst.
 */
public final class Asha {
    private final long minExamples;
    private final int eta;
    private final List<List<Double>> rungs = new ArrayList<>();
    private final Map<Integer, Integer> nextRung = new HashMap<>();
    private final Set<Integer> stopped = new TreeSet<>();

    /**
     * @param minExamples examples trained at the first rung (at least 1)
     * @param eta         the reduction factor: about one trial in eta goes on at each rung (at least 2)
     */
    public Asha(long minExamples, int eta) {
        if (minExamples < 1) throw new IllegalArgumentException("ASHA's first rung needs at least 1 example, got " + minExamples);
        if (eta < 2) throw new IllegalArgumentException("ASHA's reduction factor eta must be at least 2, got " + eta);
        this.minExamples = minExamples;
        this.eta = eta;
    }

    public long minExamples() {
        return minExamples;
    }

    public int eta() {
        return eta;
    }

    /** The examples trained at rung k: minExamples · eta^k (saturating). */
    public long rung(int k) {
        long r = minExamples;
        for (int i = 0; i < k; i++) r = r > Long.MAX_VALUE / eta ? Long.MAX_VALUE : r * eta;
        return r;
    }

    /**
     * Trial {@code trial} has been evaluated after {@code examples} training examples with this loss (lower is better):
     * returns whether it goes on. A stopped trial's later reports return false and are not recorded.
     */
    public synchronized boolean report(int trial, long examples, double loss) {
        if (stopped.contains(trial)) return false;
        double l = Double.isNaN(loss) ? Double.POSITIVE_INFINITY : loss;
        int k = nextRung.getOrDefault(trial, 0);
        while (rung(k) <= examples && rung(k) != Long.MAX_VALUE) {
            while (rungs.size() <= k) rungs.add(new ArrayList<>());
            List<Double> at = rungs.get(k);
            at.add(l);
            int better = 0;
            for (double x : at) if (x < l) better++;
            int keep = Math.max(1, at.size() / eta);
            k++;
            nextRung.put(trial, k);
            if (better >= keep) {
                stopped.add(trial);
                return false;
            }
        }
        return true;
    }

    /** The trials stopped so far, in increasing order. */
    public synchronized Set<Integer> stopped() {
        return new TreeSet<>(stopped);
    }

    /** The losses recorded at rung k, in the order they arrived. */
    public synchronized List<Double> recorded(int k) {
        return k < rungs.size() ? List.copyOf(rungs.get(k)) : List.of();
    }
}
