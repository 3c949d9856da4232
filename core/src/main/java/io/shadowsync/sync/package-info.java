/**
 * The synchronization algorithms and their registry. {@link SyncAlgorithms} is the only place that knows the
 * {@code --sync} names: for each, an {@link AlgorithmDescriptor} says where it runs ({@link SyncSpec.Mode}: shadow
 * loop, foreground every K steps, synchronous SGD, asynchronous SGD, none), what it needs from the cluster (trainer
 * collective, dense server, worker collective), whether trainers may join, the settings a resumed checkpoint must
 * match, and builds a trainer's rounds from a {@link SyncContext}. A round algorithm is defined once, by a
 * {@link RoundAlgorithm}, and registered under both its shadow ({@code s-NAME}) and foreground ({@code fr-NAME})
 * names; its checkpoint state is {@link SyncAlgorithm#state()} (optimizers likewise expose theirs, with no
 * {@code instanceof} in the checkpoint code). To add one: implement {@link SyncAlgorithm} and {@link RoundAlgorithm},
 * then call {@link SyncAlgorithms#register} or list the {@link RoundAlgorithm} in
 * {@code META-INF/services/io.shadowsync.sync.RoundAlgorithm}; the job, checkpoint and termination test suites
 * iterate {@link SyncAlgorithms#all()}.
 *
 * <p>{@link SyncAlgorithm} is one round of synchronization of one trainer's dense replica,
 * implemented by {@link ModelAveraging} (MA), {@link BlockMomentum} (BMUF, optionally with Nesterov look-ahead) and
 * {@link ElasticAveraging} (EASGD, against a center on a {@link io.shadowsync.comm.DenseParameterServer}).
 * {@link SyncSpec} is what the user chose: the algorithm's name, whether it runs in the shadow ({@code s-*}) or in the
 * foreground ({@code fr-*}), or instead synchronous SGD, asynchronous parameter-server SGD or no synchronization at
 * all, and its settings. Synchronous and asynchronous SGD are not rounds of a sync algorithm but step rules of the
 * engine.
 *
 * <p>Contracts: a round snapshots {@code s = w}, computes a target {@code t} with the other trainers, and writes back
 * the change, {@code w += t − s}, so the workers' Hogwild progress during the round is kept; that write-back races with
 * the workers on purpose and never takes a lock a worker waits on. One instance per trainer, used by one thread at a
 * time: the sync thread in the shadow, the worker that runs the round in the foreground. Collective algorithms return
 * how many trainers are still training, and a trainer keeps taking part until a round returns 0 (its last
 * synchronization); over an {@link io.shadowsync.comm.ElasticGroup} they divide by the round's own number of
 * contributors and hand their state to newcomers. EASGD needs no collective: it returns −1, and a trainer stops after
 * one round taken once its own workers are done. This package uses only {@code comm}; the engine builds the algorithms
 * from a spec and runs them. Start with {@link SyncAlgorithm}, then {@link ModelAveraging} and {@link BlockMomentum}.
 */
package io.shadowsync.sync;
