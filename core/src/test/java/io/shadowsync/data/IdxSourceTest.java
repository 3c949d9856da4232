package io.shadowsync.data;

import static io.shadowsync.data.TestFiles.readAll;
import static io.shadowsync.data.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxSourceTest {
    @TempDir
    Path dir;

    /** An IDX file: magic, dims, then the data bytes. */
    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    /** n images of 2x3 pixels, pixel k of image i = 40·i + k. */
    private static byte[] pixels(int n) {
        byte[] p = new byte[n * 6];
        for (int i = 0; i < n; i++) for (int k = 0; k < 6; k++) p[i * 6 + k] = (byte) (40 * i + k);
        return p;
    }

    @Test
    void readsGzipAndPlainImagesWithNormalization() throws IOException {
        Path img = write(dir, "img.gz", idx(0x803, new int[] {5, 2, 3}, pixels(5)));
        Path lab = write(dir, "lab", idx(0x801, new int[] {5}, new byte[] {3, 0, 9, 1, 2}));
        IdxSource src = new IdxSource(img, lab, 0.5f, 0.25f);
        assertEquals(new DataSchema(6, 0, false, 0, 10), src.schema());
        assertEquals(5, src.size());
        Batch b = readAll(src, 2, 5);
        assertEquals(5, b.size);
        float[] want = {3, 0, 9, 1, 2};
        for (int i = 0; i < 5; i++) {
            assertEquals(want[i], b.labels[i]);
            for (int k = 0; k < 6; k++) assertEquals(((float) (40 * i + k) / 255f - 0.5f) / 0.25f, b.dense[i * 6 + k]);
        }
        // mean 0, std 1 is exactly the peer's float32(pixel) / 255
        b = readAll(new IdxSource(img, lab, 0f, 1f), 5, 5);
        assertEquals(160f / 255f, b.dense[4 * 6]);
    }

    @Test
    void classCountGrowsWithTheLargestLabel() throws IOException {
        Path img = write(dir, "img", idx(0x803, new int[] {2, 2, 3}, pixels(2)));
        Path lab = write(dir, "lab", idx(0x801, new int[] {2}, new byte[] {1, 14}));
        assertEquals(15, new IdxSource(img, lab, 0, 1).schema().numClasses());
    }

    @Test
    void refusesSwappedFilesCountMismatchAndTruncation() throws IOException {
        Path img = write(dir, "img", idx(0x803, new int[] {3, 2, 3}, pixels(3)));
        Path lab = write(dir, "lab", idx(0x801, new int[] {3}, new byte[] {1, 2, 3}));
        DataException e = assertThrows(DataException.class, () -> new IdxSource(lab, img, 0, 1));
        assertEquals(lab + ": IDX magic 0x00000801 is not an image file (expected 0x00000803)", e.getMessage());
        Path lab2 = write(dir, "lab2", idx(0x801, new int[] {2}, new byte[] {1, 2}));
        e = assertThrows(DataException.class, () -> new IdxSource(img, lab2, 0, 1));
        assertEquals(img + ": has 3 images but " + lab2 + " has 2 labels", e.getMessage());
        Path shortLab = write(dir, "short-lab", idx(0x801, new int[] {3}, new byte[] {1}));
        e = assertThrows(DataException.class, () -> new IdxSource(img, shortLab, 0, 1));
        assertTrue(e.getMessage().startsWith(shortLab + ":2: file ends after 1 of 3 labels"), e.getMessage());
        Path cut = write(dir, "cut.gz", idx(0x803, new int[] {3, 2, 3}, Arrays.copyOf(pixels(3), 14)));
        IdxSource src = new IdxSource(cut, lab, 0, 1);
        e = assertThrows(DataException.class, () -> readAll(src, 4, 4));
        assertEquals(cut + ":3: file ends in image 3 of 3", e.getMessage());
        Path tiny = write(dir, "tiny", new byte[] {0, 0, 8});
        e = assertThrows(DataException.class, () -> new IdxSource(tiny, lab, 0, 1));
        assertEquals(tiny + ": too short for an IDX header (16 bytes)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new IdxSource(img, lab, 0, 0));
    }

    @Test
    void readsFashionMnistWhenInstalled() throws IOException {
        Path d = Path.of("/usr/share/datasets/fashion-mnist");
        assumeTrue(Files.exists(d.resolve("t10k-images-idx3-ubyte.gz")));
        IdxSource src = new IdxSource(d.resolve("t10k-images-idx3-ubyte.gz"), d.resolve("t10k-labels-idx1-ubyte.gz"), 0, 1);
        assertEquals(new DataSchema(784, 0, false, 0, 10), src.schema());
        int[] perClass = new int[10];
        long n = 0;
        try (ExampleReader r = src.open()) {
            Batch b = new Batch(500, src.schema());
            for (;;) {
                b.clear();
                while (!b.isFull() && r.readInto(b)) { }
                if (b.size == 0) break;
                for (int i = 0; i < b.size; i++) perClass[(int) b.labels[i]]++;
                n += b.size;
            }
        }
        assertEquals(10_000, n);
        for (int c = 0; c < 10; c++) assertEquals(1000, perClass[c], "class " + c); // the test set is balanced
    }
}
