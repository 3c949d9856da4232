package io.shadowsync.comm;

import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.ShardedTables;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.RowOptimizer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The in-process embedding parameter server: every table's rows spread over S shards, each shard holding its
 * slice of every table and the sparse optimizer of that slice, behind its own emulated link. Trainers reach it
 * through {@link #client(EmulatedLink)}, an {@link EmbeddingStore} that the models use unchanged.
 *
 * <p>Placement: row r of every table lives on shard {@code r mod S} at local row {@code r / S}. Ids arrive
 * already hashed into [0, rows) by the models, so a modulus spreads them evenly without a second hash, and the
 * local index is computed rather than looked up (no id map per table). Each shard slice is its own array, so a
 * table may exceed one Java array's 2^31 floats when split over enough shards.
 *
 * <p>Initial values are those of a {@link LocalEmbeddingStore} with the same shapes, stds and seed, element for
 * element, and SGD or row-wise Adagrad updates give the same rows: a sharded job starts and (with one worker)
 * steps exactly like a local one.
 *
 * <p>Sharing contract: the Hogwild rules of {@link LocalEmbeddingStore} hold on the server: clients of any number
 * of trainers and workers pull and push at once without locks; a pull may see a row half-updated by a
 * concurrent push, and two pushes to one row may interleave (intended). Costs per call: see {@link #client}.
 */
public final class ShardedEmbeddingServer {
    private final int numShards;
    private final long[] rows;
    private final int[] dims;
    /** [shard][table]: the shard's slice, local row l at offset l·dim. */
    private final float[][][] slices;
    /** [shard][table]: the slice's optimizer; null where the shard holds no row of the table (rows < S). */
    private final RowOptimizer[][] optimizers;
    private final ServerLinks links;

    /**
     * @param shapes    {rows, dim} per table; rows at most 2^31 − 1 (ids are ints), each shard's slice at most
     *                  {@link LocalEmbeddingStore#MAX_TABLE_FLOATS} floats
     * @param initStd   per table, the standard deviation of the normal distribution rows start from (0 = zeros)
     * @param seed      as for {@link LocalEmbeddingStore}: the same seed gives the same values
     * @param opt       the sparse optimizer; one instance per table per shard
     * @param shards    S, at least 1
     * @param shardLink every shard's link ({@link LinkModel#NONE}: no emulation)
     */
    public ShardedEmbeddingServer(long[][] shapes, float[] initStd, long seed, EmbeddingOptimizerSpec opt, int shards,
                                  LinkModel shardLink) {
        if (shapes == null || initStd == null || opt == null) {
            throw new IllegalArgumentException("shapes, initStd and the optimizer spec are required");
        }
        if (initStd.length != shapes.length) {
            throw new IllegalArgumentException("one init std per table: " + shapes.length + " tables but "
                    + initStd.length + " init stds");
        }
        if (shards < 1) throw new IllegalArgumentException("an embedding server needs at least 1 shard, got " + shards);
        int n = shapes.length;
        this.numShards = shards;
        this.rows = new long[n];
        this.dims = new int[n];
        this.slices = new float[shards][n][];
        this.optimizers = new RowOptimizer[shards][n];
        this.links = new ServerLinks(shards, shardLink);
        SplittableRandom root = new SplittableRandom(seed);
        for (int t = 0; t < n; t++) {
            int dim = ShardedTables.checkTable(t, shapes[t], initStd[t], shards);
            long r = shapes[t][0];
            float std = initStd[t];
            rows[t] = r;
            dims[t] = dim;
            for (int sh = 0; sh < shards; sh++) {
                long shardRows = shardRows(r, sh);
                slices[sh][t] = new float[(int) (shardRows * dim)];
                optimizers[sh][t] = shardRows == 0 ? null : opt.forTable(shardRows, dim);
            }
            float[][] byShard = new float[shards][];
            for (int sh = 0; sh < shards; sh++) byShard[sh] = slices[sh][t];
            ShardedTables.fill(root.split(), byShard, r, dim, std); // the same stream and order as LocalEmbeddingStore
        }
    }

    /** Rows of a table of the given size that shard s holds: those r &lt; rows with r mod S = s. */
    private long shardRows(long tableRows, int s) {
        return ShardedTables.shardRows(tableRows, s, numShards);
    }

    public int numShards() {
        return numShards;
    }

    public int numTables() {
        return dims.length;
    }

    public long rows(int table) {
        return rows[checkTable(table)];
    }

    public int dim(int table) {
        return dims[checkTable(table)];
    }

    /**
     * A view for one trainer whose traffic crosses {@code trainerLink} (share it among that trainer's workers, and
     * with its collectives to model one NIC). A pull costs, per shard it touches, a request of 4 bytes per id and
     * a reply of 4·dim bytes per id; a push one message of ids and gradients (4 + 4·dim bytes per id) and an
     * empty acknowledgement. A call is one round trip, to all its shards at once: the trainer's link carries the
     * call's total bytes and each shard's link its part, each with two latencies, and the call returns when the
     * last part is delivered (so the trainer's NIC, and a shard hammered by many trainers, are bottlenecks). The
     * rows move at the start of the call; the caller then sleeps out the emulated time. If the caller is
     * interrupted while it sleeps, the call returns at once with the thread's interrupt flag set.
     *
     * <p>The view is thread-safe: all the trainer's Hogwild workers use it at once.
     */
    public EmbeddingStore client(EmulatedLink trainerLink) {
        return client(trainerLink, RowCodec.FLOAT32);
    }

    /**
     * As {@link #client(EmulatedLink)}, with the rows' values charged as the row codec encodes them: a reply of
     * {@code rowBytes(dim)} bytes per id and a push of 4 + {@code rowBytes(dim)} bytes per id. The values themselves
     * are not rounded here: {@link CodedRows} does that around the client.
     */
    public EmbeddingStore client(EmulatedLink trainerLink, RowCodec rowCodec) {
        if (trainerLink == null) {
            throw new IllegalArgumentException("a client needs its trainer's link; EmulatedLink.ideal() for none");
        }
        if (rowCodec == null) throw new IllegalArgumentException("a row codec is required; RowCodec.FLOAT32 for none");
        return new Client(trainerLink, rowCodec);
    }

    /** Shard s's link, with its byte and message counts (requests and replies). */
    public EmulatedLink shardLink(int s) {
        return links.shard(s);
    }

    /** Bytes moved to and from all shards so far. */
    public long bytes() {
        return links.bytes();
    }

    /** Shard s's slice of table t, [ceil((rows − s)/S) × dim], local row r/S for row r: the live array. */
    public float[] slice(int shard, int table) {
        links.shard(shard);
        return slices[shard][checkTable(table)];
    }

    /** Shard s's optimizer of table t, its state indexed by local row; null where the shard holds no row of t. */
    public RowOptimizer optimizer(int shard, int table) {
        links.shard(shard);
        return optimizers[shard][checkTable(table)];
    }

    /** Copies table t into dst[0 .. rows·dim) in global row order (for model files and checkpoints; racy with pushes). */
    public void copyTable(int table, float[] dst) {
        int dim = dims[checkTable(table)];
        int r = (int) rows[table];
        checkWhole(table, dst);
        for (int row = 0; row < r; row++) {
            System.arraycopy(slices[row % numShards][table], (row / numShards) * dim, dst, row * dim, dim);
        }
    }

    /** Overwrites table t from src[0 .. rows·dim) in global row order (restoring a checkpoint, before training). */
    public void loadTable(int table, float[] src) {
        int dim = dims[checkTable(table)];
        int r = (int) rows[table];
        checkWhole(table, src);
        for (int row = 0; row < r; row++) {
            System.arraycopy(src, row * dim, slices[row % numShards][table], (row / numShards) * dim, dim);
        }
    }

    private void checkWhole(int table, float[] a) {
        long need = rows[table] * dims[table];
        if (need > Integer.MAX_VALUE || a.length < need) {
            throw new IllegalArgumentException("table " + table + " has " + need + " floats; the array holds " + a.length
                    + (need > Integer.MAX_VALUE ? " and no Java array holds them all: read the slices" : ""));
        }
    }

    private int checkTable(int t) {
        if (t < 0 || t >= dims.length) {
            throw new IllegalArgumentException("no embedding table " + t + "; this server has " + dims.length);
        }
        return t;
    }

    private IllegalArgumentException badId(int table, int id) {
        return new IllegalArgumentException("embedding table " + table + ": id " + id + " is outside [0, " + rows[table] + ")");
    }

    /** One trainer's view; per-thread scratch counts ids per shard, so calls allocate nothing. */
    private final class Client implements EmbeddingStore {
        private final EmulatedLink trainerLink;
        private final RowCodec rowCodec;
        private final ThreadLocal<int[]> idsPerShard = ThreadLocal.withInitial(() -> new int[numShards]);
        /** Per thread: {in step, pull round trip already paid in this step, push round trip already paid}. */
        private final ThreadLocal<boolean[]> step = ThreadLocal.withInitial(() -> new boolean[3]);

        Client(EmulatedLink trainerLink, RowCodec rowCodec) {
            this.trainerLink = trainerLink;
            this.rowCodec = rowCodec;
        }

        @Override
        public int numTables() {
            return ShardedEmbeddingServer.this.numTables();
        }

        @Override
        public long rows(int table) {
            return ShardedEmbeddingServer.this.rows(table);
        }

        @Override
        public int dim(int table) {
            return ShardedEmbeddingServer.this.dim(table);
        }

        @Override
        public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
            checkTable(table);
            final int dim = dims[table], shards = numShards;
            final long r = rows[table];
            final int[] count = idsPerShard.get();
            Arrays.fill(count, 0);
            for (int j = 0; j < n; j++) {
                int id = ids[idOff + j];
                if (id < 0 || id >= r) throw badId(table, id);
                int s = id % shards;
                System.arraycopy(slices[s][table], (id / shards) * dim, out, outOff + j * dim, dim);
                count[s]++;
            }
            charge(count, 4L + rowCodec.rowBytes(dim), 1);
        }

        @Override
        public void beginStep() {
            boolean[] st = step.get();
            st[0] = true;
            st[1] = false;
            st[2] = false;
        }

        @Override
        public void endStep() {
            step.get()[0] = false;
        }

        @Override
        public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
            checkTable(table);
            final int dim = dims[table], shards = numShards;
            final long r = rows[table];
            final int[] count = idsPerShard.get();
            Arrays.fill(count, 0);
            for (int j = 0; j < n; j++) {
                int id = ids[idOff + j];
                if (id < 0 || id >= r) throw badId(table, id);
                int s = id % shards, local = id / shards;
                optimizers[s][table].applyRow(slices[s][table], local * dim, dim, local, grads, gradOff + j * dim);
                count[s]++;
            }
            charge(count, 4L + rowCodec.rowBytes(dim), 2);
        }

        /**
         * Charges one round trip to every shard touched, bytesPerId per id, and sleeps it out. Inside a step, only the
         * step's first pull (kind 1) and first push (kind 2) pay the round trip's latencies; later calls of the same
         * kind ride in the same request and pay only their bytes.
         */
        private void charge(int[] count, long bytesPerId, int kind) {
            boolean[] st = step.get();
            int latencies = 2;
            if (st[0]) {
                if (st[kind]) latencies = 0;
                st[kind] = true;
            }
            long total = 0, deadline = 0;
            int touched = 0;
            for (int s = 0; s < count.length; s++) {
                if (count[s] == 0) continue;
                long b = count[s] * bytesPerId;
                deadline = links.chargeShard(s, b, deadline, latencies);
                total += b;
                touched++;
            }
            try {
                ServerLinks.finishCall(trainerLink, total, touched, deadline, latencies);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // EmbeddingStore calls cannot throw it; the worker loop sees the flag
            }
        }
    }
}
