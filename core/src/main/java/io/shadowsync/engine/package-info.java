/**
 * The training runtime: trainers, their threads, and the job around them. A {@link Job} runs N trainers (all of them in
 * this JVM, or the one a process of a multi-process job hosts) around a {@link Cluster}, which says where the shared
 * state lives: the embedding tables, the dense server and the collective groups. {@link InProcessCluster} is the
 * embedded default; the {@code net} module implements the cluster over gRPC. Each {@link Trainer} has a reader thread
 * or none (its batches come from a supply of {@link io.shadowsync.engine.feed}), W Hogwild worker threads
 * ({@code Worker}) on its local replica, and in shadow mode one sync thread ({@code SyncLoop}) that runs rounds of the
 * sync algorithm in the background; threads are named {@code trainer-R/reader}, {@code trainer-R/worker-i},
 * {@code trainer-R/sync}. What a worker does with its gradient is a step rule of {@link io.shadowsync.engine.step};
 * the two that take part in the job's synchronization live here: {@code ForegroundStep} (workers stop at a phaser
 * for a round) and {@code SyncSgdStep} (an allreduce every step). Settings come in as {@link JobConfig} and
 * {@link TrainerConfig}, results go out as {@link JobResult} and {@link TrainResult}; {@link Evaluator} and
 * {@link Inference} run a model over a whole data set. For checkpoints, {@link Job#pause} brings every thread to rest
 * between steps and rounds ({@code PauseGate}, with its pause points {@code GatedSupply} and
 * {@code GatedAlgorithm}), the pause hands out a {@link JobState}, and {@link Job#restore} puts one back before a job
 * runs; an elastic trainer's {@code ProgressMark} says where a trainer taking over its share starts.
 *
 * <p>Threading: workers update the replica and the embedding rows without locks (Hogwild, intended), and the sync
 * thread never holds a lock a worker waits on. Counters ({@link WorkerStats}, {@link SyncStats}) have one writer and
 * are read through {@code volatile} by progress reporters and by {@link MetricsLog}, which turns them (and evaluations
 * of a copy of trainer 0's replica) into the records of the metrics log for {@link io.shadowsync.metrics.MetricsSink}s. The first failure anywhere releases every blocking point of
 * the job ({@code FailureSignal}). A step whose loss or gradients are not finite is dropped before it touches anything
 * shared: embedding pushes are held per step ({@code DeferredPushes}) and committed only when everything is finite.
 * This package builds on every other package of {@code core} except {@code ckpt}, which builds on it; its
 * sub-packages {@code feed} and {@code step} know only its public records ({@link TrainerConfig}, {@link JobState},
 * {@link SlowTrainer}). Start with {@link Job}, then {@link Trainer} and {@code Worker}.
 */
package io.shadowsync.engine;
