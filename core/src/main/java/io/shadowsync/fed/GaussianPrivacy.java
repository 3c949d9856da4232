package io.shadowsync.fed;

import java.util.SplittableRandom;

/**
 * Central differential privacy for federated rounds in the form of DP-FedAvg (McMahan et al., "Learning
 * Differentially Private Recurrent Language Models", 2018): every client's update is clipped to L2 norm C, the server
 * adds Gaussian noise of standard deviation σ = z·C to their sum and divides by the expected number of clients per
 * round (q·K, fixed, so that one client's presence changes the sum by at most C before noise). Clients take part by
 * Poisson sampling (each with probability q), which is what {@link RdpAccountant} analyses.
 *
 * <p>Threading: {@link #clipInPlace} keeps no state and runs on the client threads at once; {@link #noisyMean} draws
 * from the generator and runs on the server's thread only.
 *
 * <p>The noise is drawn on the server from a seeded generator: reproducible runs, and not a cryptographic source —
 * fine for measuring utility, not for a deployment that must resist a party who knows the seed.
 */
public final class GaussianPrivacy {
    private final double clip;
    private final double noise;
    private final SplittableRandom rng;

    /**
     * @param clip  C, the L2 norm each update is clipped to
     * @param noise z, the noise multiplier
     */
    public GaussianPrivacy(double clip, double noise, long seed) {
        if (!(clip > 0 && Double.isFinite(clip))) throw new IllegalArgumentException("--dp-clip must be a positive number, got " + clip);
        if (!(noise >= 0 && Double.isFinite(noise))) throw new IllegalArgumentException("--dp-noise must be zero or positive, got " + noise);
        this.clip = clip;
        this.noise = noise;
        this.rng = new SplittableRandom(seed);
    }

    public double clip() {
        return clip;
    }

    public double noise() {
        return noise;
    }

    /** Scales u in place so that its L2 norm is at most C; returns the norm it had. */
    public double clipInPlace(float[] u) {
        return clipInPlace(u, new RowDelta[0]);
    }

    /**
     * Scales the whole update of a model with tables, the dense change and every changed row together, so that its
     * L2 norm is at most C; returns the norm it had.
     */
    public double clipInPlace(float[] dense, RowDelta[] rows) {
        double s = 0;
        for (float v : dense) s += (double) v * v;
        for (RowDelta r : rows) for (float v : r.values()) s += (double) v * v;
        double norm = Math.sqrt(s);
        if (norm > clip) {
            float f = (float) (clip / norm);
            for (int i = 0; i < dense.length; i++) dense[i] *= f;
            for (RowDelta r : rows) for (int i = 0; i < r.values().length; i++) r.values()[i] *= f;
        }
        return norm;
    }

    /** sum ← (sum + N(0, (z·C)²)) / expectedClients, in place: the round's private mean update. */
    public void noisyMean(float[] sum, double expectedClients) {
        if (!(expectedClients > 0)) throw new IllegalArgumentException("expected clients per round must be positive, got " + expectedClients);
        double sigma = noise * clip;
        for (int i = 0; i < sum.length; i++) sum[i] = (float) ((sum[i] + sigma * rng.nextGaussian()) / expectedClients);
    }
}
