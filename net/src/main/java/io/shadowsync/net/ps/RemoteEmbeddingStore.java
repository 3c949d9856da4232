package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.EmbeddingShardGrpc;
import io.shadowsync.net.proto.PushAck;
import io.shadowsync.net.proto.RowBatch;
import io.shadowsync.net.proto.Rows;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.nn.EmbeddingStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
 * <b>Round trips.</b> A pull or push sends one request to every shard it touches, all at once, and waits for the
 * answers; ids repeated within a pull travel once. Between {@link #beginStep} and {@link #endStep} on a thread:
 * <ul>
 *   <li>pushes are held back and sent at {@code endStep}, all tables' rows in one request per shard, in call order
 *       (so duplicated ids are still applied one after the other); a pull in the same step does not see them;</li>
 *   <li>the rows announced with {@link #prefetch} are pulled together, one request per shard, at the step's first
 *       pull of one of them; each later {@code pull} of the same table and ids is served from that answer. A pull
 *       that was not announced is its own request.</li>
 * </ul>
 * A push's gradient rows that hold a NaN or infinity are dropped and counted ({@link #nonFiniteRowsDropped}): the
 * servers refuse non-finite values, and dropping the row keeps a bad step from ending the job.
 *
 * <p><b>Failures.</b> A call that fails (a shard unreachable, no answer within the call deadline, a refusal) throws
 * {@link ParameterServerException} naming the shard and its address; nothing waits longer than the call deadline
 * plus a few seconds. A push that fails on one shard may have been applied on others.
 *
 * <p>Sharing contract: thread-safe; Hogwild workers call it at once without locks. Each thread has its own buffers
 * and step state; the Hogwild race happens on the servers, as on a local store.
 */
public final class RemoteEmbeddingStore implements EmbeddingStore, AutoCloseable {
    private static final String PULL = "EmbeddingShard.Pull";
    private static final String PUSH = "EmbeddingShard.Push";

    private final ShardSet set;
    private final EmbeddingShardGrpc.EmbeddingShardFutureStub[] stubs;
    private final int numShards;
    private final long[] rows;
    private final int[] dims;
    /** Most rows in one request: the servers' cap and the message size limit, whichever binds first. */
    private final int chunkRows;
    private final ThreadLocal<Lane> lanes;
    private final LongAdder requests = new LongAdder();
    private final LongAdder rowsPulled = new LongAdder();
    private final LongAdder rowsPushed = new LongAdder();
    private final LongAdder nonFinite = new LongAdder();

    private RemoteEmbeddingStore(ShardSet set) {
        this.set = set;
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
        this.stubs = new EmbeddingShardGrpc.EmbeddingShardFutureStub[numShards];
        for (int s = 0; s < numShards; s++) stubs[s] = set.stub(EmbeddingShardGrpc.newFutureStub(set.channel(s)));
        this.lanes = ThreadLocal.withInitial(() -> new Lane(numShards));
    }

    /**
     * Connects to the job's parameter servers, listed in shard order, and checks that they agree (see
     * {@link PsServer}); waits up to the call deadline for servers that are still starting.
     *
     * @throws ParameterServerException when a server cannot be reached
     * @throws IllegalStateException    when the servers disagree with each other or with their place in the list
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards) {
        ShardSet set = ShardSet.connect(transport, shards);
        try {
            return new RemoteEmbeddingStore(set);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
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

    /** The shards' addresses, in shard order. */
    public List<HostPort> addresses() {
        return set.addresses();
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        checkTable(table);
        Lane lane = lanes.get();
        if (lane.inStep && lane.prefetched > 0 && servePrefetched(lane, table, ids, idOff, n, out, outOff)) return;
        checkIds(table, ids, idOff, n);
        if (n == 0) return;
        final int dim = dims[table];
        lane.ensure(n);
        for (ShardBuffer b : lane.pulls) b.reset();
        final int[] shardOf = lane.shardOf, rowOff = lane.rowOff;
        mapRows(lane, table, ids, idOff, n, shardOf, rowOff);
        fetch(lane);
        final ShardBuffer[] bufs = lane.pulls;
        for (int j = 0; j < n; j++) System.arraycopy(bufs[shardOf[j]].rows, rowOff[j], out, outOff + j * dim, dim);
    }

    /**
     * Announces that the calling thread will pull rows {@code ids[idOff .. idOff+n)} of table in the current step, so
     * that all the step's announced rows travel in one request per shard (see the class comment). Outside a step it
     * does nothing. The ids are copied.
     */
    public void prefetch(int table, int[] ids, int idOff, int n) {
        checkTable(table);
        Lane lane = lanes.get();
        if (!lane.inStep) return;
        checkIds(table, ids, idOff, n);
        if (lane.prefetched == lane.prefetch.size()) lane.prefetch.add(new Prefetch());
        lane.prefetch.get(lane.prefetched++).set(table, ids, idOff, n, dims[table]);
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        checkTable(table);
        checkIds(table, ids, idOff, n);
        Lane lane = lanes.get();
        if (!lane.inStep) for (ShardBuffer b : lane.pushes) b.reset();
        final int dim = dims[table], shards = numShards;
        final ShardBuffer[] bufs = lane.pushes;
        for (int j = 0; j < n; j++) {
            int g = gradOff + j * dim;
            float probe = 0f;
            for (int k = 0; k < dim; k++) probe += grads[g + k] - grads[g + k]; // NaN iff a value is not finite
            if (probe != 0f) {
                nonFinite.increment();
                continue;
            }
            int id = ids[idOff + j];
            ShardBuffer b = bufs[id % shards];
            b.add(table, id, dim);
            b.addGrad(grads, g, dim);
        }
        if (!lane.inStep) send(lane);
    }

    @Override
    public void beginStep() {
        Lane lane = lanes.get();
        if (lane.inStep) endStep(); // a step left open: send what it held
        lane = lanes.get();
        for (ShardBuffer b : lane.pushes) b.reset();
        lane.prefetched = 0;
        lane.inStep = true;
    }

    @Override
    public void endStep() {
        Lane lane = lanes.get();
        if (!lane.inStep) return;
        lane.inStep = false;
        lane.prefetched = 0;
        send(lane);
    }

    /** Requests sent so far, pulls and pushes (one per shard touched per call or step; more when split by size). */
    public long requests() {
        return requests.sum();
    }

    /** Rows that travelled back from pulls (after de-duplication) and rows pushed. */
    public long rowsPulled() {
        return rowsPulled.sum();
    }

    public long rowsPushed() {
        return rowsPushed.sum();
    }

    /** Gradient rows dropped because they held a NaN or infinity. */
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
        return TableExport.all(set, dims, rows, chunkRows);
    }

    /** A read-only copy of all tables ({@link #exportTables}) as an {@link EmbeddingStore}, for {@code ModelFile.write}. */
    public TableSnapshot snapshot() {
        long[][] shapes = new long[dims.length][];
        for (int t = 0; t < dims.length; t++) shapes[t] = new long[] {rows[t], dims[t]};
        return new TableSnapshot(shapes, exportTables());
    }

    /** Closes the channels. Calls in flight fail. */
    @Override
    public void close() {
        set.close();
    }

    /** Splits ids over the shards (de-duplicated), recording each id's shard and its row's float offset there. */
    private void mapRows(Lane lane, int table, int[] ids, int idOff, int n, int[] shardOf, int[] rowOff) {
        final int dim = dims[table], shards = numShards;
        final ShardBuffer[] bufs = lane.pulls;
        final RowSlots slots = lane.slots;
        slots.reset(n);
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j], s = id % shards;
            ShardBuffer b = bufs[s];
            int off = slots.putIfAbsent(id, b.floats);
            if (off < 0) off = b.add(table, id, dim);
            shardOf[j] = s;
            rowOff[j] = off;
        }
    }

    /** Serves a pull from the step's prefetched rows; false when it was not announced. */
    private boolean servePrefetched(Lane lane, int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        for (int i = 0; i < lane.prefetched; i++) {
            Prefetch p = lane.prefetch.get(i);
            if (p.table != table || p.n != n || !Arrays.equals(p.ids, 0, n, ids, idOff, idOff + n)) continue;
            if (!p.fetched) fetchPrefetched(lane);
            System.arraycopy(p.values, 0, out, outOff, n * dims[table]);
            return true;
        }
        return false;
    }

    /** Pulls every announced, not yet fetched table of the step in one request per shard. */
    private void fetchPrefetched(Lane lane) {
        for (ShardBuffer b : lane.pulls) b.reset();
        for (int i = 0; i < lane.prefetched; i++) {
            Prefetch p = lane.prefetch.get(i);
            if (!p.fetched) mapRows(lane, p.table, p.ids, 0, p.n, p.shardOf, p.rowOff);
        }
        fetch(lane);
        for (int i = 0; i < lane.prefetched; i++) {
            Prefetch p = lane.prefetch.get(i);
            if (p.fetched) continue;
            int dim = dims[p.table];
            for (int j = 0; j < p.n; j++) System.arraycopy(lane.pulls[p.shardOf[j]].rows, p.rowOff[j], p.values, j * dim, dim);
            p.fetched = true;
        }
    }

    /** Sends the lane's pull buffers to their shards at once and fills each buffer's rows from the answers. */
    private void fetch(Lane lane) {
        final ShardBuffer[] bufs = lane.pulls;
        final List<Future<Rows>> calls = lane.pullCalls;
        calls.clear();
        int nc = 0;
        for (int s = 0; s < numShards; s++) {
            ShardBuffer b = bufs[s];
            if (b.count == 0) continue;
            b.prepareRows();
            for (int from = 0; from < b.count; from += chunkRows) {
                RowBatch req = b.nextChunk(from, chunkRows, false, dims, lane.chunkFloats);
                nc = lane.noteCall(nc, s, lane.chunkFloats[0]);
                calls.add(stubs[s].withDeadlineAfter(set.deadlineNanos(), TimeUnit.NANOSECONDS).pull(req));
                requests.increment();
                rowsPulled.add(Math.min(chunkRows, b.count - from));
            }
        }
        int i = 0;
        try {
            for (; i < nc; i++) {
                int s = lane.callShard[i];
                ByteString v = set.await(s, calls.get(i), PULL).getValues();
                ShardBuffer b = bufs[s];
                if (v.size() != 4L * lane.callFloats[i]) {
                    throw new ParameterServerException(set.name(s) + " answered a pull of " + lane.callFloats[i]
                            + " floats with " + v.size() + " bytes", s, set.address(s), Status.Code.INTERNAL, null);
                }
                LittleEndian.getFloats(v, 0, b.rows, b.rowPos, lane.callFloats[i]);
                b.rowPos += lane.callFloats[i];
            }
        } catch (InterruptedException e) {
            abandon(lane, calls, i);
            Thread.currentThread().interrupt();
            throw new ParameterServerException("interrupted while waiting for " + set.name(lane.callShard[i]), lane.callShard[i],
                    set.address(lane.callShard[i]), Status.Code.CANCELLED, e);
        } catch (RuntimeException e) {
            abandon(lane, calls, i);
            throw e;
        }
    }

    /**
     * Sends the lane's push buffers to their shards at once and waits for every acknowledgement. A shard's rows split
     * over several requests (size limits) go one request after the other, so that its rows are applied in order.
     */
    private void send(Lane lane) {
        final ShardBuffer[] bufs = lane.pushes;
        final List<Future<PushAck>> calls = lane.pushCalls;
        for (int from = 0; ; from += chunkRows) {
            calls.clear();
            int nc = 0;
            for (int s = 0; s < numShards; s++) {
                ShardBuffer b = bufs[s];
                if (from >= b.count) continue;
                RowBatch req = b.nextChunk(from, chunkRows, true, dims, lane.chunkFloats);
                nc = lane.noteCall(nc, s, Math.min(chunkRows, b.count - from));
                calls.add(stubs[s].withDeadlineAfter(set.deadlineNanos(), TimeUnit.NANOSECONDS).push(req));
                requests.increment();
            }
            if (nc == 0) break;
            int i = 0;
            try {
                for (; i < nc; i++) {
                    int s = lane.callShard[i];
                    long applied = set.await(s, calls.get(i), PUSH).getRows();
                    if (applied != lane.callFloats[i]) {
                        throw new ParameterServerException(set.name(s) + " applied " + applied + " of " + lane.callFloats[i]
                                + " pushed rows", s, set.address(s), Status.Code.INTERNAL, null);
                    }
                    rowsPushed.add(applied);
                }
            } catch (InterruptedException e) {
                abandon(lane, calls, i);
                Thread.currentThread().interrupt();
                throw new ParameterServerException("interrupted while waiting for " + set.name(lane.callShard[i]), lane.callShard[i],
                        set.address(lane.callShard[i]), Status.Code.CANCELLED, e);
            } catch (RuntimeException e) {
                abandon(lane, calls, i);
                throw e;
            }
        }
        for (ShardBuffer b : bufs) b.reset();
    }

    /**
     * After a failure: cancels the calls not yet awaited and drops the thread's buffers, so that no request still
     * in flight can see them rewritten by the thread's next call.
     */
    private void abandon(Lane lane, List<? extends Future<?>> calls, int from) {
        for (int k = from; k < calls.size(); k++) calls.get(k).cancel(true);
        lanes.remove();
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

    /** One thread's buffers and step state. */
    private static final class Lane {
        boolean inStep;
        final ShardBuffer[] pulls;
        final ShardBuffer[] pushes;
        final RowSlots slots = new RowSlots();
        int[] shardOf = new int[256];
        int[] rowOff = new int[256];
        final List<Prefetch> prefetch = new ArrayList<>();
        int prefetched;
        final List<Future<Rows>> pullCalls = new ArrayList<>();
        final List<Future<PushAck>> pushCalls = new ArrayList<>();
        /** Per call of the current round trip: its shard, and the floats (pull) or rows (push) it carries. */
        int[] callShard = new int[16];
        int[] callFloats = new int[16];
        final int[] chunkFloats = new int[1];

        Lane(int shards) {
            pulls = new ShardBuffer[shards];
            pushes = new ShardBuffer[shards];
            for (int s = 0; s < shards; s++) {
                pulls[s] = new ShardBuffer();
                pushes[s] = new ShardBuffer();
            }
        }

        void ensure(int n) {
            if (shardOf.length < n) {
                shardOf = new int[Math.max(n, 2 * shardOf.length)];
                rowOff = new int[shardOf.length];
            }
        }

        int noteCall(int nc, int shard, int size) {
            if (nc == callShard.length) {
                callShard = Arrays.copyOf(callShard, 2 * nc);
                callFloats = Arrays.copyOf(callFloats, 2 * nc);
            }
            callShard[nc] = shard;
            callFloats[nc] = size;
            return nc + 1;
        }
    }

    /** One announced pull of the current step: its ids (copied), where each id's row lands, and the rows. */
    private static final class Prefetch {
        int table;
        int n;
        int[] ids = new int[0];
        int[] shardOf = new int[0];
        int[] rowOff = new int[0];
        float[] values = new float[0];
        boolean fetched;

        void set(int table, int[] src, int off, int n, int dim) {
            this.table = table;
            this.n = n;
            if (ids.length < n) {
                ids = new int[n];
                shardOf = new int[n];
                rowOff = new int[n];
            }
            if (values.length < n * dim) values = new float[n * dim];
            System.arraycopy(src, off, ids, 0, n);
            fetched = false;
        }
    }
}
