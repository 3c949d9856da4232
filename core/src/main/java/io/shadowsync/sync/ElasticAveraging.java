package io.shadowsync.sync;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.DenseParameterServer;

/**
 * Elastic averaging SGD, EASGD (Zhang, Choromanska and LeCun, "Deep learning with elastic averaging SGD",
 * NeurIPS 2015), asynchronous form against a center variable c held on the dense sync parameter server:
 * <pre>
 *   c = pull(center);   d = α·(s − c);   t = s − d;   push(center += d)
 * </pre>
 * Each trainer is pulled toward the center and the center toward the trainer, by the same elastic force. No
 * collective: trainers never wait for each other, which makes it the choice when trainers run at different
 * speeds or the network is slow; α trades exploration (small) against agreement (large). Default α = 0.5/N.
 *
 * <p>The last round, taken once this trainer's workers are done, also adopts the center: in EASGD the center is
 * the global model (the replicas only orbit it), so that is what the final synchronization hands back. Trainers
 * that are still training push on into the center after that: the job's final model is the center taken once every
 * trainer has ended ({@code Job}), not a replica.
 *
 * <p>Under a lossy codec ({@code --compress}) the push d (already a change) goes through this trainer's encoders (one
 * per block of the center, each block's message sent to the node that holds it and decoded there), and
 * the trainer moves by what was sent, {@code t = s − decode(sent)}, so replica and center keep moving by the same
 * elastic force. Top-k has no error feedback here: what a push leaves out stays in the gap between replica and center,
 * and the next round's force carries it again (a residual would count it twice and overshoot). Pulls of the center
 * stay float32.
 *
 * <p>That keeps the center behind: a top-k push moves it on a few coordinates by α of their gap, so on a short run
 * most of it would hardly leave the initial model while the replicas train (on the Fashion-MNIST MLP that cost 0.1–0.3
 * accuracy). So under a lossy codec the last round settles the center, in float32: each trainer keeps its
 * <b>share</b> q of the center — {@code initial/N} plus everything its pushes delivered — so that the shares of the N
 * trainers sum to the center, and its last push is {@code s/N − q} (then {@code q = s/N}). Once every trainer has
 * taken its last round the center is exactly the average of their final replicas, whatever their order (as gossip's
 * and model averaging's last rounds end on the replicas' average), at the cost of one float32 push per trainer. The
 * share is this trainer's checkpoint state ({@link #state()}), so a resumed run keeps the sum.
 */
public final class ElasticAveraging implements SyncAlgorithm {
    private final DenseParameterServer center;
    private final float alpha;
    private final float[] snapshot;
    private final float[] c;
    private final float[] d;
    private final io.shadowsync.comm.BlockEncoders encoder;
    /**
     * Under a lossy codec: this trainer's share of the center (initial/N plus what its pushes delivered; the N shares
     * sum to the center), for the last round's float32 push {@code s/N − q}; null without one.
     */
    private final float[] share;
    private final float trainers;
    /** Bytes the codec saved on the pushes so far (for {@link #rawBytesSent()}); written by the one round thread. */
    private volatile long saved;

    public ElasticAveraging(DenseParameterServer center, int size, double alpha) {
        this(center, size, alpha, Codec.FLOAT32, null, 1);
    }

    /**
     * With the job's codec for the pushes.
     *
     * @param initial  the center's initial values, the same for every trainer (read once; only under a lossy codec)
     * @param trainers N, the number of trainers pushing into the center (only under a lossy codec)
     */
    public ElasticAveraging(DenseParameterServer center, int size, double alpha, Codec codec, float[] initial, int trainers) {
        if (!(alpha > 0 && alpha <= 1)) throw new IllegalArgumentException("EASGD alpha must be in (0, 1], got " + alpha);
        if (center.size() != size) throw new IllegalArgumentException("center holds " + center.size() + " values, the replica " + size);
        this.center = center;
        this.alpha = (float) alpha;
        this.snapshot = new float[size];
        this.c = new float[size];
        this.d = new float[size];
        // no error feedback: what a push leaves out stays in the gap s − c, so the next round's force sends it again
        this.encoder = codec.lossless() ? null : new io.shadowsync.comm.BlockEncoders(codec, center.blocks(), 0x5eed_ea5dL, false);
        this.trainers = trainers;
        if (codec.lossless()) {
            this.share = null;
        } else {
            if (trainers < 1) throw new IllegalArgumentException("EASGD under a lossy codec needs the number of trainers, got " + trainers);
            if (initial == null || initial.length != size) {
                throw new IllegalArgumentException("EASGD under a lossy codec needs the center's initial " + size + " values, got "
                        + (initial == null ? "none" : initial.length));
            }
            this.share = new float[size];
            for (int i = 0; i < size; i++) share[i] = initial[i] / trainers;
        }
    }

    public static double defaultAlpha(int trainers) {
        return 0.5 / trainers;
    }

    @Override
    public String name() {
        return "easgd";
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        int n = snapshot.length;
        System.arraycopy(w, 0, snapshot, 0, n);
        Rounds.requireFinite("the replica", snapshot, n); // never pulls the center toward a non-finite replica
        if (share != null && !training) {
            // the last round under a lossy codec, in float32: hand the center this trainer's share of the replicas'
            // average (no pull needed: the share says what this trainer put there)
            float inv = 1f / trainers;
            for (int i = 0; i < n; i++) d[i] = snapshot[i] * inv - share[i];
            center.pushDelta(d);
            for (int i = 0; i < n; i++) share[i] += d[i];
            center.pull(w); // final synchronization: the trainer takes the global model
            return -1;
        }
        center.pull(c);
        float a = alpha;
        for (int i = 0; i < n; i++) d[i] = a * (snapshot[i] - c[i]);
        if (encoder == null) {
            center.pushDelta(d);
        } else {
            byte[][] sent = encoder.encode(d); // d: what the center receives, block by block as the center holds it
            long before = center.bytes();
            center.pushDelta(d, encoder.codec(), sent);
            saved += 4L * n - (center.bytes() - before); // a server that moves float32 anyway saves nothing
            for (int i = 0; i < n; i++) share[i] += d[i];
        }
        if (!training) {
            center.pull(w); // final synchronization: the trainer takes the global model
            return -1;
        }
        for (int i = 0; i < n; i++) w[i] -= d[i]; // t − s = −d, racing with the workers (intended)
        return -1;
    }

    /** Under a lossy codec this trainer's share of the center (a checkpoint keeps it); nothing without one. */
    @Override
    public float[][] state() {
        return share == null ? new float[0][] : new float[][] {share};
    }

    @Override
    public long bytesSent() {
        return center.bytes();
    }

    @Override
    public long rawBytesSent() {
        return center.bytes() + saved;
    }
}
