package io.shadowsync.fed;

import io.shadowsync.comm.Codec;
import java.nio.ByteBuffer;

/**
 * The upload encode step of plain (not securely aggregated) rounds: a client's change as the server receives it,
 * through the job's upload codec. Each client owns one {@link Codec.Encoder} for the whole job, so a codec with error
 * feedback (top-k) keeps what a client's earlier uploads left out and adds it to its next one, however many rounds
 * the client was not sampled in between; int8:stochastic draws from a stream seeded per client. The change is
 * compressed, never the model. A client is served by one thread at a time (it is sampled at most once a round). Where the clients run in
 * other processes, each process holds the encoders of its own clients.
 */
final class Uploads {
    private final Codec codec;
    private final long seed;
    private final Codec.Encoder[] encoders;
    private final Codec.Encoder[] rowEncoders;

    Uploads(Codec codec, int clients, long seed) {
        this.codec = codec;
        this.seed = seed;
        this.encoders = new Codec.Encoder[clients];
        this.rowEncoders = new Codec.Encoder[clients];
    }

    /**
     * Whether the codec carries every value of a message (float32, fp16, bf16, int8 round each value; top-k drops
     * most): only such a codec takes the changed rows of a table, which are a new set every round, so that an error
     * feedback residual of a fixed vector cannot follow them.
     */
    static boolean keepsEveryValue(Codec codec) {
        float[] probe = new float[64];
        for (int i = 0; i < probe.length; i++) probe[i] = 1 + i;
        float[] back = decode(codec, codec.encoder(0, false).encode(probe, 0, probe.length), probe.length);
        for (float v : back) if (v == 0) return false;
        return true;
    }

    /**
     * Client k's upload of its changed rows of one table: the values through the codec without error feedback
     * (each round's rows are sent whole; {@link #keepsEveryValue} codecs only), one encoder per client so that
     * int8:stochastic's rounding stream runs on across rounds.
     */
    synchronized byte[] encodeRows(int k, float[] values) {
        if (values.length == 0) return new byte[0];
        Codec.Encoder e = rowEncoders[k];
        if (e == null) rowEncoders[k] = e = codec.encoder(seed * 1_000_003L + k + 0x5EED_0000L, false);
        return e.encode(values, 0, values.length);
    }

    /** Bytes one upload of n values takes, its example count (8 bytes) included. */
    long bytes(int n) {
        return codec.encodedBytes(n) + 8;
    }

    /** Client k's change delta as the server decodes it. */
    float[] received(int k, float[] delta) {
        return decode(codec, encode(k, delta), delta.length);
    }

    /** Client k's upload of delta: the bytes its encoder puts on the wire. */
    synchronized byte[] encode(int k, float[] delta) {
        Codec.Encoder e = encoders[k];
        if (e == null) encoders[k] = e = codec.encoder(seed * 1_000_003L + k);
        return e.encode(delta, 0, delta.length);
    }

    /** An upload of n values as the server decodes it. */
    static float[] decode(Codec codec, byte[] wire, int n) {
        float[] got = new float[n];
        if (n == 0) return got;
        codec.decode(ByteBuffer.wrap(wire), got, 0, n);
        return got;
    }
}
