package io.shadowsync.sync;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Who averages with whom in round r of a gossip job ({@link Gossip}): a pairing of the N current members, the same on
 * every member because it depends only on N, r and (for {@link #RANDOM}) a seed that every member shares. A member
 * whose peer is itself sits the round out.
 */
public enum GossipSchedule {
    /**
     * The members on a cycle, alternating: even rounds pair (0, 1), (2, 3), …; odd rounds (1, 2), (3, 4), …, (N−1, 0).
     * Each member averages with its right neighbour, then with its left one. With an odd N one member sits out each
     * round (N−1 in even rounds, 0 in odd ones). Mixes slowly on large N (information travels one hop a round).
     */
    RING {
        @Override
        int peer(int rank, int n, long round, long seed) {
            int s = Math.floorMod(rank - (round & 1), n); // position on the cycle shifted by one in odd rounds
            int t = (s & 1) == 0 ? s + 1 : s - 1;
            if (t >= n) return rank; // odd N: the last position has no partner
            return Math.floorMod(t + (round & 1), n);
        }
    },
    /**
     * The hypercube: the peer is {@code rank XOR 2^(r mod d)} with d = ⌈log2 N⌉ dimensions. With N a power of two, d
     * rounds take every member to the exact mean of the replicas (without training in between). Otherwise the cube is
     * incomplete: a member whose partner rank would be N or more sits that round out (every member still reaches
     * rank 0 through the dimensions, so the replicas still converge, somewhat slower).
     */
    HYPERCUBE {
        @Override
        int peer(int rank, int n, long round, long seed) {
            if (n == 1) return rank;
            int dims = 32 - Integer.numberOfLeadingZeros(n - 1); // ⌈log2 n⌉
            int p = rank ^ (1 << Math.floorMod(round, dims));
            return p < n ? p : rank;
        }
    },
    /**
     * A random perfect matching per round: a permutation drawn from the job's seed and the round number, paired as
     * positions (0, 1), (2, 3), …; with an odd N the last position sits out. Mixes fast on any N (the default).
     */
    RANDOM {
        @Override
        int peer(int rank, int n, long round, long seed) {
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            SplittableRandom rnd = new SplittableRandom(seed ^ (round * 0x9E3779B97F4A7C15L));
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            int pos = 0;
            while (perm[pos] != rank) pos++;
            int other = pos ^ 1;
            return other < n ? perm[other] : rank;
        }
    };

    /** The schedule a job runs when none is given. */
    public static final GossipSchedule DEFAULT = RANDOM;

    /**
     * The peer of {@code rank} among n members in the given round: a member of [0, n), and symmetric (the peer's peer
     * is rank); rank itself when it sits the round out.
     *
     * @param seed the seed every member shares (only {@link #RANDOM} uses it)
     */
    abstract int peer(int rank, int n, long round, long seed);

    /** {@link #peer}, for code outside this package that plans rounds (the scaling simulator's staleness). */
    public int partner(int rank, int n, long round, long seed) {
        if (n < 1 || rank < 0 || rank >= n) throw new IllegalArgumentException("rank " + rank + " is not one of " + n + " members");
        return peer(rank, n, round, seed);
    }

    /** The name a job gives: {@code ring}, {@code hypercube} or {@code random}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The schedule a job names (any case).
     *
     * @throws IllegalArgumentException naming the valid ones
     */
    public static GossipSchedule named(String name) {
        for (GossipSchedule s : values()) if (s.key().equalsIgnoreCase(String.valueOf(name).trim())) return s;
        throw new IllegalArgumentException("unknown gossip schedule '" + name + "' (valid: ring, hypercube, random)");
    }
}
