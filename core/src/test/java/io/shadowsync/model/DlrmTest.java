package io.shadowsync.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.RecordingEmbeddingStore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DlrmTest {
    /** n examples, 3 dense, 4 categorical ids; label = (cat0 is even) xor (dense0 > 0.5): needs both paths. */
    static Batch data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Batch b = new Batch(n, 3, 4, false);
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < 3; f++) b.dense[i * 3 + f] = (float) r.nextDouble();
            for (int f = 0; f < 4; f++) b.cat[i * 4 + f] = f == 0 ? r.nextInt(6) : r.nextInt();
            b.labels[i] = ((b.cat[i * 4] % 2 == 0) ^ (b.dense[i * 3] > 0.5f)) ? 1f : 0f;
            b.size = i + 1;
        }
        return b;
    }

    /** A small DLRM off its initial values (see {@link ModelCheck#jitter}). */
    static Dlrm small() {
        Dlrm m = new DlrmSpec(3, 4, 11, 5, new int[] {7}, new int[] {6}).build();
        m.initDense(3);
        ModelCheck.jitter(m, 8);
        return m;
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Dlrm m = small();
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 4);
        ModelCheck.gradients(m, data(6, 5), st, 40, 40);
        ModelCheck.emptyBatch(m, data(3, 5), st);
    }

    @Test
    void aPartialBatchWeighsItsExamplesAsAFullOne() {
        Dlrm m = small();
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 4);
        ModelCheck.partialBatchesAddUp(m, data(16, 5), st, 2);
    }

    @Test
    void gradientsMatchWithoutHiddenLayers() {
        Dlrm m = new DlrmSpec(2, 2, 5, 3, new int[0], new int[0]).build();
        m.initDense(1);
        ModelCheck.jitter(m, 8);
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 2);
        Batch b = new Batch(4, 2, 2, false);
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 4; i++) {
            b.dense[2 * i] = (float) r.nextDouble();
            b.dense[2 * i + 1] = (float) r.nextDouble();
            b.cat[2 * i] = r.nextInt();
            b.cat[2 * i + 1] = r.nextInt();
            b.labels[i] = i % 2;
        }
        b.size = 4;
        ModelCheck.gradients(m, b, st, 100, 30);
    }

    @Test
    void sgdLearnsAnInteraction() {
        Dlrm m = new DlrmSpec(3, 4, 50, 4, new int[] {8}, new int[] {8}).build();
        m.initDense(11);
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.05f, 12);
        double[] l = ModelCheck.train(m, data(128, 13), st, 0.5f, 300);
        assertTrue(l[1] < 0.4 * l[0], "loss went from " + l[0] + " to " + l[1]);
    }

    /** Each table row a batch uses is pulled and pushed once, whatever the number of examples that hit it. */
    @Test
    void distinctRowsArePulledAndPushedOnce() {
        Dlrm m = new DlrmSpec(3, 4, 11, 5, new int[] {7}, new int[] {6}).build();
        m.initDense(2);
        RecordingEmbeddingStore rec = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.3f, 1);
        int[][] pulled = new int[4][], pushed = new int[4][];
        io.shadowsync.nn.EmbeddingStore spy = new io.shadowsync.nn.EmbeddingStore() {
            public int numTables() { return rec.numTables(); }
            public long rows(int t) { return rec.rows(t); }
            public int dim(int t) { return rec.dim(t); }
            public void pull(int t, int[] id, int idOff, int n, float[] out, int outOff) {
                pulled[t] = java.util.Arrays.copyOfRange(id, idOff, idOff + n);
                rec.pull(t, id, idOff, n, out, outOff);
            }
            public void push(int t, int[] id, int idOff, int n, float[] g, int gOff) {
                pushed[t] = java.util.Arrays.copyOfRange(id, idOff, idOff + n);
                rec.push(t, id, idOff, n, g, gOff);
            }
        };
        Batch b = data(40, 3); // table 0 sees ids 0..5 only
        m.forwardBackward(b, m.newWorkspace(40), spy);
        for (int t = 0; t < 4; t++) {
            java.util.Set<Integer> used = new java.util.LinkedHashSet<>();
            for (int i = 0; i < b.size; i++) used.add(m.row(b.cat[i * 4 + t]));
            int[] expected = used.stream().mapToInt(Integer::intValue).toArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, pulled[t], "table " + t + ": distinct rows in order of first use");
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, pushed[t], "table " + t);
        }
        assertTrue(pulled[0].length <= 6);
    }

    @Test
    void rowIsTheUnsignedIdModuloRows() {
        SplittableRandom r = new SplittableRandom(1);
        for (long rows : new long[] {1, 2, 3, 7, 100_000, 1L << 20, 999_999_937, Integer.MAX_VALUE}) {
            Dlrm m = new DlrmSpec(1, 1, rows, 2, new int[0], new int[0]).build();
            int[] ids = {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, (int) rows, (int) (rows - 1), 0xdeadbeef};
            for (int id : ids) assertEquals((id & 0xffffffffL) % rows, m.row(id), "id " + id + " rows " + rows);
            for (int k = 0; k < 2000; k++) {
                int id = r.nextInt();
                assertEquals((id & 0xffffffffL) % rows, m.row(id), "id " + id + " rows " + rows);
            }
        }
    }

    @Test
    void peerShapeHasThePeersLayout() {
        Dlrm m = DlrmSpec.criteo().build();
        assertEquals(13 * 64 + 64 + 64 * 16 + 16 + 367 * 64 + 64 + 64 + 1, m.dense().size());
        assertEquals(367, m.dense().view("top.0.weight").shape()[1]);
        assertEquals(26, m.embeddingShapes().length);
        assertEquals(100_000L, m.embeddingShapes()[25][0]);
        assertEquals(0.05f, m.embeddingInitStd(3));
    }

    @Test
    void refusesAStoreWithWrongTables() {
        Dlrm m = new DlrmSpec(3, 4, 11, 5, new int[] {7}, new int[] {6}).build();
        RecordingEmbeddingStore st = new RecordingEmbeddingStore(new long[][] {{11, 5}, {11, 5}, {11, 4}, {11, 5}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(data(2, 1), m.newWorkspace(2), st));
        assertTrue(e.getMessage().contains("table 2"), e.getMessage());
    }
}
