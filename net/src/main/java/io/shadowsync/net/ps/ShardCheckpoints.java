package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.CheckpointStore;
import io.shadowsync.ckpt.Checkpointer;
import io.shadowsync.ckpt.LocalCheckpointStore;
import io.shadowsync.ckpt.Manifest;
import io.shadowsync.ckpt.ModelFileException;
import io.shadowsync.ckpt.StateFiles;
import io.shadowsync.engine.JobState;
import io.shadowsync.net.proto.CheckpointFile;
import io.shadowsync.net.proto.CheckpointFiles;
import io.shadowsync.net.proto.CheckpointRequest;
import io.shadowsync.net.proto.PsCheckpointGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code PsCheckpoint} service of {@code ckpt.proto}: one node writes its part of a multi-process job's checkpoint
 * ({@code emb-shard-<s>.bin}: its slice of every table with the row optimizer's state; {@code dense-block-<s>.bin}:
 * its dense block with the dense optimizer's state, when the block is not empty) and loads it back before training.
 * It answers only for the directory it was given ({@link #allow}); other paths are refused, so that a caller holding
 * the job's token cannot make the server write or read elsewhere.
 *
 * <p>Sharing contract: a checkpoint reads the live slices without locks, so the caller guarantees that no push is in
 * flight (every trainer at rest); a restore writes them and runs before training. Calls are serialized here.
 */
public final class ShardCheckpoints extends PsCheckpointGrpc.PsCheckpointImplBase {
    private final EmbeddingSlices slices;
    private final DenseBlock dense;
    private final int shard;
    private final ServerCounters counters;
    private volatile CheckpointStore allowed;

    ShardCheckpoints(EmbeddingSlices slices, DenseBlock dense, int shard, ServerCounters counters) {
        this.slices = slices;
        this.dense = dense;
        this.shard = shard;
        this.counters = counters;
    }

    /** The checkpoint directory this node writes into and restores from (the job's --checkpoint-dir). */
    public void allow(Path checkpointDir) {
        allow(new LocalCheckpointStore(checkpointDir));
    }

    /** The checkpoint store this node writes into and restores from (the job's checkpoint directory). */
    public void allow(CheckpointStore checkpoints) {
        if (checkpoints == null) throw new IllegalArgumentException("a checkpoint directory is required");
        allowed = checkpoints;
    }

    @Override
    public void checkpoint(CheckpointRequest request, StreamObserver<CheckpointFiles> out) {
        counters.calls.increment();
        CheckpointStore store = allowed;
        String ck;
        try {
            ck = checkpointName(request);
        } catch (BadRequest e) {
            out.onError(e.status.asRuntimeException());
            return;
        }
        synchronized (this) {
            try {
                if (!store.isDirectory(ck)) {
                    out.onError(Status.INVALID_ARGUMENT.withDescription(store.where(ck) + " does not exist: trainer 0 creates a checkpoint's directory before it calls the servers")
                            .asRuntimeException());
                    return;
                }
                List<Manifest.Entry> written = new ArrayList<>(2);
                int n = slices.numTables();
                float[][] tables = new float[n][], state = new float[n][];
                for (int t = 0; t < n; t++) {
                    tables[t] = slices.slice(t);
                    state[t] = slices.rowState(t);
                }
                // a signal that stops this process mid-write deletes the unfinished file (the checkpoint then fails)
                JobState.ShardState slice = new JobState.ShardState(shard, tables, state);
                String shardFile = Manifest.inside(ck, StateFiles.shardFile(shard));
                written.add(store.createCleanedOnSignal(shardFile, () -> StateFiles.writeShard(store, shardFile, slice)));
                if (dense.length() > 0) {
                    JobState.ServerState block = dense.checkpointState();
                    String blockFile = Manifest.inside(ck, StateFiles.denseBlockFile(shard));
                    written.add(store.createCleanedOnSignal(blockFile, () -> StateFiles.writeServer(store, blockFile, block)));
                }
                out.onNext(files(written));
                out.onCompleted();
            } catch (IOException | RuntimeException e) {
                out.onError(Status.INTERNAL.withDescription("shard " + shard + " could not write its part of " + store.where(ck) + ": " + Checkpointer.reason(e))
                        .asRuntimeException());
            }
        }
    }

    @Override
    public void restore(CheckpointRequest request, StreamObserver<CheckpointFiles> out) {
        counters.calls.increment();
        CheckpointStore store = allowed;
        String ck;
        try {
            ck = checkpointName(request);
        } catch (BadRequest e) {
            out.onError(e.status.asRuntimeException());
            return;
        }
        String manifest = store.where(Manifest.inside(ck, Manifest.NAME));
        synchronized (this) {
            try {
                Manifest m = Manifest.read(store, ck);
                if (m.seq() != request.getSeq()) throw new ModelFileException(manifest, "is the manifest of checkpoint " + m.seq());
                List<Manifest.Entry> loaded = new ArrayList<>(2);
                Manifest.Entry e = m.entry(StateFiles.shardFile(shard));
                if (e == null) throw new ModelFileException(manifest, "lists no " + StateFiles.shardFile(shard) + " (written with fewer servers?)");
                Manifest.verify(store, ck, e);
                JobState.ShardState s = StateFiles.readShard(store, Manifest.inside(ck, e.name()));
                loaded.add(e);
                Manifest.Entry d = null;
                if (dense.length() > 0) {
                    d = m.entry(StateFiles.denseBlockFile(shard));
                    if (d == null) throw new ModelFileException(manifest, "lists no " + StateFiles.denseBlockFile(shard));
                    Manifest.verify(store, ck, d);
                    loaded.add(d);
                }
                JobState.ServerState block = d == null ? null : StateFiles.readServer(store, Manifest.inside(ck, d.name()));
                load(s, block);
                out.onNext(files(loaded));
                out.onCompleted();
            } catch (ModelFileException e) {
                out.onError(Status.DATA_LOSS.withDescription("shard " + shard + ": " + e.getMessage()).asRuntimeException());
            } catch (IllegalArgumentException e) {
                out.onError(Status.FAILED_PRECONDITION.withDescription("shard " + shard + " cannot load " + store.where(ck) + ": " + e.getMessage()).asRuntimeException());
            } catch (IOException | RuntimeException e) {
                out.onError(Status.INTERNAL.withDescription("shard " + shard + " could not read " + store.where(ck) + ": " + e.getMessage()).asRuntimeException());
            }
        }
    }

    /** Checks the whole state against this node's shapes before copying any of it. */
    private void load(JobState.ShardState s, JobState.ServerState block) {
        if (s.shard() != shard) throw new IllegalArgumentException("its shard file holds shard " + s.shard());
        int n = slices.numTables();
        if (s.tables().length != n) throw new IllegalArgumentException("its shard holds " + s.tables().length + " tables, this node " + n);
        for (int t = 0; t < n; t++) {
            if (s.tables()[t].length != slices.slice(t).length) {
                throw new IllegalArgumentException("table " + t + ": the checkpoint's slice holds " + s.tables()[t].length + " floats, this node's "
                        + slices.slice(t).length);
            }
            float[] live = slices.rowState(t), saved = s.rowState()[t];
            if ((live == null) != (saved == null) || (live != null && live.length != saved.length)) {
                throw new IllegalArgumentException("table " + t + ": the checkpoint's row-optimizer state does not fit this node's embedding optimizer");
            }
        }
        if (block != null) dense.restore(block); // checks before it copies
        for (int t = 0; t < n; t++) {
            System.arraycopy(s.tables()[t], 0, slices.slice(t), 0, s.tables()[t].length);
            float[] live = slices.rowState(t);
            if (live != null) System.arraycopy(s.rowState()[t], 0, live, 0, live.length);
        }
    }

    /** {@code ckpt-<seq>} when the request's directory is the allowed one and seq a sequence number; else the refusal. */
    private String checkpointName(CheckpointRequest r) throws BadRequest {
        CheckpointStore root = allowed;
        if (root == null) {
            throw new BadRequest(Status.FAILED_PRECONDITION.withDescription("shard " + shard + " was started without --checkpoint-dir: it takes no checkpoints"));
        }
        if (!root.isLocation(r.getDir())) {
            throw new BadRequest(Status.INVALID_ARGUMENT.withDescription("shard " + shard + " takes checkpoints in " + root.sharedLocation() + " only (its --checkpoint-dir), not in '"
                    + r.getDir() + "': give every process of the job the same absolute --checkpoint-dir"));
        }
        long seq = r.getSeq();
        if (seq < 1 || seq > 999_999_999_999_999_999L) {
            throw new BadRequest(Status.INVALID_ARGUMENT.withDescription("checkpoint sequence number " + Long.toUnsignedString(seq) + " is not in 1..10^18-1"));
        }
        return CheckpointDir.name(seq);
    }

    private static CheckpointFiles files(List<Manifest.Entry> entries) {
        CheckpointFiles.Builder b = CheckpointFiles.newBuilder();
        for (Manifest.Entry e : entries) b.addFiles(CheckpointFile.newBuilder().setName(e.name()).setSize(e.size()).setCrc32C(e.crc()));
        return b.build();
    }

    /** A refused request, before anything is touched. */
    private static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Status status;

        BadRequest(Status status) {
            super(status.getDescription(), null, false, false);
            this.status = status;
        }
    }
}
