package io.shadowsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Top-k sparsification ({@code topk:F}): of a message of n values, the k = max(1, round(F·n)) (at most n) of largest
 * magnitude, as their indices and values; a receiver reads 0 elsewhere. A message is little-endian: k as an int32,
 * the k indices as int32 in ascending order, then the k float32 values: 4 + 8k bytes. Ties at the k-th magnitude go
 * to the lower index, so the choice is a function of the values.
 *
 * <p>Used through an {@link #encoder} it has <b>error feedback</b> (Seide et al. 2014; Stich et al., "Sparsified SGD
 * with memory", 2018): the encoder keeps a residual r of what it has not yet sent, starting at 0; a message of x
 * picks the top k of {@code r + x} and keeps the rest, {@code r = r + x − sent}. Nothing is dropped, only delayed, so
 * over rounds the sum of what was sent follows the sum of what was given (they differ by r, which stays bounded). The
 * residual belongs to the sender and lives as long as its encoder (its sync thread's rounds); one encoder encodes
 * messages of one length. The stateless {@link #encode(float[], int, int, ByteBuffer)} has no memory: what it leaves
 * out is lost.
 */
final class TopKCodec extends MessageCodec {
    private final double fraction;

    TopKCodec(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("topk takes a fraction in (0, 1], got " + fraction);
        this.fraction = fraction;
    }

    /** k for a message of n values. */
    int k(long n) {
        if (n == 0) return 0;
        return (int) Math.min(n, Math.max(1, Math.round(fraction * n)));
    }

    @Override
    public String name() {
        return "topk:" + fraction;
    }

    @Override
    public long encodedBytes(long values) {
        return 4 + 8L * k(values);
    }

    @Override
    public void encode(float[] src, int off, int len, ByteBuffer dst) {
        int k = k(len);
        int[] idx = select(src, off, len, k, new float[len]);
        write(src, off, idx, k, dst);
    }

    @Override
    public Encoder encoder(long seed, boolean feedback) {
        return feedback ? encoder(seed) : super.encoder(seed); // without: the stateless encode, what it leaves out is lost
    }

    @Override
    public Encoder encoder(long seed) {
        return new Encoder() {
            private float[] residual;
            private float[] scratch;

            @Override
            public Codec codec() {
                return TopKCodec.this;
            }

            @Override
            public byte[] encode(float[] x, int off, int len) {
                if (residual == null) {
                    residual = new float[len];
                    scratch = new float[len];
                } else if (residual.length != len) {
                    throw new IllegalArgumentException("this top-k encoder carries a residual of " + residual.length
                            + " values and was given a message of " + len + ": one encoder per stream of one length");
                }
                float[] r = residual;
                for (int i = 0; i < len; i++) r[i] += x[off + i];
                int k = k(len);
                int[] idx = select(r, 0, len, k, scratch);
                byte[] out = new byte[Math.toIntExact(encodedBytes(len))];
                write(r, 0, idx, k, ByteBuffer.wrap(out));
                for (int j = 0; j < k; j++) r[idx[j]] = 0; // sent: r + x − sent is 0 there
                return out;
            }

            @Override
            public float[] residual() {
                return residual;
            }
        };
    }

    /** The indices, ascending, of the k largest |v[off + i]| (ties: the lower index). scratch holds len floats. */
    static int[] select(float[] v, int off, int len, int k, float[] scratch) {
        int[] idx = new int[k];
        if (k == 0) return idx;
        for (int i = 0; i < len; i++) scratch[i] = Math.abs(v[off + i]);
        float tau = kthLargest(scratch, len, k); // scratch is permuted
        int above = 0;
        for (int i = 0; i < len; i++) if (Math.abs(v[off + i]) > tau) above++;
        int ties = k - above, n = 0; // the values equal to tau that fit, lowest indices first
        for (int i = 0; i < len && n < k; i++) {
            float a = Math.abs(v[off + i]);
            if (a > tau || (a == tau && ties-- > 0)) idx[n++] = i;
        }
        return idx;
    }

    /** The k-th largest of a[0 .. len) (1 ≤ k ≤ len), by quickselect (a is permuted). NaN counts as largest. */
    static float kthLargest(float[] a, int len, int k) {
        int lo = 0, hi = len - 1, want = len - k; // the want-th smallest, 0-based
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (Float.compare(a[i], pivot) < 0) i++;
                while (Float.compare(a[j], pivot) > 0) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (want <= j) hi = j;
            else if (want >= i) lo = i;
            else return a[want];
        }
        return a[want];
    }

    private static void write(float[] v, int off, int[] idx, int k, ByteBuffer dst) {
        ByteBuffer d = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
        d.putInt(0, k);
        for (int j = 0; j < k; j++) {
            d.putInt(4 + 4 * j, idx[j]);
            d.putFloat(4 + 4 * k + 4 * j, v[off + idx[j]]);
        }
        dst.position(dst.position() + 4 + 8 * k);
    }

    /** Adds the message's k values at their indices: O(k), whatever n. */
    @Override
    public void decodeAdd(ByteBuffer src, float[] dst, int off, int len) {
        ByteBuffer s = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        int k = s.getInt(0);
        if (k != k(len)) {
            throw new IllegalArgumentException("a " + name() + " message of " + len + " values carries " + k
                    + " of them where " + k(len) + " were due (do all ranks use the same codec?)");
        }
        for (int j = 0; j < k; j++) {
            int i = s.getInt(4 + 4 * j);
            Objects.checkIndex(i, len);
            dst[off + i] += s.getFloat(4 + 4 * k + 4 * j);
        }
        src.position(src.position() + 4 + 8 * k);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopKCodec t && t.fraction == fraction;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(fraction);
    }

}
