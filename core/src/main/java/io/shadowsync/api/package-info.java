/**
 * The library's entry points for Java users: configure and run a job, save, load and use the model it trains.
 * {@link TrainingJob#builder()} collects a job's settings (only the training data is required; the defaults are those
 * of {@code shadowsync train}) and {@link TrainingJob#run()} trains every trainer in this JVM, returning a
 * {@link TrainingResult} with the {@link TrainedModel}. A {@link TrainedModel} saves and loads the model files the
 * command line writes and reads, and predicts for a batch, a list of {@link Example}s or one example. Its
 * {@link Provenance} is a typed record of how it was trained, stored in the model file's provenance map.
 *
 * <p>Contracts: a built job is immutable and may run several times (each run trains from the seeded start); a
 * {@link TrainedModel} may predict from any number of threads at once; bad settings are refused by
 * {@link TrainingJob.Builder#build()} with an {@link IllegalArgumentException} naming the setting. This package builds
 * on {@code engine}, {@code ckpt}, {@code data} and {@code model}; nothing below it depends on it. Start with
 * {@link TrainingJob}, then {@link TrainedModel}.
 */
package io.shadowsync.api;
