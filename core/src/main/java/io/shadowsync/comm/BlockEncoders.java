package io.shadowsync.comm;

import java.nio.ByteBuffer;

/**
 * One sender's encoders for the pushes to a {@link DenseParameterServer}: one {@link Codec.Encoder} per block the
 * server splits its vector into ({@link DenseParameterServer#blocks()}), so that each block's message travels to the
 * node that holds it on its own, and each block keeps its own stream (a top-k residual, an int8:stochastic rounding
 * stream). With one block (a server in this process) this is exactly one encoder of the given seed. Owned by one
 * sender; not thread-safe.
 */
public final class BlockEncoders {
    private final int[] blocks;
    private final Codec.Encoder[] encoders;

    /**
     * @param blocks   the server's block boundaries, {@code 0 = b[0] ≤ b[1] ≤ … ≤ b[B] = size}
     * @param seed     block k's encoder is seeded with {@code seed + k·φ} (φ the golden-ratio constant: block 0's is
     *                 seed itself, and no block's stream is another sender's)
     * @param feedback whether the encoders keep error feedback (see {@link Codec#encoder(long, boolean)})
     */
    public BlockEncoders(Codec codec, int[] blocks, long seed, boolean feedback) {
        if (blocks.length < 2 || blocks[0] != 0) throw new IllegalArgumentException("block boundaries must start at 0 and hold at least one block");
        for (int k = 1; k < blocks.length; k++) {
            if (blocks[k] < blocks[k - 1]) throw new IllegalArgumentException("block boundaries must not decrease: " + java.util.Arrays.toString(blocks));
        }
        this.blocks = blocks.clone();
        this.encoders = new Codec.Encoder[blocks.length - 1];
        for (int k = 0; k < encoders.length; k++) encoders[k] = codec.encoder(seed + k * 0x9E3779B97F4A7C15L, feedback);
    }

    /** The codec of the messages. */
    public Codec codec() {
        return encoders[0].codec();
    }

    /**
     * Encodes x block by block (an empty block gets an empty message) and leaves in x what the messages decode to:
     * what the server receives. Returns the messages, by block.
     */
    public byte[][] encode(float[] x) {
        if (x.length != blocks[blocks.length - 1]) {
            throw new IllegalArgumentException("a push of " + x.length + " values to a server of " + blocks[blocks.length - 1]);
        }
        byte[][] out = new byte[encoders.length][];
        Codec c = codec();
        for (int k = 0; k < encoders.length; k++) {
            int from = blocks[k], len = blocks[k + 1] - from;
            out[k] = len == 0 ? new byte[0] : encoders[k].encode(x, from, len);
            if (len > 0) c.decode(ByteBuffer.wrap(out[k]), x, from, len);
        }
        return out;
    }

    /** The bytes of a push's messages. */
    public static long bytes(byte[][] messages) {
        long b = 0;
        for (byte[] m : messages) b += m.length;
        return b;
    }
}
