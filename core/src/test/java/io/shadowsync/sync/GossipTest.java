package io.shadowsync.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Gossip's schedules and rounds, on replicas that do not train between rounds (as the paper's consensus analysis). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GossipTest {
    /** The schedule's seed of the jobs these tests build (SyncContext's seed 0). */
    static final long SEED = Gossip.scheduleSeed(0);

    /** Each trainer's gossip instance over the group, with the given schedule, as the registry builds it. */
    static SyncAlgorithm[] gossip(Collective[] group, int size, GossipSchedule schedule) {
        SyncSpec spec = SyncSpec.of("s-gossip").withGossipSchedule(schedule);
        return SyncAlgorithmTest.each(group.length, r -> SyncAlgorithms.get("s-gossip").create(
                new SyncContext(spec, group.length, new float[size], group[r], null)));
    }

    /** sqrt(Σ_r Σ_i (w_r[i] − mean[i])²): how far the replicas are from agreeing. */
    static double spread(float[][] w) {
        double[] mean = mean(w);
        double s = 0;
        for (float[] x : w) for (int i = 0; i < x.length; i++) s += (x[i] - mean[i]) * (x[i] - mean[i]);
        return Math.sqrt(s);
    }

    static double[] mean(float[][] w) {
        double[] m = new double[w[0].length];
        for (float[] x : w) for (int i = 0; i < x.length; i++) m[i] += (double) x[i] / w.length;
        return m;
    }

    /** The ring schedule written out for 8: even rounds pair (0,1)(2,3)(4,5)(6,7), odd rounds (1,2)(3,4)(5,6)(7,0). */
    static int ringPeer8(int r, int round) {
        if (round % 2 == 0) return r ^ 1;
        return r % 2 == 1 ? (r + 1) % 8 : (r + 7) % 8;
    }

    /** The mixing matrix of one round: x ← W x, W averaging each pair (doubles). */
    static double[][] mixing(int round) {
        double[][] m = new double[8][8];
        for (int r = 0; r < 8; r++) {
            m[r][r] = 0.5;
            m[r][ringPeer8(r, round)] += 0.5;
        }
        return m;
    }

    static double[] times(double[][] m, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) for (int j = 0; j < x.length; j++) y[i] += m[i][j] * x[j];
        return y;
    }

    /**
     * ρ, the per-round rate of the ring schedule on 8: the square root of the spectral radius of the two-round mixing
     * matrix W_odd·W_even on the vectors of mean zero, as the mean growth of a vector of mean zero over 400 products
     * (in doubles; it is 1/√2: the two-round matrix has the eigenvalue 1/2 twice on them).
     */
    static double ringRate() {
        double[] x = new double[8];
        for (int i = 0; i < 8; i++) x[i] = Math.sin(1 + 3.7 * i); // not orthogonal to the slowest mode
        int k = 400;
        double logGrowth = 0;
        for (int it = 0; it < k; it++) {
            double m = 0;
            for (double v : x) m += v / 8;
            for (int i = 0; i < 8; i++) x[i] -= m; // the matrices keep the mean; this removes the rounding's share of it
            double before = norm(x);
            x = times(mixing(1), times(mixing(0), x));
            double after = norm(x);
            logGrowth += Math.log(after / before);
            for (int i = 0; i < 8; i++) x[i] /= after;
        }
        return Math.sqrt(Math.exp(logGrowth / k));
    }

    static double norm(double[] x) {
        double s = 0;
        for (double v : x) s += v * v;
        return Math.sqrt(s);
    }

    /**
     * On a ring of 8 without training, the replicas converge to their mean at the rate of the ring schedule's mixing
     * matrix: after r rounds the spread is at most C·ρ^r of the first (C = 2.5; ρ = 1/√2, and
     * ‖(W_odd·W_even)^k‖ = √2·2^−k on the vectors of mean zero), every replica follows the doubles
     * x ← W x of the schedule, and the mean stays where it was up to float rounding. Caught: a round that does nothing
     * or that takes the peer's replica instead of the average (the spread never shrinks), an average with the wrong
     * peer or with the peer of another round (the replicas leave the doubles' path), a write-back that loses or adds
     * (the mean moves).
     */
    @Test
    void aRingOfEightConvergesToTheMeanAtTheScheduleRate() throws Exception {
        int n = 8, size = 64, rounds = 40;
        double rho = ringRate();
        assertEquals(Math.sqrt(0.5), rho, 5e-3, "the ring schedule's rate " + rho);
        Collective[] group = InProcessCollectives.create(n, LinkModel.NONE);
        SyncAlgorithm[] algs = gossip(group, size, GossipSchedule.RING);
        float[][] w = SyncAlgorithmTest.replicas(n, size);
        double[] mean0 = mean(w);
        double spread0 = spread(w);
        double[][] x = new double[size][n]; // coordinate i of every replica, as the schedule's matrices move it
        for (int i = 0; i < size; i++) for (int r = 0; r < n; r++) x[i][r] = w[r][i];
        for (int round = 0; round < rounds; round++) {
            int[] active = SyncAlgorithmTest.roundAll(algs, w, true);
            assertEquals(n, active[0]);
            for (int i = 0; i < size; i++) x[i] = times(mixing(round), x[i]);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < size; i++) assertEquals(x[i][r], w[r][i], 1e-5, "round " + round + " replica " + r + " element " + i);
            }
            double[] m = mean(w);
            for (int i = 0; i < size; i++) assertEquals(mean0[i], m[i], 1e-6, "round " + round + ": the mean of element " + i);
            double s = spread(w);
            assertTrue(s <= 2.5 * Math.pow(rho, round + 1) * spread0, "round " + round + ": spread " + s + " > 2.5·" + rho + "^" + (round + 1) + "·" + spread0);
        }
        assertTrue(spread(w) < 1e-3 * spread0, "converged: " + spread(w) + " of " + spread0);
        for (Collective c : group) c.close();
    }

    /**
     * With every schedule and N = 2, 5, 8: after one round both members of a pair hold the same bits, (a + b)/2, and a
     * trainer that sits out keeps its replica. Caught: a pair that averages in a different order on each side (the
     * bits differ), half-way moves, a sitter that averages with itself wrongly.
     */
    @Test
    void bothMembersOfAPairGetTheSameAverage() throws Exception {
        for (GossipSchedule schedule : GossipSchedule.values()) {
            for (int n : new int[] {2, 5, 8}) {
                int size = 33;
                Collective[] group = InProcessCollectives.create(n, LinkModel.NONE);
                SyncAlgorithm[] algs = gossip(group, size, schedule);
                float[][] w = SyncAlgorithmTest.replicas(n, size);
                for (int round = 0; round < 3; round++) {
                    float[][] before = new float[n][];
                    for (int r = 0; r < n; r++) before[r] = w[r].clone();
                    SyncAlgorithmTest.roundAll(algs, w, true);
                    for (int r = 0; r < n; r++) {
                        int p = schedule.peer(r, n, round, SEED);
                        String what = schedule + " N=" + n + " round " + round + " trainer " + r + " with " + p;
                        if (p == r) {
                            assertArrayEquals(before[r], w[r], what + " sits out");
                            continue;
                        }
                        // the same t = (a + b)/2 on both sides, bit for bit (the last-round test sees the bits); the
                        // write-back w += t − s of a training trainer may round it by an ulp
                        assertArrayEquals(w[p], w[r], 1e-6f, what + ": the same average");
                        for (int i = 0; i < size; i++) assertEquals((before[r][i] + before[p][i]) / 2, w[r][i], 1e-6, what);
                    }
                }
                for (Collective c : group) c.close();
            }
        }
    }

    /**
     * Every schedule pairs: the peer of a peer is the trainer itself, in range, for N = 1..17 and many rounds; an even
     * N leaves nobody out of the random matching, an odd one exactly one; the ring alternates neighbours; the
     * hypercube flips one bit per round and, off a power of two, lets the trainers whose partner does not exist sit out.
     */
    @Test
    void schedulesArePairings() {
        for (GossipSchedule s : GossipSchedule.values()) {
            for (int n = 1; n <= 17; n++) {
                for (long round = 0; round < 50; round++) {
                    int alone = 0;
                    for (int r = 0; r < n; r++) {
                        int p = s.peer(r, n, round, SEED);
                        assertTrue(p >= 0 && p < n, s + " N=" + n + " round " + round + ": peer " + p + " of " + r);
                        assertEquals(r, s.peer(p, n, round, SEED), s + " N=" + n + " round " + round + ": " + r + " → " + p + " → back");
                        if (p == r) alone++;
                    }
                    if (s != GossipSchedule.HYPERCUBE) assertEquals(n % 2, alone, s + " N=" + n + " round " + round + ": trainers left out");
                }
            }
        }
        for (int round = 0; round < 4; round++) {
            for (int r = 0; r < 8; r++) {
                assertEquals(ringPeer8(r, round), GossipSchedule.RING.peer(r, 8, round, SEED));
                assertEquals(r ^ (1 << (round % 3)), GossipSchedule.HYPERCUBE.peer(r, 8, round, SEED));
            }
        }
        // N = 6: three dimensions; in round 2 (bit 4) trainers 2 and 3 have no partner (6, 7) and sit out
        assertEquals(4, GossipSchedule.HYPERCUBE.peer(0, 6, 2, SEED));
        assertEquals(2, GossipSchedule.HYPERCUBE.peer(2, 6, 2, SEED));
        assertEquals(3, GossipSchedule.HYPERCUBE.peer(3, 6, 2, SEED));
        // the random matching changes from round to round, and only with the round (and the seed)
        Set<Integer> peersOfZero = new HashSet<>();
        for (int round = 0; round < 20; round++) peersOfZero.add(GossipSchedule.RANDOM.peer(0, 8, round, SEED));
        assertTrue(peersOfZero.size() >= 4, "trainer 0's peers over 20 rounds: " + peersOfZero);
        assertEquals(GossipSchedule.RANDOM.peer(3, 8, 7, SEED), GossipSchedule.RANDOM.peer(3, 8, 7, SEED));
        assertEquals(GossipSchedule.RANDOM, GossipSchedule.named("Random"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GossipSchedule.named("star"));
        assertTrue(e.getMessage().contains("'star'") && e.getMessage().contains("ring, hypercube, random"), e.getMessage());
    }

    /** Gossip under the random schedule on the group, trainer r given job seed seeds[r]. */
    static SyncAlgorithm[] randomGossip(Collective[] group, int size, long... seeds) {
        SyncSpec spec = SyncSpec.of("s-gossip").withGossipSchedule(GossipSchedule.RANDOM);
        return SyncAlgorithmTest.each(group.length, r -> SyncAlgorithms.get("s-gossip").create(
                new SyncContext(spec, group.length, new float[size], group[r], null, Codec.FLOAT32, seeds[r])));
    }

    /**
     * The random schedule's pairings come from the job's seed: two seeds draw different pairings; the trainers of a
     * job of seed 42 average, round after round, with the peers the schedule draws from that seed (seen in their
     * replicas: each becomes the mean of its own and its peer's); trainers given different seeds disagree, and the
     * exchange refuses their pairing on every trainer instead of hanging. Caught: a fixed seed (every job pairs alike),
     * a seed not passed from the job to the registry's gossip (seed 0's pairs), one drawn per trainer (no pairing).
     */
    @Test
    void theRandomScheduleIsDrawnFromTheJobsSeed() throws Exception {
        int n = 8, size = 3;
        long mine = Gossip.scheduleSeed(42), other = Gossip.scheduleSeed(0);
        int differ = 0;
        for (int round = 0; round < 4; round++) {
            for (int r = 0; r < n; r++) if (GossipSchedule.RANDOM.peer(r, n, round, mine) != GossipSchedule.RANDOM.peer(r, n, round, other)) differ++;
        }
        assertTrue(differ > 0, "seeds 42 and 0 draw the same pairs in 4 rounds");
        Collective[] group = InProcessCollectives.create(n, LinkModel.NONE);
        long[] seeds = new long[n];
        java.util.Arrays.fill(seeds, 42);
        SyncAlgorithm[] algs = randomGossip(group, size, seeds);
        for (int round = 0; round < 4; round++) {
            float[][] w = new float[n][size];
            for (int r = 0; r < n; r++) java.util.Arrays.fill(w[r], 4 * r); // exact halves: the mean tells the peer
            SyncAlgorithmTest.roundAll(algs, w, true);
            for (int r = 0; r < n; r++) {
                int peer = Math.round(w[r][0] / 2 - r);
                assertEquals(GossipSchedule.RANDOM.peer(r, n, round, mine), peer, "round " + round + ": trainer " + r + "'s peer");
            }
        }
        for (Collective c : group) c.close();

        Collective[] split = InProcessCollectives.create(n, LinkModel.NONE);
        long[] two = {42, 42, 42, 42, 43, 43, 43, 43};
        SyncAlgorithm[] disagree = randomGossip(split, size, two);
        Exception e = assertThrows(Exception.class, () -> SyncAlgorithmTest.roundAll(disagree, new float[n][size], true));
        assertTrue(String.valueOf(e.getMessage()).contains("must form pairs"), String.valueOf(e.getMessage()));
        for (Collective c : split) c.close();
    }

    /** The hypercube on 8 reaches the exact mean in log2 8 = 3 rounds. Caught: a dimension skipped or taken twice. */
    @Test
    void theHypercubeOfEightReachesTheMeanInThreeRounds() throws Exception {
        int n = 8, size = 16;
        Collective[] group = InProcessCollectives.create(n, LinkModel.NONE);
        SyncAlgorithm[] algs = gossip(group, size, GossipSchedule.HYPERCUBE);
        float[][] w = SyncAlgorithmTest.replicas(n, size);
        double[] mean = mean(w);
        SyncAlgorithmTest.roundAll(algs, w, true);
        SyncAlgorithmTest.roundAll(algs, w, true);
        assertTrue(spread(w) > 0.1, "two rounds are not enough: " + spread(w));
        SyncAlgorithmTest.roundAll(algs, w, true);
        for (int r = 0; r < n; r++) for (int i = 0; i < size; i++) assertEquals(mean[i], w[r][i], 1e-6, "replica " + r + " element " + i);
        for (Collective c : group) c.close();
    }

    /**
     * Every schedule converges where the pairing is not perfect: an odd N (one trainer sits out each round) and the
     * incomplete hypercube of N = 6 (those whose partner would be rank 6 or 7 sit out). Caught: a hypercube of
     * ⌊log2 N⌋ dimensions, which never links trainers 4 and 5 to the others; a sitter that is always the same trainer.
     */
    @Test
    void everyScheduleConvergesOffAPerfectPairing() throws Exception {
        for (GossipSchedule schedule : GossipSchedule.values()) {
            for (int n : new int[] {5, 6}) {
                int size = 8;
                Collective[] group = InProcessCollectives.create(n, LinkModel.NONE);
                SyncAlgorithm[] algs = gossip(group, size, schedule);
                float[][] w = SyncAlgorithmTest.replicas(n, size);
                double spread0 = spread(w);
                for (int round = 0; round < 60; round++) SyncAlgorithmTest.roundAll(algs, w, true);
                assertTrue(spread(w) < 1e-3 * spread0, schedule + " N=" + n + ": spread " + spread(w) + " of " + spread0 + " after 60 rounds");
                for (Collective c : group) c.close();
            }
        }
    }

    /**
     * Under a lossy codec (bf16) the mean still stays put: each side moves by half the difference of the two encoded
     * replicas. Caught: t = (s + q(s_peer)) / 2, whose rounding walks the mean away (about 1e-4 a round here), while
     * the replicas still converge to the codec's precision.
     */
    @Test
    void aLossyCodecNeitherMovesTheMeanNorStopsConvergence() throws Exception {
        int n = 8, size = 256;
        Collective[] group = InProcessCollectives.create(n, LinkModel.NONE, Codec.BF16);
        SyncAlgorithm[] algs = gossip(group, size, GossipSchedule.RANDOM);
        float[][] w = SyncAlgorithmTest.replicas(n, size);
        double[] mean0 = mean(w);
        double spread0 = spread(w);
        for (int round = 0; round < 20; round++) SyncAlgorithmTest.roundAll(algs, w, true);
        double[] m = mean(w);
        for (int i = 0; i < size; i++) assertEquals(mean0[i], m[i], 2e-6, "the mean of element " + i);
        assertTrue(spread(w) < 0.05 * spread0, "converged to the codec's precision: " + spread(w) + " of " + spread0);
        assertTrue(group[0].bytesSent() > 0);
        for (Collective c : group) c.close();
    }

    /**
     * Replicas of a model whose weights are far from 0 in a tenth of its coordinates ({@code 10 + noise}) and spread
     * around 0 elsewhere: top-k on the parameters themselves would pick the large weights every round and never mix
     * the rest, int8 on them would round every value to a scale set by the large ones.
     */
    static float[][] offsetReplicas(int n, int size) {
        float[][] w = SyncAlgorithmTest.replicas(n, size);
        for (float[] x : w) for (int i = 0; i < size; i += 10) x[i] += 10;
        return w;
    }

    /**
     * Gossip under every lossy codec, 8 trainers that do not train, 60 random rounds and the last: every pair keeps
     * its sum (each member moves by minus the other's move, up to float rounding), so the mean stays put; the
     * replicas converge to it far below the codec's error on the parameters (the offsets from the reference, the
     * first round's average, shrink with the spread, and so does what the codec loses of them); the last round ends
     * every replica on the same bits; fewer bytes go out than float32 would send. Caught: top-k or int8 on the
     * parameters instead of the offsets (top-k never mixes the coordinates outside the large weights, int8 stalls at
     * its scale, about 0.04 here), a move by the peer's decoded offset against this trainer's undecoded one (the mean
     * walks), error feedback on the offsets (a residual sends again what the offset still holds: the replicas
     * overshoot and stop converging), a reference that differs between the members (the replicas leave the mean).
     */
    @ParameterizedTest
    @ValueSource(strings = {"fp16", "bf16", "int8", "int8:stochastic", "topk:0.1"})
    void everyLossyCodecKeepsTheMeanAndConverges(String name) throws Exception {
        int n = 8, size = 256, rounds = 60;
        Codec codec = Codec.named(name);
        Collective[] group = InProcessCollectives.create(n, LinkModel.NONE, codec);
        SyncAlgorithm[] algs = gossip(group, size, GossipSchedule.RANDOM);
        float[][] w = offsetReplicas(n, size);
        double[] mean0 = mean(w);
        double spread0 = spread(w);
        for (int round = 0; round < rounds; round++) {
            float[][] before = new float[n][];
            for (int r = 0; r < n; r++) before[r] = w[r].clone();
            SyncAlgorithmTest.roundAll(algs, w, true);
            for (int r = 0; r < n; r++) {
                int p = GossipSchedule.RANDOM.peer(r, n, round, SEED);
                for (int i = 0; i < size; i++) {
                    assertEquals((double) before[r][i] + before[p][i], (double) w[r][i] + w[p][i], 1e-5,
                            name + " round " + round + ": the sum of pair " + r + ", " + p + " at element " + i);
                }
            }
        }
        double s = spread(w);
        double[] m = mean(w);
        for (int i = 0; i < size; i++) assertEquals(mean0[i], m[i], 2e-5, name + ": the mean of element " + i);
        // top-k mixes a tenth of the coordinates a round (measured: 2.6e-3 of the start after 60 rounds; on the
        // parameters themselves about 0.95: the nine tenths outside the large weights never move)
        double bound = name.startsWith("topk") ? 1e-2 : 1e-3;
        assertTrue(s < bound * spread0, name + ": spread " + s + " of " + spread0 + " after " + rounds + " rounds");
        int[] active = SyncAlgorithmTest.roundAll(algs, w, false);
        for (int r = 0; r < n; r++) {
            assertEquals(0, active[r]);
            assertArrayEquals(w[0], w[r], name + ": replica " + r + " is replica 0, bit for bit, after the last round");
        }
        double ratio = (double) algs[0].rawBytesSent() / algs[0].bytesSent();
        assertTrue(ratio > 1.3, name + ": compression ratio " + ratio);
        for (Collective c : group) c.close();
    }

    /**
     * The round number is the checkpoint state, and a trainer whose number lags (restored from an older state, or
     * one that missed a round when its group changed) takes the group's latest, so every trainer draws the same
     * pairs (else the exchange refuses a pairing that is not symmetric). Then the last round gives every trainer the
     * mean of all, bit for bit.
     */
    @Test
    void theRoundNumberIsTheStateAndTheGroupAgreesOnIt() throws Exception {
        int n = 4, size = 9;
        Collective[] group = InProcessCollectives.create(n, LinkModel.NONE);
        SyncAlgorithm[] algs = gossip(group, size, GossipSchedule.RANDOM);
        float[][] state = algs[2].state();
        assertEquals(1, state.length);
        int lag = 1; // a round that pairs trainer 0 otherwise than round 0 does (else this test shows nothing)
        while (GossipSchedule.RANDOM.peer(0, n, 0, SEED) == GossipSchedule.RANDOM.peer(0, n, lag, SEED)) lag++;
        state[0][1] = lag; // trainer 2 restored at that round, the others at 0
        float[][] w = SyncAlgorithmTest.replicas(n, size);
        float[][] before = new float[n][];
        for (int r = 0; r < n; r++) before[r] = w[r].clone();
        SyncAlgorithmTest.roundAll(algs, w, true);
        for (int r = 0; r < n; r++) {
            int p = GossipSchedule.RANDOM.peer(r, n, lag, SEED);
            for (int i = 0; i < size; i++) assertEquals((before[r][i] + before[p][i]) / 2, w[r][i], 1e-6, "trainer " + r + " with its peer of round " + lag);
            assertEquals(lag + 1f, algs[r].state()[0][1], "trainer " + r + "'s round number");
        }
        double[] mean = mean(w);
        int[] active = SyncAlgorithmTest.roundAll(algs, w, false);
        for (int r = 0; r < n; r++) {
            assertEquals(0, active[r]);
            assertArrayEquals(w[0], w[r], "replica " + r + " is replica 0, bit for bit");
        }
        for (int i = 0; i < size; i++) assertEquals(mean[i], w[0][i], 1e-6);
        for (Collective c : group) c.close();
    }
}
