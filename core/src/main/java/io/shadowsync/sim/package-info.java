/**
 * The scaling simulator: a discrete-event simulation of a training job on 1 to 256 (or more) trainers, driven by costs
 * measured on a real machine, to plan past the machines one has.
 *
 * <p>{@link EventQueue} is the engine (events in time order, ties in the order they were scheduled, nothing random
 * but what a seeded {@link java.util.SplittableRandom} draws). The resources a job queues on are a {@link FifoLink}
 * (a NIC or a parameter-server shard: one message at a time, latency pipelined, as {@link io.shadowsync.comm.EmulatedLink}
 * emulates one) and a {@link CpuPool} (a host's cores, shared by every thread that computes on it: processor sharing,
 * or time slices of a scheduler quantum, less what its processes burn of their own, charged once a process). Ring
 * allreduces run rank by rank, as {@code RingCollective}'s ranks do, not in global lockstep.
 * {@link Costs} holds what calibration measured; {@link SimJob} and {@link SimCluster} what is simulated;
 * {@link ScalingSimulation} runs one job on N trainers and gives a {@link SimResult}. {@link CostModels} holds the
 * closed forms the tests check the simulation against (the ring allreduce, M/D/1 and M/M/1 queues, the expected
 * slowest of N stragglers).
 *
 * <p>What each algorithm does is asked of its {@link io.shadowsync.sync.AlgorithmDescriptor} (background or
 * foreground, collective, pairwise, a center on the server, the worker group, the server's optimizer), never of its
 * name. Depends on {@code sync}, {@code comm} (codecs, link models) only.
 */
package io.shadowsync.sim;
