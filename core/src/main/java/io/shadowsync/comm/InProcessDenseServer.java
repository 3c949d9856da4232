package io.shadowsync.comm;

import io.shadowsync.optim.DenseOptimizer;
import io.shadowsync.optim.OptimizerSpec;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-process dense parameter server: a vector split into S contiguous shards, each behind its own lock and
 * emulated link. It holds the EASGD center ({@link #pushDelta}) or the model of asynchronous parameter-server
 * SGD ({@link #pushGradient}, with one optimizer per shard range, as Downpour's shards each run their own).
 *
 * <p>Sharing contract: thread-safe. A push to a shard, and a pull of a shard, runs under that shard's lock, so
 * each shard is updated and read atomically; a pull of the whole vector may mix shards from before and after a
 * concurrent push (as on real servers). Pushes from many trainers are serialized per shard and never lost.
 *
 * <p>The server's own methods move data with no trainer link (the caller is "in the server"); trainers use
 * {@link #client(EmulatedLink)}. Costs: a call is one round trip to every shard at once, 4 bytes per float the
 * way the data goes (pull: the reply; push: the request), the trainer's link carrying the total and each shard's
 * link its part, two latencies each; the call returns when the last part is delivered. The data moves at the
 * start of the call; the caller then sleeps out the emulated time.
 */
public final class InProcessDenseServer implements DenseParameterServer {
    private final int size;
    /** Shard s holds [starts[s], starts[s+1]). */
    private final int[] starts;
    private final float[][] values;
    /** Per shard, or null for a server that only takes deltas. */
    private final DenseOptimizer[] optimizers;
    /** Per shard: where a gradient's slice is copied so the optimizer sees an array starting at 0 (under the lock). */
    private final float[][] gradSlices;
    private final ReentrantLock[] locks;
    private final ServerLinks links;

    /** A server of deltas only (the EASGD center): {@link #pushGradient} is refused. */
    public InProcessDenseServer(float[] initial, int shards, LinkModel shardLink) {
        this(initial, shards, null, shardLink);
    }

    /**
     * @param initial   the starting values (copied); at least 1 float
     * @param shards    S in [1, initial.length]: contiguous ranges of near-equal size
     * @param optimizer the optimizer {@link #pushGradient} applies, one instance per shard; null for a server of
     *                  deltas only
     * @param shardLink every shard's link ({@link LinkModel#NONE}: no emulation)
     */
    public InProcessDenseServer(float[] initial, int shards, OptimizerSpec optimizer, LinkModel shardLink) {
        if (initial == null || initial.length == 0) {
            throw new IllegalArgumentException("a dense server holds at least one float; initial values are required");
        }
        if (shards < 1 || shards > initial.length) {
            throw new IllegalArgumentException("a dense server of " + initial.length + " floats takes 1 to "
                    + initial.length + " shards (each holds at least one float), got " + shards);
        }
        this.size = initial.length;
        this.starts = new int[shards + 1];
        this.values = new float[shards][];
        this.optimizers = optimizer == null ? null : new DenseOptimizer[shards];
        this.gradSlices = optimizer == null ? null : new float[shards][];
        this.locks = new ReentrantLock[shards];
        this.links = new ServerLinks(shards, shardLink);
        for (int s = 0; s <= shards; s++) starts[s] = (int) ((long) size * s / shards);
        for (int s = 0; s < shards; s++) {
            int len = starts[s + 1] - starts[s];
            values[s] = new float[len];
            System.arraycopy(initial, starts[s], values[s], 0, len);
            locks[s] = new ReentrantLock();
            if (optimizer != null) {
                optimizers[s] = optimizer.dense(len);
                gradSlices[s] = new float[len];
            }
        }
    }

    @Override
    public int size() {
        return size;
    }

    public int numShards() {
        return values.length;
    }

    /** First index of shard s (s = numShards gives size). */
    public int shardStart(int s) {
        if (s < 0 || s > values.length) throw new IllegalArgumentException("no shard boundary " + s + " of " + values.length);
        return starts[s];
    }

    /** Shard s's optimizer (its state goes into checkpoints); null for a server of deltas only. */
    public DenseOptimizer optimizer(int s) {
        links.shard(s);
        return optimizers == null ? null : optimizers[s];
    }

    /** Shard s's link, with its byte and message counts. */
    public EmulatedLink shardLink(int s) {
        return links.shard(s);
    }

    @Override
    public void pull(float[] dst) throws InterruptedException {
        pull(dst, null);
    }

    @Override
    public void pushDelta(float[] delta) throws InterruptedException {
        pushDelta(delta, null);
    }

    @Override
    public void pushGradient(float[] grad) throws InterruptedException {
        pushGradient(grad, null);
    }

    /** Bytes moved to and from the server so far, by all clients and by direct calls. */
    @Override
    public long bytes() {
        return links.bytes();
    }

    /** Copies every value into dst[0 .. size) (writing a checkpoint), shard by shard under the shards' locks; no link cost. */
    public void copyTo(float[] dst) {
        checkLength("copy into", dst);
        for (int s = 0; s < values.length; s++) {
            locks[s].lock();
            try {
                System.arraycopy(values[s], 0, dst, starts[s], values[s].length);
            } finally {
                locks[s].unlock();
            }
        }
    }

    /** Overwrites every value (restoring a checkpoint), shard by shard under the shards' locks; no link cost. */
    public void load(float[] src) {
        checkLength("load", src);
        for (int s = 0; s < values.length; s++) {
            locks[s].lock();
            try {
                System.arraycopy(src, starts[s], values[s], 0, values[s].length);
            } finally {
                locks[s].unlock();
            }
        }
    }

    /**
     * A view for one trainer whose traffic crosses {@code trainerLink}; its {@link DenseParameterServer#bytes()}
     * counts that view's traffic only. Thread-safe.
     */
    public DenseParameterServer client(EmulatedLink trainerLink) {
        if (trainerLink == null) {
            throw new IllegalArgumentException("a client needs its trainer's link; EmulatedLink.ideal() for none");
        }
        return new Client(trainerLink);
    }

    private long pull(float[] dst, EmulatedLink trainer) throws InterruptedException {
        checkLength("pull into", dst);
        long deadline = 0;
        for (int s = 0; s < values.length; s++) {
            locks[s].lock();
            try {
                System.arraycopy(values[s], 0, dst, starts[s], values[s].length);
            } finally {
                locks[s].unlock();
            }
            deadline = links.chargeShard(s, 4L * values[s].length, deadline);
        }
        ServerLinks.finishCall(trainer, 4L * size, values.length, deadline);
        return 4L * size;
    }

    private long pushDelta(float[] delta, EmulatedLink trainer) throws InterruptedException {
        return pushDelta(delta, trainer, 4L * size);
    }

    /** wire: the bytes the push's message takes (4 a float, or a codec's), each shard charged its share. */
    private long pushDelta(float[] delta, EmulatedLink trainer, long wire) throws InterruptedException {
        checkLength("push a delta of", delta);
        long deadline = 0;
        for (int s = 0; s < values.length; s++) {
            float[] v = values[s];
            int o = starts[s];
            locks[s].lock();
            try {
                for (int i = 0; i < v.length; i++) v[i] += delta[o + i];
            } finally {
                locks[s].unlock();
            }
            deadline = links.chargeShard(s, share(wire, s), deadline);
        }
        ServerLinks.finishCall(trainer, wire, values.length, deadline);
        return wire;
    }

    private long pushGradient(float[] grad, EmulatedLink trainer) throws InterruptedException {
        return pushGradient(grad, trainer, 4L * size);
    }

    private long pushGradient(float[] grad, EmulatedLink trainer, long wire) throws InterruptedException {
        if (optimizers == null) {
            throw new IllegalStateException("this dense server was built without an optimizer (a center for deltas); "
                    + "give it an OptimizerSpec to push gradients");
        }
        checkLength("push a gradient of", grad);
        long deadline = 0;
        for (int s = 0; s < values.length; s++) {
            float[] v = values[s], g = gradSlices[s];
            locks[s].lock();
            try {
                System.arraycopy(grad, starts[s], g, 0, v.length);
                optimizers[s].step(v, g, v.length);
            } finally {
                locks[s].unlock();
            }
            deadline = links.chargeShard(s, share(wire, s), deadline);
        }
        ServerLinks.finishCall(trainer, wire, values.length, deadline);
        return wire;
    }

    /** Shard s's part of a message of wire bytes: in proportion to its floats (4 a float without a codec). */
    private long share(long wire, int s) {
        return wire * (starts[s + 1] - starts[s]) / size;
    }

    private void checkLength(String what, float[] a) {
        if (a == null || a.length < size) {
            throw new IllegalArgumentException("cannot " + what + " " + (a == null ? "null" : a.length + " floats")
                    + ": the server holds " + size);
        }
    }

    /** One trainer's view: the server's calls, charged to the trainer's link too. */
    private final class Client implements DenseParameterServer {
        private final EmulatedLink trainerLink;
        private final AtomicLong bytes = new AtomicLong();

        Client(EmulatedLink trainerLink) {
            this.trainerLink = trainerLink;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void pull(float[] dst) throws InterruptedException {
            bytes.addAndGet(InProcessDenseServer.this.pull(dst, trainerLink));
        }

        @Override
        public void pushDelta(float[] delta) throws InterruptedException {
            bytes.addAndGet(InProcessDenseServer.this.pushDelta(delta, trainerLink));
        }

        @Override
        public void pushGradient(float[] grad) throws InterruptedException {
            bytes.addAndGet(InProcessDenseServer.this.pushGradient(grad, trainerLink));
        }

        @Override
        public void pushDelta(float[] delta, long wireBytes) throws InterruptedException {
            bytes.addAndGet(InProcessDenseServer.this.pushDelta(delta, trainerLink, wireBytes));
        }

        @Override
        public void pushGradient(float[] grad, long wireBytes) throws InterruptedException {
            bytes.addAndGet(InProcessDenseServer.this.pushGradient(grad, trainerLink, wireBytes));
        }

        @Override
        public long bytes() {
            return bytes.get();
        }
    }
}
