package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Embedding rows through a {@link RowCodec} ({@code --compress-rows}): each codec's error bound per row, the exact
 * bytes of a row, int8's scale per row, the names refused (and why), and {@link CodedRows}: pulls and pushes rounded
 * as the wire rounds them while the store keeps its rows and its optimizer state in float32.
 */
class RowCodecTest {
    private static final long[][] SHAPES = {{40, 16}, {30, 300}};
    private static final float[] STDS = {0.05f, 0.05f};
    private static final EmbeddingOptimizerSpec ADAGRAD = new EmbeddingOptimizerSpec("rowwise-adagrad", 0.05);

    /** Rows whose magnitudes differ by orders of magnitude from row to row (row j around 10^(j mod 7 − 4)). */
    private static float[] rows(int n, int dim) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[n * dim];
        for (int j = 0; j < n; j++) {
            double scale = Math.pow(10, j % 7 - 4);
            for (int i = 0; i < dim; i++) x[j * dim + i] = (float) (scale * rnd.nextGaussian());
        }
        return x;
    }

    private static float[] roundTrip(RowCodec c, float[] x, int n, int dim) {
        ByteBuffer b = ByteBuffer.allocate(n * c.rowBytes(dim));
        for (int j = 0; j < n; j++) c.encode(x, j * dim, dim, b);
        assertEquals(b.capacity(), b.position(), c + ": the rows fill exactly rowBytes each");
        b.flip();
        float[] y = new float[n * dim];
        for (int j = 0; j < n; j++) c.decode(b, y, j * dim, dim);
        assertEquals(0, b.remaining(), c + ": decoding reads every byte");
        return y;
    }

    @Test
    void aRowTakesExactlyItsCodecsBytes() {
        assertEquals(64, RowCodec.FLOAT32.rowBytes(16));
        assertEquals(32, RowCodec.FP16.rowBytes(16));
        assertEquals(32, RowCodec.BF16.rowBytes(16));
        assertEquals(16 + 4, RowCodec.INT8.rowBytes(16), "one scale for a row of 16");
        assertEquals(300 + 8, RowCodec.INT8.rowBytes(300), "a scale per 256 values of a wider row");
        for (RowCodec c : new RowCodec[] {RowCodec.FLOAT32, RowCodec.FP16, RowCodec.BF16, RowCodec.INT8}) {
            assertSame(c, RowCodec.ofId(c.id()), "the wire id names the codec");
            assertSame(c, RowCodec.named(c.name()));
            roundTrip(c, rows(5, 16), 5, 16); // checks the byte counts
        }
        assertSame(RowCodec.FLOAT32, RowCodec.named("none"));
    }

    /** Each codec within its bound, row by row; float32 exact. */
    @Test
    void everyRowRoundTripsWithinItsCodecsBound() {
        int n = 21, dim = 16;
        float[] x = rows(n, dim);
        assertArrayEquals(x, roundTrip(RowCodec.FLOAT32, x, n, dim));
        float[] h = roundTrip(RowCodec.FP16, x, n, dim), bf = roundTrip(RowCodec.BF16, x, n, dim), q = roundTrip(RowCodec.INT8, x, n, dim);
        for (int j = 0; j < n; j++) {
            float max = 0;
            for (int i = 0; i < dim; i++) max = Math.max(max, Math.abs(x[j * dim + i]));
            float s = max / 127f; // this row's own scale
            for (int i = 0; i < dim; i++) {
                int k = j * dim + i;
                float v = x[k], a = Math.abs(v);
                // fp16: relative 2^-11 in the normal range, absolute 2^-25 below it
                assertTrue(Math.abs(h[k] - v) <= Math.max(a * 0x1p-11f, 0x1p-25f), "fp16 row " + j + ": " + v + " -> " + h[k]);
                assertTrue(Math.abs(bf[k] - v) <= a * 0x1p-8f, "bf16 row " + j + ": " + v + " -> " + bf[k]);
                assertTrue(Math.abs(q[k] - v) <= s / 2 * (1 + 1e-5f), "int8 row " + j + ": " + v + " -> " + q[k] + " (scale " + s + ")");
            }
        }
    }

    /**
     * int8 scales each row by its own largest value: a row of small values next to a row of large ones keeps its own
     * precision (one scale for the whole message would round the small row to zeros).
     */
    @Test
    void int8ScalesEachRowOnItsOwn() {
        int dim = 16;
        float[] x = new float[2 * dim];
        for (int i = 0; i < dim; i++) {
            x[i] = 1000f * (i + 1);
            x[dim + i] = 1e-3f * (i + 1);
        }
        float[] q = roundTrip(RowCodec.INT8, x, 2, dim);
        for (int i = 0; i < dim; i++) assertEquals(x[dim + i], q[dim + i], 1e-3f * 16 / 127 / 2 * 1.0001f, "the small row, value " + i);
        assertNotEquals(0f, q[dim], "the small row's smallest value is not lost");
    }

    @Test
    void rowsRefuseStatefulCodecsSayingWhy() {
        IllegalArgumentException topk = assertThrows(IllegalArgumentException.class, () -> RowCodec.named("topk:0.01"));
        assertTrue(topk.getMessage().contains("rows take no topk") && topk.getMessage().contains("residual"), topk.getMessage());
        IllegalArgumentException st = assertThrows(IllegalArgumentException.class, () -> RowCodec.named("int8:stochastic"));
        assertTrue(st.getMessage().contains("rounding stream"), st.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> RowCodec.named("fp8"));
        assertTrue(bad.getMessage().contains("'fp8'") && bad.getMessage().contains(RowCodec.FORMS), bad.getMessage());
        IllegalArgumentException id = assertThrows(IllegalArgumentException.class, () -> RowCodec.ofId(9));
        assertTrue(id.getMessage().contains("row codec id 9"), id.getMessage());
    }

    /**
     * Through {@link CodedRows}: a pull gives the store's rows as the codec rounds them; a push reaches the optimizer
     * as the rounded gradient, applied to the float32 rows with float32 Adagrad state: the same bits as a float32 store
     * given the rounded gradients. An implementation that kept the rows (or the Adagrad sums) in fp16, or stored a
     * row re-encoded after its update, ends on other bits; many pushes of gradients too small to move an fp16 row
     * make sure it would.
     */
    @Test
    void codedRowsRoundTheTrafficButTheStoreStaysFloat32() {
        for (RowCodec c : new RowCodec[] {RowCodec.FP16, RowCodec.BF16, RowCodec.INT8}) {
            LocalEmbeddingStore inner = new LocalEmbeddingStore(SHAPES, STDS, 3, ADAGRAD);
            LocalEmbeddingStore reference = new LocalEmbeddingStore(SHAPES, STDS, 3, ADAGRAD);
            CodedRows coded = new CodedRows(inner, c);
            assertNull(coded.localTable(0), "every read goes through pull, where rows are rounded");
            SplittableRandom rnd = new SplittableRandom(11);
            long pushedRows = 0, pulledRows = 0;
            for (int step = 0; step < 200; step++) {
                int t = step % 2, dim = (int) SHAPES[t][1], n = 4;
                int[] ids = new int[n];
                for (int j = 0; j < n; j++) ids[j] = rnd.nextInt(8); // few rows, many updates each
                float[] got = new float[n * dim], want = new float[n * dim];
                coded.pull(t, ids, 0, n, got, 0);
                reference.pull(t, ids, 0, n, want, 0);
                c.round(want, 0, n, dim);
                assertArrayEquals(want, got, c + " step " + step + ": the pull is the rows as the codec rounds them");
                pulledRows += n;
                float[] g = new float[n * dim];
                for (int i = 0; i < g.length; i++) g[i] = (float) (1e-3 * rnd.nextGaussian());
                float[] kept = g.clone();
                coded.push(t, ids, 0, n, g, 0);
                assertArrayEquals(kept, g, "the caller's gradients are left as they were");
                c.round(g, 0, n, dim);
                reference.push(t, ids, 0, n, g, 0);
                pushedRows += n;
            }
            boolean offGrid = false;
            for (int t = 0; t < SHAPES.length; t++) {
                assertArrayEquals(reference.table(t), inner.table(t), c + " table " + t + ": float32 rows, updated in float32");
                assertArrayEquals(reference.optimizer(t).state(), inner.optimizer(t).state(), c + " table " + t + ": the Adagrad sums stay float32");
                float[] w = inner.table(t);
                float[] r = w.clone();
                c.round(r, 0, r.length / (int) SHAPES[t][1], (int) SHAPES[t][1]);
                for (int i = 0; i < w.length && !offGrid; i++) offGrid = r[i] != w[i];
            }
            assertTrue(offGrid, c + ": some stored value is not one the codec can carry (the store is not rounded)");
            long[] b = coded.rowBytes().snapshot();
            assertEquals(pulledRows, b[0]);
            assertEquals(pushedRows, b[1]);
            long enc = 100 * 4L * c.rowBytes(16) + 100 * 4L * c.rowBytes(300);
            assertEquals(enc, b[2], c + ": encoded bytes pulled");
            assertEquals(enc, b[3], c + ": encoded bytes pushed");
            assertEquals(100 * 4L * 4 * (16 + 300), b[4], "float32 bytes pulled");
        }
    }
}
