package io.shadowsync.nn;

import java.util.SplittableRandom;

/**
 * Seeded, deterministic parameter initialization. Every tensor draws from its own {@link SplittableRandom}
 * seeded from (model seed, tensor name), so a tensor's initial values do not depend on which other tensors
 * exist or in which order they are initialized.
 */
public final class Init {
    private Init() {}

    /** Seed of tensor name under model seed: splitmix64 of the seed mixed with the name's hash. */
    public static long tensorSeed(long seed, String name) {
        return splitmix64(seed ^ splitmix64(name.hashCode()));
    }

    /** x[off .. off+n) ~ U(−bound, bound). */
    public static void uniform(float[] x, int off, int n, float bound, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) x[off + i] = (float) ((2 * r.nextDouble() - 1) * bound);
    }

    /** x[off .. off+n) ~ N(0, std²). */
    public static void normal(float[] x, int off, int n, float std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) x[off + i] = (float) (r.nextGaussian() * std);
    }

    /** Glorot/Xavier uniform bound for a [fanOut × fanIn] weight: sqrt(6 / (fanIn + fanOut)). */
    public static float xavierBound(int fanIn, int fanOut) {
        return (float) Math.sqrt(6.0 / (fanIn + fanOut));
    }

    /** He/Kaiming uniform bound for a weight followed by ReLU (gain √2, fan-in mode): sqrt(6 / fanIn). */
    public static float heBound(int fanIn) {
        return (float) Math.sqrt(6.0 / fanIn);
    }

    static long splitmix64(long x) {
        x += 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }
}
