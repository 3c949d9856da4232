package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.shadowsync.comm.Codec;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.DenseCall;
import io.shadowsync.net.proto.DenseShardGrpc;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.net.proto.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dense vector held by S parameter-server nodes ({@link PsServer}), block s on node s, contiguous as
 * {@code InProcessDenseServer} splits it: the EASGD center ({@link #pushDelta}) or the model of asynchronous
 * parameter-server SGD ({@link #pushGradient}, applied by each node with its own optimizer). Pulls and pushes give
 * the same bits as an {@code InProcessDenseServer} of the same shards and optimizer.
 * <pre>
 *   try (RemoteDenseServer center = RemoteDenseServer.connect(transport, List.of(ps0, ps1))) {
 *       center.pull(c); ... center.pushDelta(d);
 *   }
 * </pre>
 * An encoded push ({@link #pushDelta(float[], Codec, byte[][])}, under {@code --compress}) sends each block's codec
 * message to its node, which decodes it there; pulls stay float32. A call goes to every node holding floats, all at
 * once, and returns when all have answered; a failure throws
 * {@link ParameterServerException} naming the shard and its address, within the call deadline plus a few seconds
 * (a push that fails on one node may have been applied on others). Each node's block must fit in one message.
 *
 * <p>Sharing contract: thread-safe. Each node applies a push atomically and serializes pushes, so none is lost; a
 * pull may mix blocks from before and after a concurrent push (as on any sharded server).
 */
public final class RemoteDenseServer implements DenseParameterServer, AutoCloseable {
    private final ShardSet set;
    private final DenseShardGrpc.DenseShardFutureStub[] stubs;
    private final int size;
    /** Block s is [starts[s], starts[s+1]). */
    private final int[] starts;
    private final boolean takesGradients;
    private final AtomicLong bytes = new AtomicLong();
    /** The dense wire's codec: the servers', {@link DenseBlock#CODEC}. */
    private static final Codec CODEC = DenseBlock.CODEC;
    /** Per thread, per shard: the request's bytes, reused (the thread waits for its calls before it writes again). */
    private final ThreadLocal<byte[][]> buffers;

    /** Per thread: the client id of its pushes (random, non-zero) and the seq of its last one. */
    private final ThreadLocal<long[]> pushIds = ThreadLocal.withInitial(() -> {
        long id;
        do id = java.util.concurrent.ThreadLocalRandom.current().nextLong(); while (id == 0);
        return new long[] {id, 0};
    });

    private RemoteDenseServer(ShardSet set) {
        this.set = set;
        int n = set.size();
        ShardInfo first = set.info(0);
        if (first.getDenseSize() == 0) {
            throw new IllegalStateException("the parameter servers " + set.addresses() + " hold no dense vector");
        }
        if (first.getDenseSize() > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("the parameter servers hold " + first.getDenseSize() + " dense floats, more than one array");
        }
        this.size = (int) first.getDenseSize();
        this.starts = new int[n + 1];
        for (int s = 0; s < n; s++) {
            ShardInfo i = set.info(s);
            starts[s] = (int) i.getDenseStart();
            if (CODEC.encodedBytes(i.getDenseLength()) > PsShardSpec.payloadLimit(set.maxMessageBytes())) {
                throw new IllegalStateException(set.name(s) + " holds a dense block of " + i.getDenseLength()
                        + " floats, over the " + set.maxMessageBytes() + "-byte message limit: use more shards or raise the limit");
            }
        }
        starts[n] = size;
        this.takesGradients = !first.getDenseOptimizer().isEmpty();
        this.stubs = new DenseShardGrpc.DenseShardFutureStub[n];
        for (int s = 0; s < n; s++) stubs[s] = set.stub(DenseShardGrpc.newFutureStub(set.channel(s))); // by node
        this.buffers = ThreadLocal.withInitial(() -> {
            byte[][] b = new byte[n][];
            for (int s = 0; s < n; s++) b[s] = new byte[Math.toIntExact(CODEC.encodedBytes(starts[s + 1] - starts[s]))];
            return b;
        });
    }

    /**
     * Connects to the job's parameter servers, listed in shard order, and checks that they agree; waits up to the
     * call deadline for servers that are still starting.
     *
     * @throws ParameterServerException when a server cannot be reached
     * @throws IllegalStateException    when the servers disagree, or hold no dense vector
     */
    public static RemoteDenseServer connect(Transport transport, List<HostPort> shards) {
        return connect(transport, shards, false);
    }

    /** As {@link #connect(Transport, List)}; running: see {@link RemoteEmbeddingStore#connect(Transport, List, boolean)}. */
    public static RemoteDenseServer connect(Transport transport, List<HostPort> shards, boolean running) {
        ShardSet set = ShardSet.connect(transport, shards, running);
        try {
            return new RemoteDenseServer(set);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    @Override
    public int size() {
        return size;
    }

    public int numShards() {
        return stubs.length;
    }

    /** Whether the servers apply gradients (they were given a dense optimizer), or take deltas only. */
    public boolean takesGradients() {
        return takesGradients;
    }

    @Override
    public void pull(float[] dst) throws InterruptedException {
        checkLength("pull into", dst);
        List<Future<Tensor>> calls = new ArrayList<>(stubs.length);
        DenseCall[] reqs = new DenseCall[stubs.length];
        int[] pos = new int[stubs.length];
        for (int s = 0; s < stubs.length; s++) {
            if (starts[s + 1] == starts[s]) {
                calls.add(null);
                continue;
            }
            pos[s] = set.primary(s);
            reqs[s] = call(s, pos[s], null, "", 0);
            calls.add(stub(s, pos[s]).pull(reqs[s]));
        }
        for (int s = 0; s < stubs.length; s++) {
            if (calls.get(s) == null) continue;
            ByteString v = await(s, pos[s], reqs[s], false, false, calls).getData();
            int len = starts[s + 1] - starts[s];
            if (v.size() != CODEC.encodedBytes(len)) {
                cancelFrom(calls, s + 1);
                throw new ParameterServerException(set.name(s) + " answered a dense pull with " + v.size() + " bytes, not "
                        + CODEC.encodedBytes(len), s, set.address(s), Status.Code.INTERNAL, null);
            }
            CODEC.decode(v.asReadOnlyByteBuffer(), dst, starts[s], len);
        }
        bytes.addAndGet(CODEC.encodedBytes(size));
    }

    @Override
    public void pushDelta(float[] delta) throws InterruptedException {
        checkLength("push a delta of", delta);
        push(delta, false);
    }

    @Override
    public void pushGradient(float[] grad) throws InterruptedException {
        checkGradients();
        checkLength("push a gradient of", grad);
        push(grad, true);
    }

    private void checkGradients() {
        if (!takesGradients) {
            throw new IllegalStateException("the parameter servers hold a dense vector for deltas only (an EASGD center) "
                    + "and have no dense optimizer; start them with one to push gradients");
        }
    }

    /** The nodes' blocks: an encoded push sends block s's message to node s. */
    @Override
    public int[] blocks() {
        return starts.clone();
    }

    /** Sends each block's message to its node, which decodes it with the codec before it adds it. */
    @Override
    public void pushDelta(float[] delta, Codec codec, byte[][] messages) throws InterruptedException {
        checkLength("push a delta of", delta);
        push(encoded(codec, messages), codec, false);
    }

    /** Sends each block's message to its node, which decodes it with the codec and applies it with its optimizer. */
    @Override
    public void pushGradient(float[] grad, Codec codec, byte[][] messages) throws InterruptedException {
        checkGradients();
        checkLength("push a gradient of", grad);
        push(encoded(codec, messages), codec, true);
    }

    /** The messages of an encoded push, checked against the blocks, as the calls' data (null for an empty block). */
    private ByteString[] encoded(Codec codec, byte[][] messages) {
        if (messages.length != stubs.length) {
            throw new IllegalArgumentException("an encoded push of " + messages.length + " messages to " + stubs.length
                    + " parameter-server blocks: encode it by blocks()");
        }
        ByteString[] data = new ByteString[stubs.length];
        for (int s = 0; s < stubs.length; s++) {
            int len = starts[s + 1] - starts[s];
            if (len == 0) continue;
            if (messages[s].length != codec.encodedBytes(len)) {
                throw new IllegalArgumentException("block " + s + " of an encoded push holds " + messages[s].length + " bytes where a "
                        + codec.name() + " message of its " + len + " values takes " + codec.encodedBytes(len));
            }
            data[s] = UnsafeByteOperations.unsafeWrap(messages[s]);
        }
        return data;
    }

    /** Bytes of dense values this client moved so far, as encoded on the wire (4 per float each way in float32). */
    @Override
    public long bytes() {
        return bytes.get();
    }

    @Override
    public void close() {
        set.close();
    }

    private void push(float[] v, boolean gradient) throws InterruptedException {
        byte[][] buf = buffers.get();
        ByteString[] data = new ByteString[stubs.length];
        for (int s = 0; s < stubs.length; s++) {
            int len = starts[s + 1] - starts[s];
            if (len == 0) continue;
            CODEC.encode(v, starts[s], len, java.nio.ByteBuffer.wrap(buf[s]));
            data[s] = UnsafeByteOperations.unsafeWrap(buf[s]);
        }
        push(data, CODEC, gradient);
    }

    /** Sends data[s] (null: an empty block) to each node at once, in the given codec, and waits for every answer. */
    private void push(ByteString[] data, Codec codec, boolean gradient) throws InterruptedException {
        long[] id = pushIds.get();
        List<Future<Empty>> calls = new ArrayList<>(stubs.length);
        DenseCall[] reqs = new DenseCall[stubs.length];
        int[] pos = new int[stubs.length];
        String name = codec.equals(CODEC) ? "" : codec.name(); // float32 unnamed: what every node always took
        long sent = 0;
        for (int s = 0; s < stubs.length; s++) {
            if (data[s] == null) {
                calls.add(null);
                continue;
            }
            pos[s] = set.primary(s);
            reqs[s] = call(s, pos[s], data[s], name, ++id[1]);
            sent += data[s].size();
            DenseShardGrpc.DenseShardFutureStub stub = stub(s, pos[s]);
            calls.add(gradient ? stub.pushGradient(reqs[s]) : stub.pushDelta(reqs[s]));
        }
        for (int s = 0; s < stubs.length; s++) if (calls.get(s) != null) await(s, pos[s], reqs[s], true, gradient, calls);
        bytes.addAndGet(sent);
    }

    /** A call to shard s's replica at pos: data (null for a pull) in the named codec and, with replicas, its route. */
    private DenseCall call(int s, int pos, ByteString data, String codec, long seq) {
        DenseCall.Builder b = DenseCall.newBuilder();
        if (data != null) b.setData(data).setCodec(codec);
        Route r = set.route(s, pos, data == null ? 0 : pushIds.get()[0], seq);
        if (r != null) b.setRoute(r);
        return b.build();
    }

    private DenseShardGrpc.DenseShardFutureStub stub(int s, int pos) {
        return stubs[set.node(s, pos)].withDeadlineAfter(set.deadlineNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Shard s's answer; when its replica is gone, the same call (same seq) on the shard's next replica. On failure
     * the calls after it are cancelled and the thread's buffers dropped.
     */
    @SuppressWarnings("unchecked") // T is Tensor for a pull, Empty for a push: the call sent again is of the same method
    private <T> T await(int s, int pos, DenseCall req, boolean push, boolean gradient, List<Future<T>> calls)
            throws InterruptedException {
        String method = !push ? "DenseShard.Pull" : gradient ? "DenseShard.PushGradient" : "DenseShard.PushDelta";
        Future<T> call = calls.get(s);
        try {
            while (true) {
                try {
                    return set.await(s, pos, call, method);
                } catch (ParameterServerException e) {
                    pos = set.failover(s, pos, e);
                    req = req.toBuilder().setRoute(req.getRoute().toBuilder().setPrimary(pos)).build();
                    DenseShardGrpc.DenseShardFutureStub stub = stub(s, pos);
                    call = (Future<T>) (!push ? stub.pull(req) : gradient ? stub.pushGradient(req) : stub.pushDelta(req));
                }
            }
        } catch (InterruptedException | RuntimeException e) {
            cancelFrom(calls, s);
            throw e;
        }
    }

    private void cancelFrom(List<? extends Future<?>> calls, int from) {
        for (int k = from; k < calls.size(); k++) if (calls.get(k) != null) calls.get(k).cancel(true);
        buffers.remove();
    }

    private void checkLength(String what, float[] a) {
        if (a == null || a.length < size) {
            throw new IllegalArgumentException("cannot " + what + " " + (a == null ? "null" : a.length + " floats")
                    + ": the servers hold " + size);
        }
    }
}
