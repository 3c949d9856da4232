package io.shadowsync.engine.feed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSource;
import io.shadowsync.engine.JobState;
import io.shadowsync.engine.TrainerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-sharding when elastic trainers leave for good: the survivors train the rest of each departed trainer's share.
 *
 * <p>The rule, which every survivor computes alike from the same answer of the coordinator. A departed share's rest
 * is a {@link Part}: trainer d's own supply (as {@link BatchSupply#ofTrainer} builds it: the same split, shuffles and
 * budget), restored at d's progress mark — the examples its workers had applied before its last completed sync round
 * — so it hands out, per worker, exactly the batches d had not trained. The m survivors share it by batches: per
 * worker w, survivor j keeps the k-th batch of that worker's rest when {@code k mod m == j} and skips the others. A
 * supply's batches are a deterministic function of the data, the configuration and the position, so the m survivors
 * see the same batches and each batch is trained by exactly one of them. A survivor that leaves while it trains its
 * take is handled by the same rule one level down: its take (the parts with its filter) is shared again among those
 * left, as a part with one more {@link Filter}.
 *
 * <p>Guarantee: every example of the budget is trained at least once. Exactly once, except the examples a departed
 * trainer trained between its last report of its mark (twice a second) and its last completed round, which its
 * survivors train again; and a survivor leaving during a takeover, whose whole take is trained again.
 */
public final class Takeover {
    private Takeover() {}

    /** A progress mark as bytes (for the coordinator, which keeps it without reading it): null for none. */
    public static byte[] encode(JobState.DataPosition p) {
        if (p == null) return new byte[0];
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            // if/else, not a pattern switch: core compiles for Java 17 (Spark executors)
            if (p instanceof JobState.StreamPosition s) {
                out.writeByte(1);
                out.writeInt(s.epoch());
                out.writeLong(s.index());
                out.writeLong(s.read());
                out.writeLong(s.skippedLines());
                writeLongs(out, s.assigned());
                out.writeInt(s.strata().length);
                for (int v : s.strata()) out.writeInt(v);
                writeLongs(out, s.consumed());
            } else {
                JobState.ShardPosition s = (JobState.ShardPosition) p;
                out.writeByte(2);
                writeLongs(out, s.delivered());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte array does not fail
        }
    }

    /**
     * The progress mark {@link #encode} wrote; null for empty bytes (no mark: the share from its start).
     *
     * @throws IllegalArgumentException for bytes that are not a mark
     */
    public static JobState.DataPosition decode(byte[] b) {
        if (b.length == 0) return null;
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(b));
        try {
            JobState.DataPosition p = switch (in.readByte()) {
                case 1 -> {
                    int epoch = in.readInt();
                    long index = in.readLong(), read = in.readLong(), skipped = in.readLong();
                    long[] assigned = readLongs(in);
                    int[] strata = new int[count(in.readInt())];
                    for (int i = 0; i < strata.length; i++) strata[i] = in.readInt();
                    yield new JobState.StreamPosition(epoch, index, read, skipped, assigned, strata, readLongs(in));
                }
                case 2 -> new JobState.ShardPosition(readLongs(in));
                default -> throw new IllegalArgumentException("not a progress mark (kind " + b[0] + ")");
            };
            if (in.available() != 0) throw new IllegalArgumentException("a progress mark with " + in.available() + " bytes too many");
            return p;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("a truncated progress mark (" + b.length + " bytes)");
        }
    }

    private static void writeLongs(java.io.DataOutputStream out, long[] v) throws java.io.IOException {
        out.writeInt(v.length);
        for (long x : v) out.writeLong(x);
    }

    private static long[] readLongs(java.io.DataInputStream in) throws java.io.IOException {
        long[] v = new long[count(in.readInt())];
        for (int i = 0; i < v.length; i++) v[i] = in.readLong();
        return v;
    }

    private static int count(int n) {
        if (n < 0 || n > 1 << 16) throw new IllegalArgumentException("a progress mark with " + n + " entries");
        return n;
    }

    /** Keep, per worker, the batches k (counting from 0) with {@code k mod of == pick}. */
    public record Filter(int of, int pick) {
        public Filter {
            if (of < 1 || pick < 0 || pick >= of) throw new IllegalArgumentException("batch filter " + pick + " of " + of);
        }
    }

    /**
     * The rest of a departed trainer's share: trainer {@code trainer}'s supply from {@code from} (null: from its start),
     * with its batches filtered by each of {@code filters} in turn.
     */
    public record Part(int trainer, JobState.DataPosition from, List<Filter> filters) {
        public Part {
            if (trainer < 0) throw new IllegalArgumentException("trainer " + trainer);
            filters = List.copyOf(filters);
        }

        /** This part as taken by survivor {@code pick} of {@code of}. */
        public Part take(int of, int pick) {
            List<Filter> f = new ArrayList<>(filters);
            f.add(new Filter(of, pick));
            return new Part(trainer, from, f);
        }
    }

    /**
     * Survivor {@code pick} of {@code of}'s batches: each part, filtered by (of, pick), one after the other (per worker).
     *
     * @param trainers the job's trainers (the shares' count)
     */
    public static BatchSupply supply(DataSource train, TrainerConfig c, int trainers, List<Part> parts, int of, int pick) {
        List<BatchSupply> supplies = new ArrayList<>(parts.size());
        for (Part p : parts) supplies.add(supply(train, c, trainers, p.take(of, pick)));
        return new Chained(supplies, c.workers());
    }

    /** One part's batches. */
    static BatchSupply supply(DataSource train, TrainerConfig c, int trainers, Part p) {
        if (p.trainer() >= trainers) throw new IllegalArgumentException("trainer " + p.trainer() + " is not one of the job's " + trainers);
        BatchSupply s = BatchSupply.ofTrainer(train, c, p.trainer(), trainers);
        if (p.from() != null) s.restore(p.from());
        for (Filter f : p.filters()) s = new EveryNthBatch(s, f, c.workers());
        return s;
    }

    /** A supply made for a takeover: it keeps no position (elastic jobs take no checkpoints). */
    abstract static class Unpositioned implements BatchSupply {
        @Override
        public JobState.DataPosition position() {
            throw new UnsupportedOperationException("a takeover keeps no position (elastic jobs take no checkpoints)");
        }

        @Override
        public void restore(JobState.DataPosition position) {
            throw new UnsupportedOperationException("a takeover keeps no position (elastic jobs take no checkpoints)");
        }
    }

    /** Per worker, the batches k of the inner supply with {@code k mod of == pick}; the others are skipped. */
    static final class EveryNthBatch extends Unpositioned {
        private final BatchSupply inner;
        private final int of, pick;
        /** Per worker: batches of the inner supply seen (touched by that worker only). */
        private final long[] seen;

        EveryNthBatch(BatchSupply inner, Filter f, int workers) {
            this.inner = inner;
            this.of = f.of();
            this.pick = f.pick();
            this.seen = new long[workers];
        }

        @Override
        public Batch take(int worker) throws InterruptedException {
            // the others' batches are skipped, not taken: taking them could overwrite the batch the worker holds
            while (seen[worker] % of != pick) {
                if (!inner.skip(worker)) return END;
                seen[worker]++;
            }
            Batch b = inner.take(worker);
            if (b != END) seen[worker]++;
            return b;
        }

        @Override
        public boolean skip(int worker) throws InterruptedException {
            while (seen[worker] % of != pick) {
                if (!inner.skip(worker)) return false;
                seen[worker]++;
            }
            if (!inner.skip(worker)) return false;
            seen[worker]++;
            return true;
        }

        @Override
        public void recycle(int worker, Batch b) {
            inner.recycle(worker, b);
        }

        @Override
        public void stop() {
            inner.stop();
        }

        @Override
        public Throwable failure() {
            return inner.failure();
        }

        @Override
        public long skippedLines() {
            return inner.skippedLines();
        }

        @Override
        public int epochsStarted() {
            return inner.epochsStarted();
        }

        @Override
        public Runnable readerTask() {
            return inner.readerTask();
        }
    }

    /** Several supplies one after the other, per worker; their readers run one after the other on one thread. */
    static final class Chained extends Unpositioned {
        private final List<BatchSupply> parts;
        /** Per worker: the part it takes from (touched by that worker only). */
        private final int[] current;

        Chained(List<BatchSupply> parts, int workers) {
            this.parts = List.copyOf(parts);
            this.current = new int[workers];
        }

        @Override
        public Batch take(int worker) throws InterruptedException {
            while (current[worker] < parts.size()) {
                Batch b = parts.get(current[worker]).take(worker);
                if (b != END) return b;
                current[worker]++;
            }
            return END;
        }

        @Override
        public void recycle(int worker, Batch b) {
            if (b != END && current[worker] < parts.size()) parts.get(current[worker]).recycle(worker, b);
        }

        @Override
        public void stop() {
            for (BatchSupply p : parts) p.stop();
        }

        @Override
        public Throwable failure() {
            for (BatchSupply p : parts) if (p.failure() != null) return p.failure();
            return null;
        }

        @Override
        public long skippedLines() {
            long s = 0;
            for (BatchSupply p : parts) s += p.skippedLines();
            return s;
        }

        @Override
        public int epochsStarted() {
            int e = 0;
            for (BatchSupply p : parts) e = Math.max(e, p.epochsStarted());
            return e;
        }

        @Override
        public Runnable readerTask() {
            List<Runnable> readers = new ArrayList<>();
            for (BatchSupply p : parts) if (p.readerTask() != null) readers.add(p.readerTask());
            if (readers.isEmpty()) return null;
            return () -> {
                for (Runnable r : readers) r.run(); // a reader returns once its part is dealt out (or stopped)
            };
        }
    }
}
