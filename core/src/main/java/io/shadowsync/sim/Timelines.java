package io.shadowsync.sim;

import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.Gossip;
import io.shadowsync.sync.GossipSchedule;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * What a {@link ScalingSimulation} records to tell staleness: the rounds of trainers 0 and 1 (start: the snapshot;
 * end: the new values in the replica), and for asynchronous SGD one worker's pushes and another's pulls. Staleness is
 * the mean, over update times u spread evenly over the measured window, of the time until the update is in another
 * replica:
 * <ul>
 *   <li>a collective round (ring; foreground; synchronous SGD's allreduce): the end of the first round of trainer 0
 *       that starts at or after u — one round;</li>
 *   <li>a center on the server: trainer 0's next round pushes it, trainer 1's first round that starts after that push
 *       pulls it — two rounds;</li>
 *   <li>pairwise (gossip): the first round's lag, plus the further rounds the schedule's pairings take to carry it to
 *       another trainer (the mean over sources, targets and starting rounds) at the mean round period;</li>
 *   <li>asynchronous SGD: from a worker's push to the end of the first pull of another worker after its delivery.</li>
 * </ul>
 */
final class Timelines {
    private double from = Double.POSITIVE_INFINITY;
    private final List<double[]> rounds0 = new ArrayList<>(), rounds1 = new ArrayList<>();
    private final List<double[]> pushes = new ArrayList<>(), pulls = new ArrayList<>();
    private long count0;

    /** Staleness in rounds and seconds (NaN when nothing is synchronized). */
    record Staleness(double rounds, double seconds) {
        static final Staleness NONE = new Staleness(Double.NaN, Double.NaN);
    }

    void measureFrom(double t) {
        from = t;
    }

    void round(int t, double start, double end, ScalingSimulation s) {
        if (t == 0) {
            rounds0.add(new double[] {start, end});
            if (s.measuring()) count0++;
        } else if (t == 1) {
            rounds1.add(new double[] {start, end});
        }
    }

    /** Rounds of trainer 0 that ended in the measured window. */
    long rounds0() {
        return count0;
    }

    void push(int t, int w, double start, double delivered, ScalingSimulation s) {
        if (t == 0 && w == 0 && s.measuring()) pushes.add(new double[] {start, delivered});
    }

    void pull(int t, int w, double start, double end, ScalingSimulation s) {
        boolean observer = s.n > 1 ? t == 1 && w == 0 : t == 0 && w == 1;
        if (observer) pulls.add(new double[] {start, end});
    }

    Staleness staleness(ScalingSimulation s) {
        AlgorithmDescriptor a = s.algo;
        if (a.serverOptimizer()) return asyncPs();
        if (a.rounds() == null && !a.workerGroup()) return Staleness.NONE; // independent trainers
        if (a.rounds() != null && (s.n == 1 || a.idleAlone(s.job.sync(), s.n))) return Staleness.NONE;
        double[][] r0 = window(rounds0);
        if (r0.length < 4) return Staleness.NONE;
        double a0 = r0[0][0], b0 = r0[r0.length - 3][0];
        int samples = 2000;
        if (a.centerOnServer()) {
            double[][] r1 = window(rounds1);
            double sum = 0;
            int k = 0;
            for (int i = 0; i < samples; i++) {
                double u = a0 + (b0 - a0) * i / samples;
                double pushed = endOfFirstStartingAfter(r0, u);
                double seen = endOfFirstStartingAfter(r1, pushed);
                if (Double.isNaN(seen)) continue;
                sum += seen - u;
                k++;
            }
            return k == 0 ? Staleness.NONE : new Staleness(2, sum / k);
        }
        double lag = 0;
        for (int i = 0; i < samples; i++) {
            double u = a0 + (b0 - a0) * i / samples;
            lag += endOfFirstStartingAfter(r0, u) - u;
        }
        lag /= samples;
        if (!a.pairwise()) return new Staleness(1, lag);
        double hops = gossipRounds(s.job.sync().gossipSchedule(), s.n);
        double period = (r0[r0.length - 1][0] - r0[0][0]) / (r0.length - 1);
        return new Staleness(hops, lag + (hops - 1) * period);
    }

    private Staleness asyncPs() {
        double[][] p = window(pulls);
        if (p.length == 0 || pushes.isEmpty()) return Staleness.NONE;
        double sum = 0;
        int k = 0;
        for (double[] push : pushes) {
            for (double[] pull : p) {
                if (pull[0] >= push[1]) {
                    sum += pull[1] - push[0];
                    k++;
                    break;
                }
            }
        }
        return k == 0 ? Staleness.NONE : new Staleness(Double.NaN, sum / k);
    }

    private double[][] window(List<double[]> l) {
        List<double[]> out = new ArrayList<>();
        for (double[] r : l) if (r[0] >= from) out.add(r);
        return out.toArray(new double[0][]);
    }

    /** The end of the first round (sorted by start) that starts at or after u; NaN when none. */
    private static double endOfFirstStartingAfter(double[][] r, double u) {
        int lo = 0, hi = r.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (r[mid][0] < u) lo = mid + 1;
            else hi = mid;
        }
        return lo < r.length ? r[lo][1] : Double.NaN;
    }

    /**
     * The mean number of gossip rounds, counting the first, until what one trainer holds reaches another: over up to
     * 16 sources, 4 starting rounds and every other trainer, following the schedule's pairings.
     */
    static double gossipRounds(GossipSchedule schedule, int n) {
        if (n < 2) return Double.NaN;
        double sum = 0;
        long count = 0;
        int sources = Math.min(n, 16);
        for (int si = 0; si < sources; si++) {
            int src = (int) ((long) si * n / sources);
            for (long r0 = 0; r0 < 4; r0++) {
                BitSet has = new BitSet(n);
                has.set(src);
                int[] reached = new int[n];
                int informed = 1;
                for (long r = r0; informed < n && r < r0 + 4L * n + 8; r++) {
                    BitSet next = (BitSet) has.clone();
                    for (int i = 0; i < n; i++) {
                        if (has.get(i)) continue;
                        int p = schedule.partner(i, n, r, Gossip.scheduleSeed(0L));
                        if (p != i && has.get(p)) {
                            next.set(i);
                            reached[i] = (int) (r - r0 + 1);
                            informed++;
                        }
                    }
                    has = next;
                }
                for (int i = 0; i < n; i++) {
                    if (i == src || !has.get(i)) continue;
                    sum += reached[i];
                    count++;
                }
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }
}
