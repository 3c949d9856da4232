package io.shadowsync.data;

import static io.shadowsync.data.ReaderFuzz.assertBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import io.shadowsync.data.ReaderFuzz.Container;
import io.shadowsync.data.ReaderFuzz.Outcome;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * IDX image and label pairs under generated and mutated input: a valid pair reads back exactly the pixels and
 * labels that made it; a pair with header words overwritten, bytes flipped, inserted or appended, files cut
 * short, or gzip corrupted gives what a reference parser gives — the same examples, or a clean error.
 */
class IdxSourcePropertyTest {
    private static Path root;

    @BeforeContainer
    static void makeRoot() throws IOException {
        root = Files.createTempDirectory("idx-prop");
    }

    @AfterContainer
    static void removeRoot() throws IOException {
        ReaderFuzz.deleteTree(root);
    }

    /** count images of rows × cols pixels (seeded) and their labels, below maxLabel + 1. */
    record Images(int count, int rows, int cols, int maxLabel, long seed) {
        byte[] pixels() {
            byte[] p = new byte[count * rows * cols];
            new SplittableRandom(seed).nextBytes(p);
            return p;
        }

        byte[] labels() {
            SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
            byte[] l = new byte[count];
            for (int i = 0; i < count; i++) l[i] = (byte) r.nextInt(maxLabel + 1);
            return l;
        }

        byte[] imageFile() {
            return idx(IdxSource.IMAGES_MAGIC, new int[] {count, rows, cols}, pixels());
        }

        byte[] labelFile() {
            return idx(IdxSource.LABELS_MAGIC, new int[] {count}, labels());
        }
    }

    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    @Provide
    Arbitrary<Images> images() {
        return Combinators.combine(Arbitraries.integers().between(0, 12), Arbitraries.integers().between(1, 6),
                Arbitraries.integers().between(1, 6), Arbitraries.of(1, 9, 12, 255), Arbitraries.longs()).as(Images::new);
    }

    @Provide
    Arbitrary<Container> wholeContainers() {
        return Arbitraries.of(Container.PLAIN, Container.GZIP, Container.GZIP_UNNAMED);
    }

    @Provide
    Arbitrary<Container> containers() {
        return ReaderFuzz.containers();
    }

    @Property(tries = 150)
    void aValidPairReadsBackItsPixelsAndLabels(@ForAll("images") Images im, @ForAll("wholeContainers") Container ci,
                                               @ForAll("wholeContainers") Container cl, @ForAll boolean normalize,
                                               @ForAll @IntRange(min = 1, max = 5) int batch) throws IOException {
        float mean = normalize ? 0.1307f : 0f, std = normalize ? 0.3081f : 1f;
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path img = ReaderFuzz.store(dir, "img-idx3-ubyte", im.imageFile(), ci, 0);
            Path lab = ReaderFuzz.store(dir, "lab-idx1-ubyte", im.labelFile(), cl, 0);
            Outcome o = ReaderFuzz.read(() -> new IdxSource(img, lab, mean, std), batch, im.count(), im.count() + 1L, img, lab);
            assertFalse(o.failed(), () -> "valid pair refused: " + o.error().getMessage());
            Batch b = o.examples();
            int maxSeen = 0;
            for (byte l : im.labels()) maxSeen = Math.max(maxSeen, l & 0xff);
            assertEquals(new DataSchema(im.rows() * im.cols(), 0, false, 0, Math.max(10, maxSeen + 1)), schemaOf(img, lab));
            assertEquals(im.count(), b.size);
            byte[] px = im.pixels(), labels = im.labels();
            float[] want = new float[px.length];
            for (int k = 0; k < px.length; k++) want[k] = ((float) (px[k] & 0xff) / 255f - mean) / std;
            assertBits(want, Arrays.copyOf(b.dense, px.length), "pixels");
            for (int i = 0; i < b.size; i++) assertEquals(labels[i] & 0xff, b.labels[i], "label of image " + i);
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    private static DataSchema schemaOf(Path img, Path lab) throws IOException {
        return new IdxSource(img, lab, 0f, 1f).schema();
    }

    /** An edit of one of the two files: a header word overwritten, a byte flipped, bytes inserted or appended, a cut. */
    record Edit(boolean labels, Kind kind, int at, int arg) {
        enum Kind { SET_WORD, FLIP_BYTE, INSERT, APPEND, TRUNCATE }

        byte[] apply(byte[] b, int count) {
            int n = b.length;
            switch (kind) {
                case SET_WORD -> {
                    int words = labels ? 2 : 4;
                    int w = at % words;
                    if (n < 4 * w + 4) return b;
                    int[] values = {0, -1, 1, count - 1, count + 1, 1 << 24, 4096, IdxSource.IMAGES_MAGIC,
                        IdxSource.LABELS_MAGIC, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x0803_0000};
                    byte[] c = b.clone();
                    ByteBuffer.wrap(c).putInt(4 * w, values[arg % values.length]);
                    return c;
                }
                case FLIP_BYTE -> {
                    if (n == 0) return b;
                    byte[] c = b.clone();
                    c[at % n] ^= (byte) (1 + arg % 255);
                    return c;
                }
                case INSERT, APPEND -> {
                    byte[] g = new byte[1 + arg % 8];
                    new SplittableRandom(arg).nextBytes(g);
                    int p = kind == Kind.APPEND ? n : at % (n + 1);
                    return ReaderFuzz.concat(Arrays.copyOf(b, p), g, Arrays.copyOfRange(b, p, n));
                }
                default -> {
                    return Arrays.copyOf(b, at % (n + 1));
                }
            }
        }
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(Edit.Kind.class),
                Arbitraries.integers().between(0, 1 << 16), Arbitraries.integers().between(0, 1 << 16))
                .as(Edit::new).list().ofMaxSize(3);
    }

    @Property(tries = 400)
    void anyPairReadsAsTheReferenceParserSays(@ForAll("images") Images im, @ForAll("edits") List<Edit> edits,
                                              @ForAll("containers") Container ci, @ForAll("containers") Container cl,
                                              @ForAll int seed) throws IOException {
        byte[] imgBytes = im.imageFile(), labBytes = im.labelFile();
        for (Edit e : edits) {
            if (e.labels()) labBytes = e.apply(labBytes, im.count());
            else imgBytes = e.apply(imgBytes, im.count());
        }
        Path dir = Files.createTempDirectory(root, "t");
        try {
            Path img = ReaderFuzz.store(dir, "img-idx3-ubyte", imgBytes, ci, seed);
            Path lab = ReaderFuzz.store(dir, "lab-idx1-ubyte", labBytes, cl, seed >>> 3);
            byte[] seenImg = ReaderFuzz.decoded(img), seenLab = ReaderFuzz.decoded(lab);
            Expected want = seenImg == null || seenLab == null ? null : reference(seenImg, seenLab);
            // batches of one: a header that claims 2^24 pixels per image must not make the test allocate much
            Outcome o = ReaderFuzz.read(() -> new IdxSource(img, lab, 0f, 1f), 1, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, img, lab);
            if (want == null) {
                assertTrue(o.failed(), () -> "a file of the pair is unreadable, yet " + o.examples().size + " images were read");
                return;
            }
            assertEquals(want.ok, !o.failed(), () -> want.ok ? "reference reads the pair, reader says " + o.error().getMessage()
                    : "reference refuses the pair (" + want.why + "), reader read " + o.examples().size + " images");
            if (!want.ok) return;
            Batch b = o.examples();
            assertEquals(want.count, b.size);
            float[] px = new float[want.pixels.length];
            for (int k = 0; k < px.length; k++) px[k] = (float) (want.pixels[k] & 0xff) / 255f;
            assertBits(px, Arrays.copyOf(b.dense, px.length), "pixels");
            for (int i = 0; i < b.size; i++) assertEquals(want.labels[i] & 0xff, b.labels[i], "label of image " + i);
        } finally {
            ReaderFuzz.deleteTree(dir);
        }
    }

    /** What the reference expects: ok with the data, or not ok and why. */
    record Expected(boolean ok, String why, int count, byte[] pixels, byte[] labels) {
        static Expected refuse(String why) {
            return new Expected(false, why, 0, null, null);
        }
    }

    /**
     * The IDX rules of the class Javadoc, checked on whole byte arrays: magics, non-negative dims, 1..2^24 pixels
     * per image, equal counts, and each file exactly as long as its header says.
     */
    static Expected reference(byte[] img, byte[] lab) {
        if (img.length < 16) return Expected.refuse("image header");
        if (lab.length < 8) return Expected.refuse("label header");
        ByteBuffer i = ByteBuffer.wrap(img), l = ByteBuffer.wrap(lab);
        if (i.getInt(0) != IdxSource.IMAGES_MAGIC || l.getInt(0) != IdxSource.LABELS_MAGIC) return Expected.refuse("magic");
        int n = i.getInt(4), rows = i.getInt(8), cols = i.getInt(12), m = l.getInt(4);
        if (n < 0 || rows < 0 || cols < 0 || m < 0) return Expected.refuse("negative dimension");
        long pixels = (long) rows * cols;
        if (pixels == 0 || pixels > 1 << 24) return Expected.refuse("image size");
        if (n != m) return Expected.refuse("counts differ");
        if (lab.length != 8L + n) return Expected.refuse("label file length");
        if (img.length != 16L + n * pixels) return Expected.refuse("image file length");
        return new Expected(true, null, n, Arrays.copyOfRange(img, 16, img.length), Arrays.copyOfRange(lab, 8, lab.length));
    }
}
