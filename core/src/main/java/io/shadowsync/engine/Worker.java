package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.engine.feed.BatchSupply;
import io.shadowsync.engine.step.StepRule;
import io.shadowsync.kernels.Vec;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.Workspace;
import io.shadowsync.sync.NonFiniteException;

/**
 * One Hogwild worker of a trainer: takes batches from the trainer's {@link BatchSupply}, runs forward and
 * backward into its own {@link Workspace}, and hands the dense gradient to the trainer's {@link StepRule}, which
 * applies it to the trainer's replica.
 *
 * <p><b>Non-finite steps are skipped before they touch anything shared.</b> The model's embedding pushes are held
 * in a {@link DeferredPushes} buffer while it runs; then the loss, every held embedding-gradient row and the dense
 * gradient are checked, and only a step with all of them finite commits its pushes to the embedding store and
 * hands its gradient to the rule. Otherwise the pushes are dropped, the rule gets 0 examples (it applies nothing,
 * but still takes part in a collective step), the batch counts in {@link WorkerStats#nonFinite()} (reported as
 * the run's non-finite batches), and training goes on with the next batch — unless this worker has had
 * {@link TrainerConfig#maxNonFinite()} of them in a row: then the model has diverged (or a parameter went NaN) and the
 * worker throws {@link NonFiniteException}, which stops the job.
 *
 * <p><b>Looking ahead.</b> With a remote embedding store, the worker takes its next batch before it computes the one
 * in hand ({@link BatchSupply#peek}) and announces that batch's rows ({@link Model#announce}), so that their round
 * trip to the parameter servers overlaps this step's compute: the rows a step uses then hold every push of the
 * steps up to the one before last (one step of staleness; the store's {@link EmbeddingStore#prefetchNext}).
 *
 * <p><b>The race is intended.</b> All workers of a trainer update the same {@code float[]} at once, without
 * locks: one worker may read a parameter another is writing, and concurrent updates of one element may lose one
 * of them. That is Hogwild (Recht et al., 2011): with sparse or small per-step updates the lost work is rare and
 * cheaper than any lock; the model stays a valid parameter vector because every float store is atomic on the JVM.
 * Embedding rows race the same way inside the {@link EmbeddingStore}.
 */
final class Worker implements Runnable {
    private final int index;
    private final Model model;
    private final StepRule rule;
    private final EmbeddingStore embeddings;
    private final BatchSupply feeder;
    private final WorkerStats stats;
    private final TrainWindow window;
    private final Workspace workspace;
    /** For announcing the batch taken ahead while the step in hand uses {@link #workspace}; null without a remote store. */
    private final Workspace aheadSpace;
    private final DeferredPushes pushes;
    private final int trainer;
    private final int maxNonFinite;

    Worker(int trainer, int index, Model model, StepRule rule, EmbeddingStore embeddings, BatchSupply feeder, int batchSize, int recomputeEvery,
           int maxNonFinite, WorkerStats stats, TrainWindow window) {
        this.trainer = trainer;
        this.maxNonFinite = maxNonFinite;
        this.index = index;
        this.model = model;
        this.rule = rule;
        this.embeddings = embeddings;
        this.feeder = feeder;
        this.stats = stats;
        this.window = window;
        this.workspace = model.newWorkspace(batchSize, recomputeEvery);
        this.pushes = new DeferredPushes(embeddings);
        this.aheadSpace = pushes.remote() ? model.newWorkspace(batchSize, recomputeEvery) : null;
    }

    @Override
    public void run() {
        float[] params = model.dense().data();
        float[] grad = workspace.denseGrad();
        int inARow = 0;
        try {
            while (true) {
                long t0 = System.nanoTime();
                Batch b = feeder.take(index);
                if (b == BatchSupply.END) {
                    embeddings.flush(); // the last steps' pushes, acknowledged in the background, are applied
                    stats.addSyncWait(rule.finish(index));
                    return;
                }
                // a remote store's next rows travel while this step computes: take the next batch now (it stays in
                // the supply until the next take) and announce its rows
                Batch next = aheadSpace == null ? null : feeder.peek(index);
                long t1 = System.nanoTime();
                double loss;
                boolean finite;
                long pushStart = 0;
                embeddings.beginStep();
                try {
                    if (next != null && next != BatchSupply.END) model.announce(next, aheadSpace, pushes);
                    loss = model.forwardBackward(b, workspace, pushes);
                    finite = Double.isFinite(loss) && pushes.allFinite() && Vec.allFinite(grad.length, grad, 0);
                    pushStart = System.nanoTime();
                    if (finite) pushes.commit();
                } finally {
                    pushes.discard(); // a skipped step, or a model that threw: nothing held survives the step
                    embeddings.endStep();
                }
                // waiting on the parameter server: its pulls and the round trips of the pushes (none for local tables)
                long psWait = pushes.remote() ? pushes.takeRemoteNanos() + System.nanoTime() - pushStart : 0;
                long syncWait = rule.apply(index, params, grad, finite ? b.size : 0) + psWait;
                long busy = System.nanoTime() - t1 - syncWait;
                if (finite) {
                    double labels = labelSum(b);
                    stats.record(b.size, loss, labels, busy, t1 - t0, syncWait);
                    window.record(index, loss, b.size, labels);
                    inARow = 0;
                } else {
                    stats.recordNonFinite(b.size, busy, t1 - t0, syncWait);
                    if (++inARow == maxNonFinite) {
                        feeder.recycle(index, b);
                        throw new NonFiniteException("trainer " + trainer + ", worker " + index + ": " + inARow
                                + " non-finite batches in a row (the last at its batch " + stats.batches() + "): the model has"
                                + " diverged; lower the learning rate (--lr), or raise --max-non-finite");
                    }
                }
                feeder.recycle(index, b);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double labelSum(Batch b) {
        double s = 0;
        for (int i = 0; i < b.size; i++) s += b.labels[i];
        return s;
    }
}
