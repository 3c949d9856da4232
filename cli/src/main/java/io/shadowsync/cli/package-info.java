/**
 * The {@code shadowsync} command, on picocli. {@link Main} is the entry point and sets the exit codes: 0 success, 1 a
 * failure inside training, 2 bad input (flags, job file, data, model file), with one sentence on stderr. One class per
 * subcommand: {@link TrainCommand} ({@code train}, the whole job in this JVM), {@link LaunchCommand} ({@code launch},
 * the job as parameter-server and trainer processes on this host), {@link TrainerCommand} and {@link PsCommand}
 * ({@code trainer}, {@code ps}: one process of a multi-process job), {@link EvalCommand}, {@link PredictCommand},
 * {@link GenDataCommand} and {@link BenchCommand}; {@link TuneCommand} ({@code tune}: a hyperparameter search, trials of
the train job side by side, its space read by {@code SpaceFile}) and {@link CvCommand} ({@code cv}: k-fold
cross-validation), adapters over {@code io.shadowsync.tune}. The commands that run a job share their flags through
 * {@code JobCommand}, which turns them into what the engine needs, and read an optional YAML job file ({@code JobFile})
 * whose keys are the long option names, with flags overriding it.
 *
 * <p>Contracts: this package parses, checks, wires and reports; the training itself is the library's ({@code core} and
 * {@code net}). A bad flag or job-file value is refused before any work with a {@code UsageException}, one sentence
 * that names the flag or key, and {@code Outputs} checks every file a command will write (writable, not an input, not
 * named twice) before any work too. Model files carry their {@code Provenance}, which {@code eval} prints; a summary is
 * one JSON line, last on stdout. {@code ProgressReporter} runs on its own daemon thread and only reads the trainers'
 * lock-free counters. Start with {@link Main}, then {@link TrainCommand} and {@code JobCommand}.
 */
package io.shadowsync.cli;
