package io.shadowsync.fed;

import io.shadowsync.data.ArraySource;
import io.shadowsync.data.InMemorySource;
import java.io.IOException;
import java.util.SplittableRandom;

/** Test data: Gaussian blobs, one per class, around seeded centers; a small MLP separates them to ~95 %. */
final class Blobs {
    static final int DIMS = 8;

    private Blobs() {}

    /** n examples in classes 0..classes−1 (class i % classes, so every class is equally frequent). */
    static InMemorySource make(int n, int classes, long seed) throws IOException {
        SplittableRandom centers = new SplittableRandom(42);
        float[][] mu = new float[classes][DIMS];
        for (float[] m : mu) for (int d = 0; d < DIMS; d++) m[d] = (float) (2 * centers.nextGaussian());
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] x = new float[n][DIMS];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            int c = i % classes;
            y[i] = c;
            for (int d = 0; d < DIMS; d++) x[i][d] = (float) (mu[c][d] + rng.nextGaussian());
        }
        return InMemorySource.load(new ArraySource(x, y, classes, -1));
    }
}
