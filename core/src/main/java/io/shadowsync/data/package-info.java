/**
 * Where examples come from. A {@link DataSource} can be read from the start any number of times (once per epoch); each
 * pass is an {@link ExampleReader} that parses examples straight into a reused {@link Batch}, a struct of arrays
 * (labels, dense features, raw categorical ids, sparse features in CSR form) shaped by the source's {@link DataSchema}.
 * The formats: {@link CriteoTsvSource} (label, 13 counts, 26 hex ids), {@link LibSvmSource}, {@link CsvSource} (dense,
 * with a header) and {@link IdxSource} (the MNIST family), plain or gzip; the text readers parse bytes in place, with
 * no String per field. {@link TextFiles} reads a file, a directory or a glob of text files as one data set and cuts it
 * into input splits ({@link SplittableSource}: each part parses only its own bytes; {@link TextFileSource#range}).
 * {@link InMemorySource} parses a source once and replays it from primitive arrays; {@link CachedSource} fills that
 * form during a source's first whole pass and replays it afterwards.
 * {@link SyntheticCtr} writes seeded Criteo-format data whose labels come from a hidden teacher model, so a trained
 * model's logloss can be set against the teacher's own, the best possible; {@link ClassInference} works out the number
 * of classes when the user did not give it. {@link ForwardingReader} is the base of readers that wrap another (to
 * watch, pace or filter its examples), {@link ForwardingSource} of sources that wrap another.
 *
 * <p>Bad input is never passed over silently: it throws {@link DataException} as {@code file:line: reason}, or, when
 * the reader was opened to skip bad lines, is skipped and counted ({@link ExampleReader#skippedLines()}). Sharing: a
 * reader and a batch belong to one thread at a time; the engine hands batches between threads only through blocking
 * queues. This package depends on no other package of shadowsync. Start with {@link DataSource} and {@link Batch}, then
 * {@link CriteoTsvSource}.
 */
package io.shadowsync.data;
