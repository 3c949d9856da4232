package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.shadowsync.comm.Codec;
import io.shadowsync.engine.JobState;
import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.OptimizerSpec;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One node's block of the dense vector, {@code [start, start + length)} of {@code size}: the EASGD center (deltas)
 * or the model of asynchronous parameter-server SGD (gradients, applied with this block's own optimizer, as each
 * shard of {@code InProcessDenseServer} runs its own). A message is checked (length, finite values) before the lock
 * is taken.
 *
 * <p>Sharing contract: thread-safe; pulls and pushes run under one lock, so the block is read and updated
 * atomically and pushes from many trainers are serialized, never lost.
 */
final class DenseBlock {
    private final int size;
    private final int start;
    private final float[] values;
    /** Null for a block of deltas only. */
    private final DenseOptimizer optimizer;
    private final String optimizerName;
    private final ReentrantLock lock = new ReentrantLock();
    private final ThreadLocal<float[]> scratch;
    /**
     * The dense wire's values when a call names no codec ({@link Codec#FLOAT32}: the bytes it always carried): every
     * pull, and the pushes of a job without {@code --compress}. A push under a codec names it, and is decoded here.
     */
    static final Codec CODEC = Codec.FLOAT32;

    DenseBlock(float[] initial, int shard, int shards, OptimizerSpec spec) {
        this.size = initial.length;
        this.start = PsShardSpec.denseStart(size, shard, shards);
        int length = PsShardSpec.denseStart(size, shard + 1, shards) - start;
        this.values = new float[length];
        System.arraycopy(initial, start, values, 0, length);
        this.optimizer = spec == null ? null : spec.dense(length);
        this.optimizerName = spec == null ? "" : spec.name();
        this.scratch = ThreadLocal.withInitial(() -> new float[length]);
    }

    int size() {
        return size;
    }

    int start() {
        return start;
    }

    int length() {
        return values.length;
    }

    /** The optimizer's name, empty when gradients are refused. */
    String optimizerName() {
        return optimizerName;
    }

    /** A little-endian copy of the block, taken under the lock. */
    byte[] pull() {
        byte[] out = new byte[Math.toIntExact(CODEC.encodedBytes(values.length))];
        lock.lock();
        try {
            CODEC.encode(values, 0, values.length, java.nio.ByteBuffer.wrap(out));
        } finally {
            lock.unlock();
        }
        return out;
    }

    /** block += delta, in the client's codec (empty: float32). */
    void pushDelta(ByteString data, String codec) throws Refused {
        float[] d = decode(data, codec, "delta");
        float[] v = values;
        lock.lock();
        try {
            for (int i = 0; i < v.length; i++) v[i] += d[i];
        } finally {
            lock.unlock();
        }
    }

    /** Applies a gradient of the block, in the client's codec (empty: float32), with the block's optimizer. */
    void pushGradient(ByteString data, String codec) throws Refused {
        if (optimizer == null) {
            throw new Refused(Refusal.NO_DENSE_OPTIMIZER, "this parameter server holds a dense vector for deltas only "
                    + "(an EASGD center) and has no dense optimizer to apply gradients with");
        }
        float[] g = decode(data, codec, "gradient");
        lock.lock();
        try {
            optimizer.step(values, g, values.length);
        } finally {
            lock.unlock();
        }
    }

    /** The block, its optimizer's state and step counter, copied under the lock (for a checkpoint). */
    JobState.ServerState checkpointState() {
        lock.lock();
        try {
            float[][] opt = optimizer == null ? new float[0][] : optimizer.state();
            float[][] copy = new float[opt.length][];
            for (int i = 0; i < opt.length; i++) copy[i] = opt[i].clone();
            long steps = optimizer == null ? 0 : optimizer.steps();
            return new JobState.ServerState(values.clone(), new float[][][] {copy}, new long[] {steps});
        } finally {
            lock.unlock();
        }
    }

    /** Puts a checkpoint's block back, refusing one of another length or optimizer with a sentence naming it. */
    void restore(JobState.ServerState s) {
        float[][] live = optimizer == null ? new float[0][] : optimizer.state();
        if (s.values().length != values.length) {
            throw new IllegalArgumentException("the checkpoint's dense block holds " + s.values().length + " floats, this node's ["
                    + start + ", " + (start + values.length) + ") " + values.length);
        }
        if (s.optimizer().length != 1 || s.optimizer()[0].length != live.length) {
            throw new IllegalArgumentException("the checkpoint's dense block has another optimizer state than this node's '" + optimizerName + "'");
        }
        for (int i = 0; i < live.length; i++) {
            if (s.optimizer()[0][i].length != live[i].length) {
                throw new IllegalArgumentException("the checkpoint's dense optimizer state " + i + " holds " + s.optimizer()[0][i].length
                        + " floats, this node's " + live[i].length);
            }
        }
        lock.lock();
        try {
            System.arraycopy(s.values(), 0, values, 0, values.length);
            for (int i = 0; i < live.length; i++) System.arraycopy(s.optimizer()[0][i], 0, live[i], 0, live[i].length);
            if (optimizer != null) optimizer.restoreSteps(s.optimizerSteps()[0]);
        } finally {
            lock.unlock();
        }
    }

    /** Test hook: a copy of the block. */
    float[] copy() {
        lock.lock();
        try {
            return values.clone();
        } finally {
            lock.unlock();
        }
    }

    /** The codec a push names: float32 when none; a name no codec has is refused. */
    private static Codec codec(String name, String what) throws Refused {
        if (name.isEmpty()) return CODEC;
        try {
            return Codec.named(name);
        } catch (IllegalArgumentException e) {
            throw new Refused(Refusal.UNKNOWN_CODEC, "a dense " + what + " in codec '" + name + "': " + e.getMessage());
        }
    }

    private float[] decode(ByteString data, String codecName, String what) throws Refused {
        int n = values.length;
        Codec codec = codec(codecName, what);
        if (data.size() != codec.encodedBytes(n)) {
            throw new Refused(Refusal.LENGTH_MISMATCH, "a dense " + what + " of " + data.size() + " bytes: this node's block ["
                    + start + ", " + (start + n) + ") of " + size + " floats needs exactly " + codec.encodedBytes(n)
                    + " (" + codec.name() + ")");
        }
        float[] f = scratch.get();
        codec.decode(data.asReadOnlyByteBuffer(), f, 0, n);
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(f[i])) {
                throw new Refused(Refusal.NOT_FINITE, "dense " + what + " element " + (start + i) + " is " + f[i]
                        + "; values must be finite");
            }
            if (Math.abs(f[i]) > PsShardSpec.MAX_ABS_VALUE) {
                throw new Refused(Refusal.VALUE_TOO_LARGE, "dense " + what + " element " + (start + i) + " is " + f[i]
                        + "; values must be at most " + PsShardSpec.MAX_ABS_VALUE + " in magnitude");
            }
        }
        return f;
    }
}
