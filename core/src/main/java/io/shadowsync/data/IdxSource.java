package io.shadowsync.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A pair of IDX files of the MNIST family (MNIST, Fashion-MNIST): images (magic 0x00000803, dims n, rows, cols,
 * then n·rows·cols uint8 pixels) and labels (magic 0x00000801, dim n, then n uint8 labels); big-endian header,
 * gzip or plain. Feature k of an image is {@code (pixel/255 − mean)/std} in float (with mean 0, std 1 exactly
 * the PyTorch peer's {@code float32(pixel) / 255}).
 *
 * <p>Making the source reads both headers, checks that the counts agree and scans the (small) label file for
 * the number of classes: 10, or the largest label + 1 when that is larger. Reading streams the images one at
 * a time; record numbers stand in for line numbers in errors. A file longer or shorter than its header says is
 * an error, not a data set of another size.
 */
public final class IdxSource implements DataSource {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private final Path images;
    private final Path labels;
    private final int count;
    private final int pixelsPerImage;
    private final DataSchema schema;
    /** Feature value of each pixel byte, so reading is one table look-up per pixel. */
    private final float[] pixelValue = new float[256];

    /**
     * @param images the image file ({@code *-images-idx3-ubyte[.gz]})
     * @param labels the label file ({@code *-labels-idx1-ubyte[.gz]})
     * @param mean   subtracted from pixel/255 (0 for none)
     * @param std    divides the result (1 for none); must be positive
     */
    public IdxSource(Path images, Path labels, float mean, float std) throws IOException {
        this.images = Objects.requireNonNull(images, "images");
        this.labels = Objects.requireNonNull(labels, "labels");
        if (!Float.isFinite(mean)) throw new IllegalArgumentException("pixel mean must be finite, got " + mean);
        if (!(std > 0) || !Float.isFinite(std)) throw new IllegalArgumentException("pixel std must be positive and finite, got " + std);
        for (int p = 0; p < 256; p++) pixelValue[p] = ((float) p / 255f - mean) / std;
        int rows, cols, maxLabel = 0;
        try (InputStream in = DataFiles.open(images)) {
            int[] h = readHeader(in, images, IMAGES_MAGIC, 4, "an image file");
            count = h[1];
            rows = h[2];
            cols = h[3];
        }
        if ((long) rows * cols > 1 << 24 || rows * cols == 0) {
            throw new DataException(DataFiles.name(images), 0, "images of " + rows + "x" + cols + " pixels are not supported");
        }
        pixelsPerImage = rows * cols;
        try (InputStream in = DataFiles.open(labels)) {
            int n = readHeader(in, labels, LABELS_MAGIC, 2, "a label file")[1];
            if (n != count) {
                throw new DataException(DataFiles.name(images), 0, "has " + count + " images but " + labels + " has " + n + " labels");
            }
            byte[] buf = new byte[1 << 16];
            for (int done = 0; done < n; ) {
                int got = DataFiles.read(in, buf, 0, Math.min(buf.length, n - done), DataFiles.name(labels), done + 1);
                if (got == 0) throw new DataException(DataFiles.name(labels), done + 1, "file ends after " + done + " of " + n + " labels");
                for (int i = 0; i < got; i++) maxLabel = Math.max(maxLabel, buf[i] & 0xff);
                done += got;
            }
            requireEnd(in, labels, n + " labels");
        }
        schema = new DataSchema(pixelsPerImage, 0, false, 0, Math.max(10, maxLabel + 1));
    }

    /** Number of images (= labels). */
    public int size() {
        return count;
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public ExampleReader open() throws IOException {
        InputStream img = DataFiles.open(images);
        InputStream lab = null;
        try {
            readHeader(img, images, IMAGES_MAGIC, 4, "an image file");
            lab = DataFiles.open(labels);
            readHeader(lab, labels, LABELS_MAGIC, 2, "a label file");
            return new Reader(img, lab, this);
        } catch (IOException | RuntimeException e) {
            img.close();
            if (lab != null) lab.close();
            throw e;
        }
    }

    @Override
    public String describe() {
        return "idx:" + images + "," + labels;
    }

    /** The images file's fingerprint, then the labels file's (see {@link DataSource#fileFingerprint}). */
    @Override
    public String fingerprint() throws IOException {
        return DataFiles.fingerprint(images) + "; labels " + DataFiles.fingerprint(labels);
    }

    /**
     * Refuses bytes after the last record: the header's count then disagrees with the data (a wrong header, or two
     * files run together), and reading on would silently leave data out.
     */
    private static void requireEnd(InputStream in, Path file, String what) throws IOException {
        String name = DataFiles.name(file);
        if (DataFiles.read(in, new byte[1], 0, 1, name, 0) != 0) {
            throw new DataException(name, 0, "has bytes after its " + what + " (as many as its header says)");
        }
    }

    /** Reads the magic and dims (words big-endian ints in all), checking the magic before the dims. */
    private static int[] readHeader(InputStream in, Path file, int magic, int words, String what) throws IOException {
        String name = DataFiles.name(file);
        byte[] b = new byte[4 * words];
        int got = DataFiles.read(in, b, 0, 4, name, 0);
        int[] h = new int[words];
        h[0] = bigEndianInt(b, 0);
        if (got == 4 && h[0] != magic) {
            throw new DataException(name, 0, String.format("IDX magic 0x%08x is not %s (expected 0x%08x)", h[0], what, magic));
        }
        if (got < 4 || DataFiles.read(in, b, 4, b.length - 4, name, 0) < b.length - 4) {
            throw new DataException(name, 0, "too short for an IDX header (" + b.length + " bytes)");
        }
        for (int i = 1; i < words; i++) {
            h[i] = bigEndianInt(b, 4 * i);
            if (h[i] < 0) throw new DataException(name, 0, "IDX dimension " + i + " is negative: " + h[i]);
        }
        return h;
    }

    private static int bigEndianInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    /** One pass over both files in step; owned by one thread. */
    private static final class Reader implements ExampleReader {
        private final InputStream images;
        private final InputStream labels;
        private final IdxSource source;
        private final byte[] pixels;
        private final byte[] label = new byte[1];
        private int read;
        private boolean checkedEnd;
        private boolean closed;

        Reader(InputStream images, InputStream labels, IdxSource source) {
            this.images = images;
            this.labels = labels;
            this.source = source;
            this.pixels = new byte[source.pixelsPerImage];
        }

        @Override
        public DataSchema schema() {
            return source.schema;
        }

        @Override
        public boolean readInto(Batch batch) throws IOException {
            if (closed) throw new IllegalStateException("reader of " + source.images + " is closed");
            if (batch.numDense != pixels.length) {
                throw new IllegalArgumentException("these images have " + pixels.length + " pixels, the batch holds " + batch.numDense);
            }
            if (batch.isFull()) throw new IllegalStateException("batch is full (" + batch.capacity + " examples)");
            if (read == source.count) {
                if (!checkedEnd) {
                    requireEnd(images, source.images, source.count + " images");
                    checkedEnd = true;
                }
                return false;
            }
            String imgName = DataFiles.name(source.images), labName = DataFiles.name(source.labels);
            if (DataFiles.read(images, pixels, 0, pixels.length, imgName, read + 1) < pixels.length) {
                throw new DataException(imgName, read + 1, "file ends in image " + (read + 1) + " of " + source.count);
            }
            if (DataFiles.read(labels, label, 0, 1, labName, read + 1) < 1) {
                throw new DataException(labName, read + 1, "file ends after " + read + " of " + source.count + " labels");
            }
            int row = batch.size;
            float[] value = source.pixelValue;
            float[] dense = batch.dense;
            int at = row * pixels.length;
            for (int k = 0; k < pixels.length; k++) dense[at + k] = value[pixels[k] & 0xff];
            batch.labels[row] = label[0] & 0xff;
            batch.endDenseExample();
            read++;
            return true;
        }

        @Override
        public long skippedLines() {
            return 0;
        }

        @Override
        public void close() throws IOException {
            closed = true;
            try {
                images.close();
            } finally {
                labels.close();
            }
        }
    }
}
