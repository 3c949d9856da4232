package io.shadowsync.net.ps;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.shadowsync.ckpt.AtomicFiles;
import io.shadowsync.ckpt.Checkpointer;
import io.shadowsync.ckpt.Manifest;
import io.shadowsync.ckpt.ModelFileException;
import io.shadowsync.ckpt.StateFiles;
import io.shadowsync.engine.JobState;
import io.shadowsync.net.proto.CheckpointFile;
import io.shadowsync.net.proto.CheckpointFiles;
import io.shadowsync.net.proto.CheckpointRequest;
import io.shadowsync.net.proto.PsCheckpointGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
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
    private volatile Path allowed;

    ShardCheckpoints(EmbeddingSlices slices, DenseBlock dense, int shard, ServerCounters counters) {
        this.slices = slices;
        this.dense = dense;
        this.shard = shard;
        this.counters = counters;
    }

    /** The checkpoint directory this node writes into and restores from (the job's --checkpoint-dir). */
    public void allow(Path checkpointDir) {
        if (checkpointDir == null) throw new IllegalArgumentException("a checkpoint directory is required");
        allowed = checkpointDir.toAbsolutePath().normalize();
    }

    @Override
    public void checkpoint(CheckpointRequest request, StreamObserver<CheckpointFiles> out) {
        counters.calls.increment();
        Path ck;
        try {
            ck = checkpointPath(request);
        } catch (BadRequest e) {
            out.onError(e.status.asRuntimeException());
            return;
        }
        synchronized (this) {
            try {
                if (!Files.isDirectory(ck)) {
                    out.onError(Status.INVALID_ARGUMENT.withDescription(ck + " does not exist: trainer 0 creates a checkpoint's directory before it calls the servers")
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
                written.add(AtomicFiles.createCleanedOnSignal(ck.resolve(StateFiles.shardFile(shard)), f -> StateFiles.writeShard(f, slice)));
                if (dense.length() > 0) {
                    JobState.ServerState block = dense.checkpointState();
                    written.add(AtomicFiles.createCleanedOnSignal(ck.resolve(StateFiles.denseBlockFile(shard)), f -> StateFiles.writeServer(f, block)));
                }
                out.onNext(files(written));
                out.onCompleted();
            } catch (IOException | RuntimeException e) {
                out.onError(Status.INTERNAL.withDescription("shard " + shard + " could not write its part of " + ck + ": " + Checkpointer.reason(e))
                        .asRuntimeException());
            }
        }
    }

    @Override
    public void restore(CheckpointRequest request, StreamObserver<CheckpointFiles> out) {
        counters.calls.increment();
        Path ck;
        try {
            ck = checkpointPath(request);
        } catch (BadRequest e) {
            out.onError(e.status.asRuntimeException());
            return;
        }
        synchronized (this) {
            try {
                Manifest m = Manifest.read(ck);
                if (m.seq() != request.getSeq()) throw new ModelFileException(ck.resolve(Manifest.NAME), "is the manifest of checkpoint " + m.seq());
                List<Manifest.Entry> loaded = new ArrayList<>(2);
                Manifest.Entry e = m.entry(StateFiles.shardFile(shard));
                if (e == null) throw new ModelFileException(ck.resolve(Manifest.NAME), "lists no " + StateFiles.shardFile(shard) + " (written with fewer servers?)");
                Manifest.verify(ck, e);
                JobState.ShardState s = StateFiles.readShard(ck.resolve(e.name()));
                loaded.add(e);
                Manifest.Entry d = null;
                if (dense.length() > 0) {
                    d = m.entry(StateFiles.denseBlockFile(shard));
                    if (d == null) throw new ModelFileException(ck.resolve(Manifest.NAME), "lists no " + StateFiles.denseBlockFile(shard));
                    Manifest.verify(ck, d);
                    loaded.add(d);
                }
                JobState.ServerState block = d == null ? null : StateFiles.readServer(ck.resolve(d.name()));
                load(s, block);
                out.onNext(files(loaded));
                out.onCompleted();
            } catch (ModelFileException e) {
                out.onError(Status.DATA_LOSS.withDescription("shard " + shard + ": " + e.getMessage()).asRuntimeException());
            } catch (IllegalArgumentException e) {
                out.onError(Status.FAILED_PRECONDITION.withDescription("shard " + shard + " cannot load " + ck + ": " + e.getMessage()).asRuntimeException());
            } catch (IOException | RuntimeException e) {
                out.onError(Status.INTERNAL.withDescription("shard " + shard + " could not read " + ck + ": " + e.getMessage()).asRuntimeException());
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

    /** {@code dir/ckpt-<seq>} when dir is the allowed directory and seq a sequence number; else the refusal. */
    private Path checkpointPath(CheckpointRequest r) throws BadRequest {
        Path root = allowed;
        if (root == null) {
            throw new BadRequest(Status.FAILED_PRECONDITION.withDescription("shard " + shard + " was started without --checkpoint-dir: it takes no checkpoints"));
        }
        Path dir;
        try {
            dir = Path.of(r.getDir());
        } catch (InvalidPathException e) {
            throw new BadRequest(Status.INVALID_ARGUMENT.withDescription("'" + r.getDir() + "' is not a path: " + e.getMessage()));
        }
        if (r.getDir().isEmpty() || !dir.isAbsolute() || !dir.normalize().equals(root)) {
            throw new BadRequest(Status.INVALID_ARGUMENT.withDescription("shard " + shard + " takes checkpoints in " + root + " only (its --checkpoint-dir), not in '"
                    + r.getDir() + "': give every process of the job the same absolute --checkpoint-dir"));
        }
        long seq = r.getSeq();
        if (seq < 1 || seq > 999_999_999_999_999_999L) {
            throw new BadRequest(Status.INVALID_ARGUMENT.withDescription("checkpoint sequence number " + Long.toUnsignedString(seq) + " is not in 1..10^18-1"));
        }
        return root.resolve("ckpt-" + seq);
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
