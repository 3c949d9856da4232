package io.shadowsync.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.RecordingEmbeddingStore;
import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogisticRegressionTest {
    private static final BigInteger MOD = BigInteger.ONE.shiftLeft(64);

    /** splitmix64 in unsigned big-integer arithmetic, written independently of the model's long arithmetic. */
    static long splitmixReference(long key) {
        BigInteger x = new BigInteger(Long.toUnsignedString(key)).add(new BigInteger("9E3779B97F4A7C15", 16)).mod(MOD);
        x = x.xor(x.shiftRight(30)).multiply(new BigInteger("BF58476D1CE4E5B9", 16)).mod(MOD);
        x = x.xor(x.shiftRight(27)).multiply(new BigInteger("94D049BB133111EB", 16)).mod(MOD);
        return x.xor(x.shiftRight(31)).longValue();
    }

    @Test
    void splitmixMatchesAnIndependentReference() {
        assertEquals(Long.parseUnsignedLong("16294208416658607535"), LogisticRegression.splitmix64(0));
        for (long key : new long[] {0, 1, (39L << 32) + 7, (13L << 32) + 0xdeadbeefL, -1L, 0x123456789abcdefL}) {
            assertEquals(splitmixReference(key), LogisticRegression.splitmix64(key), "key " + Long.toHexString(key));
        }
    }

    @Test
    void criteoFeaturesHashExactlyAsThePeer() {
        // Expected rows from the peer's own numpy hash_features (torch_bench.py), HASH_BITS = 20.
        int[] peer = {904623, 628079, 2692, 6009, 147284, 727476, 429340, 238400, 810786, 180195, 1024080, 47698, 264997,
            843055, 1000171, 750331, 586514, 967388, 802463, 764249, 773643, 875819, 781752, 687785, 93167, 528181, 592360,
            853736, 750751, 991656, 642231, 254578, 240566, 908656, 655147, 581779, 592857, 135208, 433770};
        float[] dense = {0, 0.3f, 1.3f, 2.0f, 9.1f, 70.0f, 0.2499f, 0.25f, 1e-3f, 5.5f, 3.3f, 63.9f, 64.0f};
        LogisticRegression lr = LrSpec.criteo().build();
        Batch b = new Batch(2, 13, 26, false);
        System.arraycopy(dense, 0, b.dense, 0, 13);
        for (int f = 0; f < 26; f++) b.cat[f] = (int) (f * 1000003L % 100000);
        b.cat[0] = 0xdeadbeef;
        b.cat[1] = 0xffffffff;
        b.cat[2] = 0;
        b.size = 1;
        LogisticRegression.Ws ws = (LogisticRegression.Ws) lr.newWorkspace(2);
        lr.hashFeatures(b, ws);
        assertArrayEquals(peer, java.util.Arrays.copyOf(ws.ids, 39));
        assertEquals(39, ws.offsets[1]);
    }

    @Test
    void keysAndBucketsFollowTheSpec() {
        assertEquals((2L << 32) + 5, LogisticRegression.denseKey(2, LogisticRegression.bucket(1.3f)));
        assertEquals(255, LogisticRegression.bucket(1000f));
        assertEquals(0, LogisticRegression.bucket(-3f));
        assertEquals(0, LogisticRegression.bucket(Float.NaN));
        assertEquals((13L << 32) + 0xdeadbeefL, LogisticRegression.catKey(13, 0, 0xdeadbeef));
        assertEquals((39L << 32) + 7, LogisticRegression.sparseKey(13, 26, 7));
        LogisticRegression m = new LrSpec(8, 2, 1, true).build();
        long key = LogisticRegression.sparseKey(2, 1, 12345);
        assertEquals((int) (splitmixReference(key) & 255), m.row(key));
    }

    /** n examples with 3 dense, 2 categorical and 0–3 sparse features; label = (cat0 < 5), a separable rule. */
    static Batch data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Batch b = new Batch(n, 3, 2, true);
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < 3; f++) b.dense[i * 3 + f] = (float) (r.nextDouble() * 5);
            int c0 = r.nextInt(10);
            b.cat[i * 2] = c0;
            b.cat[i * 2 + 1] = r.nextInt();
            int nnz = r.nextInt(4);
            b.ensureSparseCapacity(nnz);
            int at = b.sparseOffsets[i];
            for (int s = 0; s < nnz; s++) {
                b.sparseIdx[at + s] = r.nextInt(50);
                b.sparseVal[at + s] = (float) (r.nextDouble() * 2 - 0.5);
            }
            b.sparseOffsets[i + 1] = at + nnz;
            b.labels[i] = c0 < 5 ? 1f : 0f;
            b.size = i + 1;
        }
        return b;
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LogisticRegression m = new LrSpec(8, 3, 2, true).build();
        m.dense().data()[0] = 0.3f;
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 1);
        ModelCheck.gradients(m, data(12, 2), st, 10, 60);
        ModelCheck.emptyBatch(m, data(3, 2), st);
    }

    @Test
    void aPartialBatchWeighsItsExamplesAsAFullOne() {
        LogisticRegression m = new LrSpec(8, 3, 2, true).build();
        m.dense().data()[0] = 0.3f;
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 1);
        ModelCheck.partialBatchesAddUp(m, data(12, 2), st, 3);
    }

    @Test
    void sgdLearnsASeparableRule() {
        LogisticRegression m = new LrSpec(10, 3, 2, true).build();
        m.initDense(1);
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes());
        Batch b = data(200, 3);
        double[] l = ModelCheck.train(m, b, st, 2f, 100);
        assertEquals(Math.log(2), l[0], 1e-6, "zero weights give loss log 2");
        assertTrue(l[1] < 0.1, "loss went from " + l[0] + " to " + l[1]);
        io.shadowsync.nn.Workspace ws = m.newWorkspace(b.size);
        m.forward(b, ws, st);
        for (int i = 0; i < b.size; i++) {
            float p = ws.outputs()[i];
            assertTrue(p > 0f && p < 1f, "output " + p + " is not a probability");
            assertEquals(b.labels[i], p > 0.5f ? 1f : 0f, "example " + i);
        }
    }

    /** The local-table fast path must give the bits of the pull/push path, with and without sparse features. */
    @Test
    void localTablePathEqualsThePullPushPath() {
        for (boolean sparse : new boolean[] {false, true}) {
            LogisticRegression m = new LrSpec(9, 3, 2, sparse).build();
            m.dense().data()[0] = -0.2f;
            io.shadowsync.nn.LocalEmbeddingStore local = new io.shadowsync.nn.LocalEmbeddingStore(m.embeddingShapes(), new float[] {0.3f}, 5,
                    new io.shadowsync.optim.EmbeddingOptimizerSpec("sgd", 0.7));
            RecordingEmbeddingStore rec = new RecordingEmbeddingStore(m.embeddingShapes());
            System.arraycopy(local.table(0), 0, rec.table[0], 0, rec.table[0].length);
            rec.lr = 0.7f;
            Batch all = data(40, 4);
            Batch b = new Batch(40, 3, 2, sparse);
            for (int i = 0; i < all.size; i++) b.appendFrom(all, i);
            io.shadowsync.nn.Workspace wl = m.newWorkspace(40), wr = m.newWorkspace(40);
            for (int step = 0; step < 3; step++) {
                String at = (sparse ? "sparse" : "dense") + " data, step " + step;
                double ll = m.forwardBackward(b, wl, local), lr = m.forwardBackward(b, wr, rec);
                assertEquals(lr, ll, "loss, " + at);
                assertArrayEquals(wr.outputs(), wl.outputs(), "outputs, " + at);
                assertArrayEquals(wr.denseGrad(), wl.denseGrad(), "bias gradient, " + at);
                assertArrayEquals(rec.table[0], local.table(0), "table, " + at);
            }
        }
    }

    /** A dense bucket hit by every example of a batch is pushed once, with the batch's summed gradient. */
    @Test
    void denseBucketsArePushedOncePerBatch() {
        LogisticRegression m = new LrSpec(10, 3, 2, false).build();
        Batch b = new Batch(20, 3, 2, false);
        for (int i = 0; i < 20; i++) {
            b.dense[i * 3] = 1.3f; // every example in bucket 5 of field 0; other fields vary
            b.dense[i * 3 + 1] = i * 0.3f;
            b.dense[i * 3 + 2] = i % 3;
            b.cat[i * 2] = i % 4;
            b.cat[i * 2 + 1] = 7;
            b.labels[i] = i % 2;
        }
        b.size = 20;
        java.util.List<Integer> ids = new java.util.ArrayList<>();
        java.util.List<Float> grads = new java.util.ArrayList<>();
        RecordingEmbeddingStore rec = new RecordingEmbeddingStore(m.embeddingShapes());
        io.shadowsync.nn.EmbeddingStore spy = new io.shadowsync.nn.EmbeddingStore() {
            public int numTables() { return rec.numTables(); }
            public long rows(int t) { return rec.rows(t); }
            public int dim(int t) { return rec.dim(t); }
            public void pull(int t, int[] id, int idOff, int n, float[] out, int outOff) { rec.pull(t, id, idOff, n, out, outOff); }
            public void push(int t, int[] id, int idOff, int n, float[] g, int gOff) {
                for (int j = 0; j < n; j++) {
                    ids.add(id[idOff + j]);
                    grads.add(g[gOff + j]);
                }
                rec.push(t, id, idOff, n, g, gOff);
            }
        };
        io.shadowsync.nn.Workspace ws = m.newWorkspace(20);
        m.forwardBackward(b, ws, spy);
        int bucketRow = m.row(LogisticRegression.denseKey(0, LogisticRegression.bucket(1.3f)));
        assertEquals(1, java.util.Collections.frequency(ids, bucketRow), "pushes of the shared bucket's row");
        float bias = ws.denseGrad()[0]; // Σ_b dlogits[b], the same sum the shared bucket gets
        assertEquals(bias, grads.get(ids.indexOf(bucketRow)), 1e-7f);
        // distinct buckets: 1 in field 0, 20 in field 1 (⌊4·0.3i⌋), 3 in field 2; then 2 categorical pushes per example
        assertEquals(1 + 20 + 3 + 20 * 2, ids.size(), "pushed ids " + ids);
    }

    @Test
    void refusesAStoreOfTheWrongShape() {
        LogisticRegression m = new LrSpec(8, 3, 2, true).build();
        RecordingEmbeddingStore small = new RecordingEmbeddingStore(new long[][] {{128, 1}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(data(4, 1), m.newWorkspace(4), small));
        assertTrue(e.getMessage().contains("[2^8 × 1]"), e.getMessage());
    }

    @Test
    void refusesABatchOfAnotherSchemaAndAForeignWorkspace() {
        LogisticRegression m = new LrSpec(8, 3, 2, true).build();
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes());
        Batch wrong = new Batch(4, 3, 2, false);
        assertThrows(IllegalArgumentException.class, () -> m.forward(wrong, m.newWorkspace(4), st));
        assertThrows(IllegalArgumentException.class, () -> m.forward(data(4, 1), new LrSpec(9, 3, 2, true).build().newWorkspace(4), st));
        assertThrows(IllegalArgumentException.class, () -> m.forward(data(5, 1), m.newWorkspace(4), st));
    }
}
