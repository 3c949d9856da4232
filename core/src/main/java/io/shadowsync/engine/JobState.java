package io.shadowsync.engine;

import io.shadowsync.engine.feed.BatchFeeder;
import io.shadowsync.engine.feed.ShardFeeder;
import java.util.List;

/**
 * Everything a checkpoint holds of a job run in this process: per trainer its dense replica, dense optimizer state,
 * synchronization state, data position and counters; every embedding shard with its row-optimizer state; and the
 * dense server (the EASGD center, or the parameters and optimizer state of asynchronous SGD).
 *
 * <p>Two directions. {@link Job.Paused#state()} hands out the job's <b>live arrays</b>, not copies (a checkpoint of
 * large tables must not double the memory): they hold still only while the job is paused, so a writer reads them
 * before it closes the pause. {@link Job#restore} copies a state read back from files into a job that has not run
 * yet.
 *
 * @param examples        examples trained so far, all trainers (the example budget consumed)
 * @param trainers        one entry per trainer, in rank order
 * @param embeddingShards one entry per embedding shard (one for a job whose trainers share a local table store)
 * @param server          the dense server, or null when the job's synchronization uses none
 */
public record JobState(long examples, List<TrainerState> trainers, List<ShardState> embeddingShards, ServerState server) {

    /**
     * One trainer.
     *
     * @param rank           the trainer's rank
     * @param params         its dense replica (asynchronous SGD: unused during training; the server holds the model)
     * @param optimizer      the dense optimizer's state arrays ({@code DenseOptimizer#state()}); empty when stateless
     *                       or when the optimizer runs on the server (asynchronous SGD)
     * @param optimizerSteps Adam's step count t; 0 for the others
     * @param sync           the synchronization state: BMUF's {global model, block momentum}; empty for the others
     * @param position       where its workers are in the data
     * @param totals         its counters (examples, loss sums, waits, sync rounds, the training window)
     * @param pendingRound   foreground: the trainer rested before a round its workers had reached; a resumed run
     *                       takes it before its workers go on
     */
    public record TrainerState(int rank, float[] params, float[][] optimizer, long optimizerSteps, float[][] sync,
                               DataPosition position, Totals totals, boolean pendingRound) {}

    /** Where a trainer's workers are in its data: what they have trained on, so that a resumed run skips it. */
    public sealed interface DataPosition permits StreamPosition, ShardPosition {
        /** Examples handed to (and trained by) the workers, all of them. */
        long examples();

        /** Examples handed to each worker. */
        long[] perWorker();
    }

    /**
     * A streamed source ({@link BatchFeeder}): the reader restarts epoch {@code epoch} with the split state it had at
     * that epoch's start, re-reads it and drops, per worker w, the first {@code consumed[w] − assigned[w]} examples
     * dealt to w (they were trained before the checkpoint).
     *
     * @param epoch        the epoch to restart, from 0
     * @param index        the split's example counter at the start of that epoch (round-robin)
     * @param read         examples read (the budget) at the start of that epoch
     * @param skippedLines malformed lines skipped before that epoch
     * @param assigned     per worker, examples dealt to it before that epoch
     * @param strata       the stratified split's next worker per label at the start of that epoch
     * @param consumed     per worker, examples it has taken, all epochs
     */
    public record StreamPosition(int epoch, long index, long read, long skippedLines, long[] assigned, int[] strata,
                                 long[] consumed) implements DataPosition {
        @Override
        public long examples() {
            long s = 0;
            for (long c : consumed) s += c;
            return s;
        }

        @Override
        public long[] perWorker() {
            return consumed.clone();
        }
    }

    /** In-memory data ({@link ShardFeeder}): per worker, the examples delivered from its shard, all epochs. */
    public record ShardPosition(long[] delivered) implements DataPosition {
        @Override
        public long examples() {
            long s = 0;
            for (long d : delivered) s += d;
            return s;
        }

        @Override
        public long[] perWorker() {
            return delivered.clone();
        }
    }

    /**
     * A trainer's counters, so that a resumed run reports the whole run (examples, mean loss, rates) and not only its
     * own part.
     *
     * @param workerExamples examples per worker
     * @param trained        examples whose step was applied (non-finite batches excluded)
     * @param lossSum        summed training loss of the trained examples
     * @param labelSum       summed labels
     * @param nonFinite      batches skipped as non-finite
     * @param busyNanos      worker compute time, summed over workers
     * @param waitNanos      worker time waiting for data
     * @param syncWaitNanos  worker time waiting on synchronization
     * @param seconds        training wall time so far
     * @param syncRounds     sync rounds
     * @param syncMillis     summed duration of the sync rounds
     * @param syncBytes      bytes sent for synchronization
     * @param windowExamples examples in the training-metrics window
     * @param windowLoss     summed loss over the window
     * @param windowLabels   summed labels over the window
     */
    public record Totals(long[] workerExamples, long trained, double lossSum, double labelSum, long nonFinite,
                         long busyNanos, long waitNanos, long syncWaitNanos, double seconds, long syncRounds,
                         double syncMillis, long syncBytes, long windowExamples, double windowLoss, double windowLabels) {
        /** Nothing yet: a fresh trainer of {@code workers} workers. */
        public static Totals zero(int workers) {
            return new Totals(new long[workers], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }

        public long examples() {
            long s = 0;
            for (long e : workerExamples) s += e;
            return s;
        }
    }

    /**
     * One embedding shard: its slice of every table (shard s of S holds rows r with r mod S = s, at local row r / S)
     * and the row optimizer's state of each slice.
     *
     * @param shard    s
     * @param tables   per table, the slice's values [localRows × dim]
     * @param rowState per table, the per-row state (row-wise Adagrad's accumulators), or null when stateless
     */
    public record ShardState(int shard, float[][] tables, float[][] rowState) {}

    /**
     * The dense server.
     *
     * @param values         its parameters (the EASGD center, or asynchronous SGD's model)
     * @param optimizer      per server shard, its optimizer's state arrays (asynchronous SGD); empty for a center
     * @param optimizerSteps per server shard, Adam's step count (0 for the others)
     */
    public record ServerState(float[] values, float[][][] optimizer, long[] optimizerSteps) {}
}
