package io.shadowsync.net.ps;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.Transport;
import io.shadowsync.net.proto.ShardInfo;
import io.shadowsync.nn.EmbeddingStore;
import java.util.Arrays;
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
 * <b>Round trips.</b> Each client thread keeps one persistent stream open to each shard ({@link Calls#STREAM}; the
 * unary calls of {@link Calls#UNARY} remain to compare against). A pull or push sends one request to every shard it
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
    private final int numShards;
    private final long[] rows;
    private final int[] dims;
    /** Most rows in one request: the servers' cap and the message size limit, whichever binds first. */
    private final int chunkRows;
    private final ThreadLocal<ClientLane> lanes;
    /** Every thread's lane, for {@link #flush} and {@link #close}. */
    private final Set<ClientLane> allLanes = ConcurrentHashMap.newKeySet();
    private final LongAdder nonFinite = new LongAdder();

    private RemoteEmbeddingStore(ShardSet set, Calls mode) {
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
        this.traffic = mode == Calls.STREAM ? new RowStreams(set, dims, chunkRows) : new RowTraffic(set, dims, chunkRows);
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
        return connect(transport, shards, running, Calls.STREAM);
    }

    /**
     * As {@link #connect(Transport, List, boolean)}, with the rows moved over persistent streams
     * ({@code STREAM}, what the others use) or one unary call per shard and round trip ({@code UNARY}: every push
     * waited for, as before the streams; kept to measure one against the other).
     */
    public static RemoteEmbeddingStore connect(Transport transport, List<HostPort> shards, boolean running, Calls mode) {
        ShardSet set = ShardSet.connect(transport, shards, running);
        try {
            return new RemoteEmbeddingStore(set, mode);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /** How rows travel: see {@link #connect(Transport, List, boolean, Calls)}. */
    public enum Calls {
        /** A persistent bidirectional stream per client thread and shard; a step's pushes acknowledged in the background. */
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

    /** The shards' addresses, in shard order. */
    public List<HostPort> addresses() {
        return set.addresses();
    }

    @Override
    public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        checkTable(table);
        ClientLane lane = lane();
        if (lane.inStep) {
            sendAhead(lane); // the next step's rows go out before this pull waits for anything
            if (lane.current.count > 0 && serveAhead(lane, table, ids, idOff, n, out, outOff)) return;
            if (lane.prefetched > 0 && servePrefetched(lane, table, ids, idOff, n, out, outOff)) return;
        }
        checkIds(table, ids, idOff, n);
        if (n == 0) return;
        final int dim = dims[table];
        lane.ensure(n);
        for (ShardBuffer b : lane.pulls) b.reset();
        final int[] shardOf = lane.shardOf, rowOff = lane.rowOff;
        mapRows(lane, lane.pulls, table, ids, idOff, n, shardOf, rowOff);
        fetch(lane);
        final ShardBuffer[] bufs = lane.pulls;
        for (int j = 0; j < n; j++) System.arraycopy(bufs[shardOf[j]].rows, rowOff[j], out, outOff + j * dim, dim);
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
        if (lane.current.find(table, ids, idOff, n) != null) return; // announced a step ahead: requested already
        lane.announce(table, ids, idOff, n, dims[table]);
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
        lane.next.announce(table, ids, idOff, n, dims[table]);
    }

    @Override
    public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
        checkTable(table);
        checkIds(table, ids, idOff, n);
        ClientLane lane = lane();
        if (!lane.inStep) for (ShardBuffer b : lane.pushes) b.reset();
        final int dim = dims[table], shards = numShards;
        final ShardBuffer[] bufs = lane.pushes;
        for (int j = 0; j < n; j++) {
            int g = gradOff + j * dim;
            float max = 0f;
            for (int k = 0; k < dim; k++) max = Math.max(max, Math.abs(grads[g + k])); // NaN when a value is NaN
            if (!(max <= PsShardSpec.MAX_ABS_VALUE)) { // NaN, infinite or beyond what the servers take
                nonFinite.increment();
                continue;
            }
            int id = ids[idOff + j];
            ShardBuffer b = bufs[id % shards];
            b.add(table, id, dim);
            b.addGrad(grads, g, dim);
        }
        if (!lane.inStep) {
            send(lane);
            settle(lane);
        }
    }

    @Override
    public void beginStep() {
        ClientLane lane = lane();
        if (lane.inStep) endStep(); // a step left open: send what it held
        lane = lane();
        for (ShardBuffer b : lane.pushes) b.reset();
        lane.prefetched = 0;
        ClientLane.Ahead done = lane.current;
        if (done.sent && !done.received) receive(lane, done); // announced but never pulled: its buffers are reused now
        lane.swapAhead();
        lane.inStep = true;
    }

    @Override
    public void endStep() {
        ClientLane lane = lane();
        if (!lane.inStep) return;
        sendAhead(lane);
        lane.inStep = false;
        lane.prefetched = 0;
        send(lane);
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
        return traffic.requests();
    }

    /** Rows that travelled back from pulls (after de-duplication) and rows acknowledged as pushed. */
    public long rowsPulled() {
        return traffic.rowsPulled();
    }

    public long rowsPushed() {
        return traffic.rowsPushed();
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

    /** Splits ids over the shards (de-duplicated), recording each id's shard and its row's float offset there. */
    private void mapRows(ClientLane lane, ShardBuffer[] bufs, int table, int[] ids, int idOff, int n, int[] shardOf, int[] rowOff) {
        final int dim = dims[table], shards = numShards;
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
    private boolean servePrefetched(ClientLane lane, int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        for (int i = 0; i < lane.prefetched; i++) {
            ClientLane.Prefetch p = lane.prefetch.get(i);
            if (p.table != table || p.n != n || !Arrays.equals(p.ids, 0, n, ids, idOff, idOff + n)) continue;
            if (!p.fetched) fetchPrefetched(lane);
            System.arraycopy(p.values, 0, out, outOff, n * dims[table]);
            return true;
        }
        return false;
    }

    /** Pulls every announced, not yet fetched table of the step in one request per shard. */
    private void fetchPrefetched(ClientLane lane) {
        for (ShardBuffer b : lane.pulls) b.reset();
        for (int i = 0; i < lane.prefetched; i++) {
            ClientLane.Prefetch p = lane.prefetch.get(i);
            if (!p.fetched) mapRows(lane, lane.pulls, p.table, p.ids, 0, p.n, p.shardOf, p.rowOff);
        }
        fetch(lane);
        for (int i = 0; i < lane.prefetched; i++) {
            ClientLane.Prefetch p = lane.prefetch.get(i);
            if (p.fetched) continue;
            int dim = dims[p.table];
            for (int j = 0; j < p.n; j++) System.arraycopy(lane.pulls[p.shardOf[j]].rows, p.rowOff[j], p.values, j * dim, dim);
            p.fetched = true;
        }
    }

    /** Requests the rows announced for the next step, all tables in one request per shard, unless done already. */
    private void sendAhead(ClientLane lane) {
        ClientLane.Ahead next = lane.next;
        if (next.sent || next.count == 0) return;
        for (ShardBuffer b : next.bufs) b.reset();
        for (int i = 0; i < next.count; i++) {
            ClientLane.Prefetch p = next.entries.get(i);
            mapRows(lane, next.bufs, p.table, p.ids, 0, p.n, p.shardOf, p.rowOff);
        }
        next.sent = true;
        try {
            traffic.start(lane, next.bufs, next.calls);
        } catch (RuntimeException e) {
            dropOwn(lane);
            throw e;
        }
    }

    /** Serves a pull from the rows announced for this step a step ahead; false when these ids were not among them. */
    private boolean serveAhead(ClientLane lane, int table, int[] ids, int idOff, int n, float[] out, int outOff) {
        ClientLane.Ahead cur = lane.current;
        ClientLane.Prefetch p = cur.find(table, ids, idOff, n);
        if (p == null) return false;
        if (!cur.received) receive(lane, cur);
        final int dim = dims[table];
        final ShardBuffer[] bufs = cur.bufs;
        for (int j = 0; j < n; j++) System.arraycopy(bufs[p.shardOf[j]].rows, p.rowOff[j], out, outOff + j * dim, dim);
        return true;
    }

    private void receive(ClientLane lane, ClientLane.Ahead a) {
        try {
            traffic.finish(lane, a.bufs, a.calls);
            a.received = true;
        } catch (RuntimeException e) {
            dropOwn(lane);
            throw e;
        }
    }

    /** A round trip of pulls; after a failure the thread's lane is dropped (requests may still be in flight). */
    private void fetch(ClientLane lane) {
        try {
            traffic.fetch(lane);
        } catch (RuntimeException e) {
            dropOwn(lane);
            throw e;
        }
    }

    /** Sends the lane's pushes (see {@link RowCalls#send}); after a failure the thread's lane is dropped. */
    private void send(ClientLane lane) {
        try {
            traffic.send(lane);
        } catch (RuntimeException e) {
            dropOwn(lane);
            throw e;
        }
    }

    private void settle(ClientLane lane) {
        try {
            traffic.settle(lane);
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
