/**
 * Files that must survive a crash: saved models and checkpoints. {@link ModelFile} is the saved-model format (model
 * spec, provenance, dense parameters and embedding tables, behind a magic and a CRC32C). A {@link CheckpointDir} holds
 * {@code ckpt-<seq>/} directories, each with one file per trainer, per embedding shard and for the dense server or each
 * of its blocks (formats in {@link StateFiles}), and a {@link Manifest} written last that lists every file's size and
 * CRC32C. {@link Checkpointer} takes the checkpoints of a job run in one process, periodically or on demand, by pausing
 * it ({@link io.shadowsync.engine.Job#pause}); {@link MultiProcessCheckpointer} takes them together across the trainer
 * processes of a job over their control collective, while the parameter servers write their shards
 * ({@link MultiProcessCheckpointer.Servers}, implemented in the {@code net} module). Checkpoints are read and written
 * through a {@link CheckpointStore}: {@link LocalCheckpointStore} (a local directory, where {@link AtomicFiles}
 * writes the manifest: temporary file, fsync, rename, fsync of the directory), or another module's (the {@code spark}
 * module's over Hadoop's file systems, which commits by writing the manifest last where rename is not atomic). {@code BinaryOut} and {@code BinaryIn} write and read
 * the little-endian numbers, strings and float arrays of both the model file and the checkpoint files.
 *
 * <p>Contracts: a reader sees the old file or the complete new one, never a half-written one; a checkpoint without a
 * valid manifest is incomplete, and {@link CheckpointDir#newest} skips a damaged newer one, naming it and why. Files
 * whose size, checksum, magic or version do not match are refused with {@link ModelFileException}, and nothing is built
 * from them. Writers read the job's live arrays while the job is paused, so a checkpoint does not double the memory.
 * One writer per checkpoint directory: the checkpointers take their checkpoints one at a time, and
 * {@link CheckpointDir#lock} keeps a second job out. This package builds on {@code engine} (the job and its state),
 * {@code comm} and {@code nn}. Start with {@link AtomicFiles} and {@link ModelFile}, then {@link CheckpointDir} and
 * {@link Checkpointer}.
 */
package io.shadowsync.ckpt;
