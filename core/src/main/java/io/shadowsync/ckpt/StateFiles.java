package io.shadowsync.ckpt;

import io.shadowsync.engine.JobState;
import java.io.IOException;

/**
 * The binary files of a checkpoint, one per part of the state, each little-endian behind an 8-byte magic (the
 * manifest carries the format version, sizes and checksums):
 * <pre>
 * trainer-R.bin   "SSCKTRNR" u32 rank, floats params, arrays optimizer, u64 adam steps, arrays sync, position, totals
 * emb-shard-S.bin "SSCKEMBS" u32 shard, u32 tables, tables × (floats values, u8 has state, [floats row state])
 * dense-server.bin "SSCKDSRV" floats values, u32 shards, shards × (arrays optimizer, u64 adam steps)
 * dense-block-S.bin the same, of one parameter-server process's block of the dense vector (u32 shards is 1)
 * position: u8 1 (stream): u32 epoch, u64 index, u64 read, u64 skipped, longs assigned, ints strata, longs consumed
 *           u8 2 (in memory): longs delivered
 * totals:   longs worker examples, u64 trained, f64 loss, f64 labels, u64 non-finite, u64 busy, u64 wait,
 *           u64 sync wait (ns), f64 seconds, u64 rounds, f64 sync ms, u64 sync bytes, u64 window examples,
 *           f64 window loss, f64 window labels; then u8 pending foreground round
 * floats = u64 n, f32[n]; arrays = u32 count, count × floats; longs = u32 n, i64[n]; ints = u32 n, i32[n]
 * </pre>
 * Each is written into and read from a {@link CheckpointStore} by its name there ({@code ckpt-3/trainer-0.bin}).
 * Public for the processes of a multi-process job, each of which writes its own files of a checkpoint
 * ({@link MultiProcessCheckpointer} and the parameter servers' checkpoint service); a file's reader checks its magic
 * and its end, not its checksum: verify the file against the manifest first ({@link Manifest#verify}).
 */
public final class StateFiles {
    private static final String TRAINER = "SSCKTRNR", SHARD = "SSCKEMBS", SERVER = "SSCKDSRV";
    private static final int STREAM = 1, IN_MEMORY = 2;

    private StateFiles() {}

    public static String trainerFile(int rank) {
        return "trainer-" + rank + ".bin";
    }

    public static String shardFile(int shard) {
        return "emb-shard-" + shard + ".bin";
    }

    static final String SERVER_FILE = "dense-server.bin";

    /** Parameter-server process s's block of the dense server, in a multi-process job's checkpoint. */
    public static String denseBlockFile(int shard) {
        return "dense-block-" + shard + ".bin";
    }

    public static Manifest.Entry writeTrainer(CheckpointStore store, String file, JobState.TrainerState t) throws IOException {
        try (StateOut out = new StateOut(store, file)) {
            out.magic(TRAINER);
            out.u32(t.rank());
            out.floats(t.params());
            out.floatArrays(t.optimizer());
            out.u64(t.optimizerSteps());
            out.floatArrays(t.sync());
            // if/else, not a pattern switch: core compiles for Java 17 (Spark executors)
            if (t.position() instanceof JobState.StreamPosition p) {
                out.u8(STREAM);
                out.u32(p.epoch());
                out.u64(p.index());
                out.u64(p.read());
                out.u64(p.skippedLines());
                out.longs(p.assigned());
                out.ints(p.strata());
                out.longs(p.consumed());
            } else {
                JobState.ShardPosition p = (JobState.ShardPosition) t.position();
                out.u8(IN_MEMORY);
                out.longs(p.delivered());
            }
            JobState.Totals s = t.totals();
            out.longs(s.workerExamples());
            out.u64(s.trained());
            out.f64(s.lossSum());
            out.f64(s.labelSum());
            out.u64(s.nonFinite());
            out.u64(s.busyNanos());
            out.u64(s.waitNanos());
            out.u64(s.syncWaitNanos());
            out.f64(s.seconds());
            out.u64(s.syncRounds());
            out.f64(s.syncMillis());
            out.u64(s.syncBytes());
            out.u64(s.windowExamples());
            out.f64(s.windowLoss());
            out.f64(s.windowLabels());
            out.u8(t.pendingRound() ? 1 : 0);
            return out.finish();
        }
    }

    public static JobState.TrainerState readTrainer(CheckpointStore store, String file) throws IOException {
        try (StateIn in = new StateIn(store, file)) {
            in.expectMagic(TRAINER);
            int rank = in.u32();
            float[] params = in.floats();
            float[][] opt = in.floatArrays();
            long steps = in.u64();
            float[][] sync = in.floatArrays();
            int kind = in.u8();
            JobState.DataPosition pos = switch (kind) {
                case STREAM -> new JobState.StreamPosition(in.u32(), in.u64(), in.u64(), in.u64(), in.longs(), in.ints(), in.longs());
                case IN_MEMORY -> new JobState.ShardPosition(in.longs());
                default -> throw new ModelFileException(store.where(file), "has an unknown data position kind " + kind);
            };
            JobState.Totals totals = new JobState.Totals(in.longs(), in.u64(), in.f64(), in.f64(), in.u64(), in.u64(), in.u64(),
                    in.u64(), in.f64(), in.u64(), in.f64(), in.u64(), in.u64(), in.f64(), in.f64());
            int pending = in.u8();
            if (pending > 1) throw new ModelFileException(store.where(file), "has a bad pending-round flag " + pending);
            in.expectEnd();
            return new JobState.TrainerState(rank, params, opt, steps, sync, pos, totals, pending == 1);
        }
    }

    public static Manifest.Entry writeShard(CheckpointStore store, String file, JobState.ShardState s) throws IOException {
        try (StateOut out = new StateOut(store, file)) {
            out.magic(SHARD);
            out.u32(s.shard());
            out.u32(s.tables().length);
            for (int t = 0; t < s.tables().length; t++) {
                out.floats(s.tables()[t]);
                float[] state = s.rowState()[t];
                out.u8(state == null ? 0 : 1);
                if (state != null) out.floats(state);
            }
            return out.finish();
        }
    }

    public static JobState.ShardState readShard(CheckpointStore store, String file) throws IOException {
        try (StateIn in = new StateIn(store, file)) {
            in.expectMagic(SHARD);
            int shard = in.u32();
            int n = in.u32();
            if (n < 0 || n > 1 << 16) throw new ModelFileException(store.where(file), "has an impossible table count " + n);
            float[][] tables = new float[n][], state = new float[n][];
            for (int t = 0; t < n; t++) {
                tables[t] = in.floats();
                int has = in.u8();
                if (has > 1) throw new ModelFileException(store.where(file), "table " + t + ": bad row-state flag " + has);
                state[t] = has == 1 ? in.floats() : null;
            }
            in.expectEnd();
            return new JobState.ShardState(shard, tables, state);
        }
    }

    public static Manifest.Entry writeServer(CheckpointStore store, String file, JobState.ServerState s) throws IOException {
        try (StateOut out = new StateOut(store, file)) {
            out.magic(SERVER);
            out.floats(s.values());
            out.u32(s.optimizer().length);
            for (int i = 0; i < s.optimizer().length; i++) {
                out.floatArrays(s.optimizer()[i]);
                out.u64(s.optimizerSteps()[i]);
            }
            return out.finish();
        }
    }

    public static JobState.ServerState readServer(CheckpointStore store, String file) throws IOException {
        try (StateIn in = new StateIn(store, file)) {
            in.expectMagic(SERVER);
            float[] values = in.floats();
            int n = in.u32();
            if (n < 0 || n > values.length) throw new ModelFileException(store.where(file), "has an impossible shard count " + n);
            float[][][] opt = new float[n][][];
            long[] steps = new long[n];
            for (int i = 0; i < n; i++) {
                opt[i] = in.floatArrays();
                steps[i] = in.u64();
            }
            in.expectEnd();
            return new JobState.ServerState(values, opt, steps);
        }
    }
}
