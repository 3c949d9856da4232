/**
 * The processes of a multi-process job as library classes: {@link io.shadowsync.net.run.TrainerProcess} (one trainer:
 * bind, placement, collectives, resume, training, elastic takeover, checkpoints and stops, gathering the results; on
 * the leader the summary, evaluation, saving and stopping the servers) and {@link io.shadowsync.net.run.ServerProcess}
 * (one parameter-server shard), both configured from an {@link io.shadowsync.api.TrainingJob} plus small settings
 * records ({@link io.shadowsync.net.run.JobOptions} — alike in every process —, {@link io.shadowsync.net.run.NetSettings},
 * {@link io.shadowsync.net.run.CheckpointOptions}). The CLI's {@code trainer}, {@code ps} and {@code launch} commands
 * are adapters over them: flags to settings, run, print, exit code.
 *
 * <p>Design. A process binds first (port 0 allowed) and only then learns every process's address, from a
 * {@link io.shadowsync.net.run.Placement}: fixed lists, the job's coordinator (optionally run in trainer 0's process),
 * the running job (a trainer joining elastic trainers), or — outside this module — one Spark {@code allGather}, which
 * lets a barrier task run server shard i and trainer i in one JVM: both bind, one gather answers both. Every process
 * checks that the others run the same job through {@link io.shadowsync.net.run.JobTerms#digest}. The leader's summary
 * is built by {@link io.shadowsync.net.run.JobSummary} from every trainer's result, gathered exactly over the control
 * group, so it equals the embedded job's. {@link io.shadowsync.net.run.Launcher} starts a job's processes as OS
 * processes ({@code launch --local}).
 *
 * <p>Contracts: nothing here is process-global unless asked: a JVM shutdown hook for SIGTERM and {@link System#exit}
 * after a stop asked by another trainer are options the CLI turns on; a test or a Spark task gets neither, and a stop
 * ends {@code run} with a status instead. Exit codes are the CLI's. What a process reports goes to a listener or event
 * sink its caller supplies, by default to {@link System.Logger} (INFO: the lines the CLI prints; WARNING: warnings;
 * DEBUG: detail).
 */
package io.shadowsync.net.run;
