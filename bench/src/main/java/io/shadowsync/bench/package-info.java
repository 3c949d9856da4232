/**
 * Benchmarks; nothing depends on this package. JMH micro-benchmarks of the kernels: {@link GemmBench} (the three gemms
 * of a dense layer on each BLAS backend), {@link VecBench} (axpy and dot against their scalar twins) and
 * {@link EmbeddingBagBench} (gather and scatter-add of one mini-batch). End-to-end drivers, each with a {@code main}:
 * {@link SyncScenario} (every sync algorithm at 1 to 8 trainers under an emulated network: examples/s, wait fraction,
 * final eval logloss), {@link StragglerBench} (what one slow trainer does to the others, shadow against foreground),
 * {@link AllReduceBench} (ring-allreduce bandwidth between JVMs over loopback against plain TCP sockets) and
 * {@link PsBench} (rows per second that parameter-server shards pull and push).
 *
 * <p>All of them are packaged into {@code bench/target/benchmarks.jar}, whose main class is JMH's; the drivers are run
 * by class name with {@code java -cp}, and each one's class comment gives its command line, its flags and what it
 * prints (Markdown tables, JSON lines). They use {@code core} and {@code net}. Start with {@link SyncScenario}.
 */
package io.shadowsync.bench;
