package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * How embedding rows travel between trainers and the parameter servers ({@code --compress-rows}): a pulled row's
 * values (the server encodes, the trainer decodes) and a pushed row's gradient (the trainer encodes, the server
 * decodes and applies it in float32 with its float32 optimizer state). Every row is its own message of
 * {@link #rowBytes(int) rowBytes(dim)} bytes, so int8 has a scale per row (per 256 values of a wider row), and a row
 * decodes the same wherever it is read: the in-process store rounds with the same codec ({@link CodedRows}), so an
 * in-process job and a multi-process one move the same values.
 *
 * <p>Only stateless codecs: float32 (the identity), fp16, bf16 and int8 rounded to nearest. int8:stochastic needs a
 * sender's rounding stream, which a pull (encoded on a server for any trainer) has not; top-k needs error feedback,
 * a residual per worker and row (below, {@link #named}). The wire names a codec by its {@link #id()}.
 */
public final class RowCodec {
    public static final RowCodec FLOAT32 = new RowCodec(0, Codec.FLOAT32);
    public static final RowCodec FP16 = new RowCodec(1, Codec.FP16);
    public static final RowCodec BF16 = new RowCodec(2, Codec.BF16);
    public static final RowCodec INT8 = new RowCodec(3, Int8Codec.NEAREST);
    private static final RowCodec[] BY_ID = {FLOAT32, FP16, BF16, INT8};

    /** The forms {@link #named} accepts. */
    public static final String FORMS = "none (float32, the default), fp16, bf16 or int8";

    private final int id;
    private final Codec codec;

    private RowCodec(int id, Codec codec) {
        this.id = id;
        this.codec = codec;
    }

    /**
     * The row codec a job names: none or float32, fp16, bf16, int8 (any case).
     *
     * @throws IllegalArgumentException for another name, saying why int8:stochastic and top-k are not taken for rows
     */
    public static RowCodec named(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("int8:stochastic")) {
            throw new IllegalArgumentException("rows take no int8:stochastic: a pulled row is encoded by a server for any "
                    + "trainer, with no sender's rounding stream to draw from; use int8 (rounded to nearest)");
        }
        if (n.startsWith("topk:")) {
            throw new IllegalArgumentException("rows take no topk: its error feedback needs a residual per worker and row, "
                    + "up to a copy of every table per worker thread (what the parameter servers exist to spare), and a "
                    + "residual sent steps late meets a row-wise Adagrad that has moved on; use int8 (about a quarter of "
                    + "float32's bytes) or fp16");
        }
        try {
            Codec c = Codec.named(n);
            for (RowCodec r : BY_ID) if (r.codec == c) return r;
        } catch (IllegalArgumentException e) {
            // named below, with the forms rows take
        }
        throw new IllegalArgumentException("unknown row codec '" + name + "': use " + FORMS);
    }

    /**
     * The codec of a wire id.
     *
     * @throws IllegalArgumentException for an id that names none
     */
    public static RowCodec ofId(int id) {
        if (id < 0 || id >= BY_ID.length) {
            throw new IllegalArgumentException("unknown row codec id " + Integer.toUnsignedString(id) + " (0 float32, 1 fp16, 2 bf16, 3 int8)");
        }
        return BY_ID[id];
    }

    /** Its number on the wire (0 float32, 1 fp16, 2 bf16, 3 int8). */
    public int id() {
        return id;
    }

    /** Its name as a job gives it ({@code float32} for none). */
    public String name() {
        return codec.name();
    }

    public boolean lossless() {
        return codec.lossless();
    }

    /** Bytes of one encoded row of dim values (float32: 4·dim; fp16, bf16: 2·dim; int8: dim + 4·⌈dim/256⌉). */
    public int rowBytes(int dim) {
        return Math.toIntExact(codec.encodedBytes(dim));
    }

    /** Writes the row src[off .. off+dim) at dst's position (advanced past it); dst must have {@link #rowBytes} room. */
    public void encode(float[] src, int off, int dim, ByteBuffer dst) {
        codec.encode(src, off, dim, dst);
    }

    /** Reads one row of dim values at src's position (advanced past it) into dst[off .. off+dim). */
    public void decode(ByteBuffer src, float[] dst, int off, int dim) {
        codec.decode(src, dst, off, dim);
    }

    /** In place: each of the rows rows of a[off ..] (dim values each) becomes what a receiver of it decodes. */
    public void round(float[] a, int off, int rows, int dim) {
        if (codec.lossless() || rows == 0) return;
        if (codec.fixedWidth()) {
            codec.round(a, off, rows * dim); // value by value: the same as row by row
            return;
        }
        for (int j = 0; j < rows; j++) codec.round(a, off + j * dim, dim);
    }

    @Override
    public String toString() {
        return name();
    }
}
