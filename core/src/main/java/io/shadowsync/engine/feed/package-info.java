/**
 * Where a trainer's workers get their batches: a {@link BatchSupply}. {@link BatchFeeder} runs a reader thread that
 * streams and parses a source of any size and deals examples out to the workers ({@link DataSplit}); for in-memory
 * data {@link ShardFeeder} lets each worker copy its own shard, with no reader thread; data kept in memory after its first
 * pass ({@code CachedFeeder}) is streamed once and then read in shards. {@link BatchSupply#ofTrainer}
 * builds trainer k of N's share (a contiguous shard of in-memory data, every N-th example of a stream), and
 * {@link Takeover} shares the rest of a departed elastic trainer's share among the survivors.
 *
 * <p>Threading: worker w alone takes and recycles its own batches; batches move between the reader and the workers
 * only through blocking queues. A supply records where each worker is in the data (a
 * {@link io.shadowsync.engine.JobState.DataPosition}) so that a checkpoint or a takeover resumes there. This package
 * knows the engine's {@code TrainerConfig} and {@code JobState} records and nothing else of it.
 */
package io.shadowsync.engine.feed;
