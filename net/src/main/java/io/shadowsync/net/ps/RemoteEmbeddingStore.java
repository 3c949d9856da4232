package io.shadowsync.net.ps;

import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.RowBytes;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Embedding tables held by S parameter-server nodes ({@link PsServer}): row r of every table on shard r mod S. The
 * same model code runs on it as on a {@code LocalEmbeddingStore}, and the same sequence of pulls and pushes leaves
 * the same bits in the rows (the servers start from the same values and apply pushes in order with the same
 * optimizer).
 * <pre>
 *   try (RemoteEmbeddingStore tables = RemoteEmbeddingStore.connect(transport, List.of(ps0, ps1))) {
 *       ... model.forwardBackward(batch, workspace, tables) ...
 *       ModelFile.write(path, spec, provenance, dense, tables.snapshot());
 *   }
 * </pre>
 * <b>Round trips.</b> Each client thread keeps one persistent connection open to each shard: its row lane, raw TCP
 * ({@link Calls#LANE}, the default), or a gRPC stream ({@link Calls#STREAM}); the unary calls of {@link Calls#UNARY}
 * remain to compare against. A node in the client's own JVM (a trainer hosting a shard) is called directly instead,
 * in the same order and with the same effects ({@link DirectWire}). A pull or push sends one request to every shard it
 * touches, all at once; ids repeated within a pull travel once. A shard handles a stream's calls in the order they
 * were sent, so a thread's pull sees every push it sent before, acknowledged or not. Between {@link #beginStep} and
 * {@link #endStep} on a thread:
 * <ul>
 *   <li>pushes are held back and sent at {@code endStep}, all tables' rows in one request per shard, in call order
 *       (so duplicated ids are still applied one after the other); a pull in the same step does not see them.
 *       {@code endStep} does not wait for their acknowledgements: the next {@code endStep} does, before it sends, so
 *       at most one step's pushes per thread are in flight (the back-pressure), and {@link #flush} waits for all;
 *       a push outside a step is sent and waited for;</li>
 *   <li>the rows announced with {@link #prefetch} are pulled together, one request per shard, at the step's first
 *       pull of one of them; each later {@code pull} of the same table and ids is served from that answer. A pull
 *       that was not announced is its own request.</li>
 * </ul>
 * A push's gradient rows that hold a NaN, an infinity or a value beyond {@link PsShardSpec#MAX_ABS_VALUE} are dropped
 * and counted ({@link #nonFiniteRowsDropped}): the servers refuse such values, and dropping the row keeps a bad step
 * from ending the job.
 *
 * <p><b>Row codec.</b> With a lossy {@link RowCodec} ({@code --compress-rows}), each pushed gradient row goes encoded
 * (the servers decode it and apply it in float32 with their float32 optimizer state) and each pulled row comes back
 * encoded by the server; a request names its codec. A gradient row whose encoding is not finite (fp16 past 65504)
 * is dropped and counted as above. {@link #rowBytes} counts the values' bytes.
 *
 * <p><b>Failures.</b> A call that fails (a shard unreachable, its stream ended, no answer within the call deadline, a
 * refusal) throws {@link ParameterServerException} naming the shard and its address; nothing waits longer than the
 * call deadline plus a few seconds per replica tried. A push in flight that fails is thrown by the thread's next step
 * (or by {@link #flush}). A push that fails on one shard may have been applied on others. With replicated servers
 * ({@code --ps-replicas R}), the calls still unanswered on a stream whose replica is gone go again, in order, to the
 * shard's next replica, with the same (client, seq), so a push acknowledged once is applied once; only a shard with
 * no replica left fails.
 *
 * <p>Sharing contract: thread-safe; Hogwild workers call it at once without locks. Each thread has its own buffers
 * and step state; the Hogwild race happens on the servers, as on a local store.
 */
public final class RemoteEmbeddingStore implements EmbeddingStore, AutoCloseable {
    private final ShardSet set;
    private final RowCalls traffic;
    private final LanePulls pulls;
    private final int numShards;
    private final long[] rows;
    private final int[] dims;
    /** Most rows in one request: the servers' cap and the message size limit, whichever binds first. */
    private final int chunkRows;
    private final ThreadLocal<ClientLane> lanes;
    /** Every thread's lane, for {@link #flush} and {@link #close}. */
    private final Set<ClientLane> allLanes = ConcurrentHashMap.newKeySet();
    private final LongAdder nonFinite = new LongAdder();

    private final RowCodec codec;
    /**
     * A gradient row whose values are all at most this in magnitude decodes, in every row codec, to values within the
     * servers' limit (fp16 carries up to 65504; int8 and bf16 stay within 1 % of the row's largest value).
     */
    private static final float SURELY_CARRIED = 30_000f;

    /** The nodes (shard order) this store reaches in its own JVM ({@link DirectWire}). */
    private final List<Integer> inJvm;

    private RemoteEmbeddingStore(ShardSet set, Calls mode, RowCodec codec, List<PsServer> sameJvm) {
        this.set = set;
        this.codec = codec;
        this.numShards = set.size();
        ShardInfo info = set.info(0);
        int n = info.getTablesCount();
        this.rows = new long[n];
        this.dims = new int[n];
        int maxDim = 1, cap = Integer.MAX_VALUE;
        for (int t = 0; t < n; t++) {
            rows[t] = info.getTables(t).getRows();
            dims[t] = info.getTables(t).getDim();
            maxDim = Math.max(maxDim, dims[t]);
        }
        for (int s = 0; s < numShards; s++) cap = Math.min(cap, set.info(s).getMaxRowsPerRequest());
        long byBytes = PsShardSpec.payloadLimit(set.maxMessageBytes()) / (4L + 4L * maxDim);
        if (byBytes < 1) {
            throw new IllegalStateException("a message of " + set.maxMessageBytes() + " bytes cannot carry one row of "
                    + maxDim + " floats; raise the message size limit");
        }
        this.chunkRows = (int) Math.min(cap, byBytes);
        PsServer[] here = new PsServer[numShards];
        List<Integer> found = new java.util.ArrayList<>();
        for (PsServer p : sameJvm) {
            for (int node = 0; node < numShards; node++) {
                // the same node: its gRPC port, and what it described itself as (the row lane's port and random ticket among it)
                if (set.addresses().get(node).port() == p.port() && set.info(node).equals(p.info()) && here[node] == null) {
                    here[node] = p;
                    found.add(node);
                }
            }
        }
        this.inJvm = List.copyOf(found);
        this.traffic = mode == Calls.UNARY ? new RowTraffic(set, dims, chunkRows, codec)
                : new RowStreams(set, dims, chunkRows, mode == Calls.LANE, codec, here);
        this.pulls = new LanePulls(traffic, dims, numShards);
        this.lanes = ThreadLocal.withInitial(() -> {
            ClientLane lane = new ClientLane(numShards);
            allLanes.add(lane);
            return lane;
        });
    }

    /**
     * Connects to the job's parameter servers, listed in shard order, and checks that they agree (see
     * {@link PsServer}); waits up to the call deadline for servers that are still starting.
     *
     * @throws ParameterServerException when a server cannot be reached
     * @throws IllegalStateException    when the servers disagree with each other or with their place in the list
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards) {
        return connect(transport, shards, false);
    }

    /**
     * As {@link #connect(Transport, List)}; with {@code running}, to the servers of a job that runs (a trainer
     * joining it): dead nodes are tolerated while every shard keeps a live replica, and each shard starts at its
     * current primary.
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards, boolean running) {
        return connect(transport, shards, running, Calls.LANE);
    }

    /**
     * As {@link #connect(Transport, List, boolean)}, with the rows moved over the nodes' row lanes ({@code LANE}, what
     * the others use), persistent gRPC streams ({@code STREAM}: the fallback, e.g. where only the listed ports are
     * open) or one unary call per shard and round trip ({@code UNARY}: every push waited for, as before the streams;
     * kept to measure one against the other).
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards, boolean running, Calls mode) {
        return connect(transport, shards, running, mode, RowCodec.FLOAT32);
    }

    /**
     * As {@link #connect(Transport, List, boolean, Calls)}, with the rows' values (pulled rows, pushed gradients)
     * travelling in codec ({@code --compress-rows}; {@link RowCodec#FLOAT32}: as they are).
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards, boolean running, Calls mode, RowCodec codec) {
        return connect(transport, shards, running, mode, codec, List.of());
    }

    /**
     * As {@link #connect(Transport, List, boolean, Calls, RowCodec)}, where some of the nodes run in this JVM
     * ({@code sameJvm}: a trainer that hosts a shard, {@code trainer --host-shard}): in {@code LANE} and {@code STREAM}
     * mode the calls to such a node do not leave the JVM — each thread's calls are served at once, on the thread, by
     * the node's own handlers, with the same checks, counters, optimizer and order as over its row lane (see
     * {@link #nodesInJvm}). A node of the list that is not one of {@code shards} is ignored.
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards, boolean running, Calls mode, RowCodec codec,
                                               List<PsServer> sameJvm) {
        if (codec == null) throw new IllegalArgumentException("a row codec is required; RowCodec.FLOAT32 for none");
        ShardSet set = ShardSet.connect(transport, shards, running);
        try {
            return new RemoteEmbeddingStore(set, mode, codec, List.copyOf(sameJvm));
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /** How rows travel: see {@link #connect(Transport, List, boolean, Calls)}. */
    public enum Calls {
        /**
         * As {@link #STREAM}, on each node's row lane: a raw TCP connection per client thread and shard, binary frames,
         * proved by the job's token (the default). A node without one (under TLS) gets a gRPC stream.
         */
        LANE,
        /** A persistent bidirectional gRPC stream per client thread and shard; a step's pushes acknowledged in the background. */
        STREAM,
        /** One unary call per shard and round trip, every push waited for (the data plane before the streams, to compare). */
        UNARY
    }

    @Override
    public int numTables() {
        return dims.length;
    }

    @Override
    public long rows(int table) {
        return rows[checkTable(table)];
    }

    @Override
    public int dim(int table) {
        return dims[checkTable(table)];
    }

    public int numShards() {
        return numShards;
    }

    /** R, the replicas of every shard the servers hold (1: unreplicated). */
    public int replicas() {
        return set.replicas();
    }

    /** Failovers so far: shards that moved on to their next replica because the one in use was gone. */
    public long failovers() {
        return set.failovers();
    }

    /**
     * The nodes (by shard index) whose calls this store serves in its own JVM, without a socket (see
     * {@link #connect(Transport, List, boolean, Calls, RowCodec, List)}); empty for none, and in {@code UNARY} mode.
     */
    public List<Integer> nodesInJvm() {
        return traffic instanceof RowStreams ? inJvm : List.of();
    }

    /** The shards' addresses, in shard order. */
    public List<HostPort> addresses() {
        return set.addresses();
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        checkTable(table);
        checkIds(table, ids, idOff, n);
        ClientLane lane = lane();
        onLane(lane, () -> pulls.pull(lane, table, ids, idOff, n, out, outOff));
    }

    /**
     * Announces that the calling thread will pull rows {@code ids[idOff .. idOff+n)} of table in the current step, so
     * that all the step's announced rows travel in one request per shard (see the class comment). Outside a step it
     * does nothing. The ids are copied.
     */
    @Override
    public void prefetch(int table, int[] ids, int idOff, int n) {
        checkTable(table);
        ClientLane lane = lane();
        if (!lane.inStep) return;
        checkIds(table, ids, idOff, n);
        pulls.prefetch(lane, table, ids, idOff, n);
    }

    /**
     * Announces, inside a step, that the calling thread will pull rows {@code ids[idOff .. idOff+n)} of table in its
     * next step. The rows announced so go out together, one request per shard, at this step's first pull (or its end),
     * ahead of this step's pushes, so that their answers travel while this step computes; the next step's pull of
     * the same table and ids (announced again or not) is served from them. They hold every push this thread sent
     * before the current step, but not the current step's: staleness of one step. Outside a step it does nothing.
     * The ids are copied.
     */
    @Override
    public void prefetchNext(int table, int[] ids, int idOff, int n) {
        checkTable(table);
        ClientLane lane = lane();
        if (!lane.inStep || lane.next.sent) return;
        checkIds(table, ids, idOff, n);
        pulls.prefetchNext(lane, table, ids, idOff, n);
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        checkTable(table);
        checkIds(table, ids, idOff, n);
        ClientLane lane = lane();
        if (!lane.inStep) for (ShardBuffer b : lane.pushes) b.reset();
        final int dim = dims[table], shards = numShards;
        final ShardBuffer[] bufs = lane.pushes;
        final boolean lossy = !codec.lossless();
        if (lossy && lane.rounded.length < dim) lane.rounded = new float[dim];
        int sent = 0;
        for (int j = 0; j < n; j++) {
            int g = gradOff + j * dim;
            float max = 0f;
            for (int k = 0; k < dim; k++) max = Math.max(max, Math.abs(grads[g + k])); // NaN when a value is NaN
            if (lossy && max > SURELY_CARRIED && max <= PsShardSpec.MAX_ABS_VALUE) {
                // near the limit, what the server will decode decides: fp16 turns a value past 65504 into an infinity,
                // bf16 may round a value just under the limit past it
                System.arraycopy(grads, g, lane.rounded, 0, dim);
                codec.round(lane.rounded, 0, 1, dim);
                max = 0f;
                for (int k = 0; k < dim; k++) max = Math.max(max, Math.abs(lane.rounded[k]));
            }
            if (!(max <= PsShardSpec.MAX_ABS_VALUE)) { // NaN, infinite or beyond what the servers take
                nonFinite.increment();
                continue;
            }
            int id = ids[idOff + j];
            ShardBuffer b = bufs[id % shards];
            b.add(table, id, dim);
            b.addGrad(grads, g, dim, codec);
            sent++;
        }
        traffic.bytes.pushed(sent, dim, codec.rowBytes(dim));
        if (!lane.inStep) {
            onLane(lane, () -> {
                traffic.send(lane);
                traffic.settle(lane);
            });
        }
    }

    @Override
    public void beginStep() {
        if (lane().inStep) endStep(); // a step left open: send what it held
        ClientLane lane = lane();
        for (ShardBuffer b : lane.pushes) b.reset();
        onLane(lane, () -> pulls.beginStep(lane));
        lane.inStep = true;
    }

    @Override
    public void endStep() {
        ClientLane lane = lane();
        if (!lane.inStep) return;
        onLane(lane, () -> pulls.endStep(lane));
        lane.inStep = false;
        onLane(lane, () -> traffic.send(lane));
    }

    /**
     * Waits until every push made so far through this store, by any thread, is acknowledged: applied on every live
     * replica of its shard. A paused job calls it before the servers write their shards; a worker at its end. Pushes
     * that other threads make meanwhile are not waited for.
     *
     * @throws ParameterServerException when a push in flight failed (its thread's next call fails too)
     */
    @Override
    public void flush() {
        for (ClientLane lane : allLanes) {
            try {
                traffic.settle(lane);
            } catch (RuntimeException e) {
                lane.failed = e;
                drop(lane);
                throw e;
            }
        }
    }

    /** Requests sent so far, pulls and pushes (one per shard touched per call or step; more when split by size). */
    public long requests() {
        return traffic.requests.sum();
    }

    /** Rows that travelled back from pulls (after de-duplication) and rows acknowledged as pushed. */
    public long rowsPulled() {
        return traffic.rowsPulled.sum();
    }

    public long rowsPushed() {
        return traffic.rowsPushed.sum();
    }

    /** The row codec the values travel in. */
    public RowCodec rowCodec() {
        return codec;
    }

    /** The bytes of row values pulled (answers received) and pushed (gradient rows sent), encoded and as float32. */
    @Override
    public RowBytes rowBytes() {
        return traffic.bytes;
    }

    /** Gradient rows dropped because they held a NaN, an infinity or a value beyond {@link PsShardSpec#MAX_ABS_VALUE}. */
    public long nonFiniteRowsDropped() {
        return nonFinite.sum();
    }

    /**
     * Every row of every table, {@code [t][rows × dim]} row-major, paged from the shards in parallel (for model files
     * and checkpoints; racy with concurrent pushes, as a local store's copy is).
     *
     * @throws IllegalStateException when a table holds more floats than one Java array
     */
    public float[][] exportTables() {
        flush();
        return TableExport.all(set, dims, rows, chunkRows);
    }

    /** A read-only copy of all tables ({@link #exportTables}) as an {@link EmbeddingStore}, for {@code ModelFile.write}. */
    public TableSnapshot snapshot() {
        long[][] shapes = new long[dims.length][];
        for (int t = 0; t < dims.length; t++) shapes[t] = new long[] {rows[t], dims[t]};
        return new TableSnapshot(shapes, exportTables());
    }

    /** Closes the streams and channels. Calls in flight fail; pushes not yet acknowledged may be lost ({@link #flush} first). */
    @Override
    public void close() {
        for (ClientLane lane : allLanes) lane.cancelStreams("the client closed its parameter-server store");
        set.close();
    }

    /** Runs a call of the lane's traffic; after a failure the thread's lane is dropped (requests may still be in flight). */
    private void onLane(ClientLane lane, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            dropOwn(lane);
            throw e;
        }
    }

    /** The calling thread's lane; when {@link #flush} saw one of its pushes fail, that failure, and a fresh lane next time. */
    private ClientLane lane() {
        ClientLane lane = lanes.get();
        RuntimeException f = lane.failed;
        if (f == null) return lane;
        lanes.remove();
        if (f instanceof ParameterServerException e) {
            throw new ParameterServerException(e.getMessage(), e.shard(), e.address(), e.code(), e);
        }
        throw new IllegalStateException(f.getMessage(), f);
    }

    /** The calling thread's lane failed: it starts afresh at its next call. */
    private void dropOwn(ClientLane lane) {
        lanes.remove();
        drop(lane);
    }

    /** A lane that failed: its streams end, and it keeps the error for its thread's next call (see {@link ClientLane#failed}). */
    private void drop(ClientLane lane) {
        allLanes.remove(lane);
        lane.cancelStreams("a call on this lane failed");
    }

    private int checkTable(int t) {
        if (t < 0 || t >= dims.length) {
            throw new IllegalArgumentException("no embedding table " + t + "; this store has " + dims.length);
        }
        return t;
    }

    private void checkIds(int table, int[] ids, int idOff, int n) {
        final long r = rows[table];
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j];
            if (id < 0 || id >= r) {
                throw new IllegalArgumentException("embedding table " + table + ": id " + id + " is outside [0, " + r + ")");
            }
        }
    }
}
