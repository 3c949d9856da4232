package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.metrics.TrainWindow;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.Workspace;
import io.shadowsync.optim.DenseOptimizer;

/**
 * One Hogwild worker of a trainer: takes batches from the trainer's {@link BatchSupply}, runs forward and
 * backward into its own {@link Workspace}, and applies the dense gradient to the trainer's replica.
 *
 * <p><b>The race is intended.</b> All workers of a trainer call {@link DenseOptimizer#step} on the same
 * {@code float[]} at once, without locks: one worker may read a parameter another is writing, and
 * concurrent updates of one element may lose one of them. That is Hogwild (Recht et al., 2011): with sparse
 * or small per-step updates the lost work is rare and cheaper than any lock; the final model is still a
 * valid parameter vector because every float store is atomic on the JVM. Embedding rows race the same way
 * inside the {@link EmbeddingStore}.
 */
final class Worker implements Runnable {
    private final int index;
    private final Model model;
    private final DenseOptimizer optimizer;
    private final EmbeddingStore embeddings;
    private final BatchSupply feeder;
    private final WorkerStats stats;
    private final TrainWindow window;
    private final Workspace workspace;
    private final Runnable afterStep;

    /**
     * @param afterStep called after every applied step (foreground synchronization hooks in later issues);
     *                  a no-op here
     */
    Worker(int index, Model model, DenseOptimizer optimizer, EmbeddingStore embeddings, BatchSupply feeder,
           int batchSize, WorkerStats stats, TrainWindow window, Runnable afterStep) {
        this.index = index;
        this.model = model;
        this.optimizer = optimizer;
        this.embeddings = embeddings;
        this.feeder = feeder;
        this.stats = stats;
        this.window = window;
        this.workspace = model.newWorkspace(batchSize);
        this.afterStep = afterStep;
    }

    @Override
    public void run() {
        float[] params = model.dense().data();
        float[] grad = workspace.denseGrad();
        int n = params.length;
        try {
            while (true) {
                long t0 = System.nanoTime();
                Batch b = feeder.take(index);
                long t1 = System.nanoTime();
                if (b == BatchSupply.END) return;
                double loss = model.forwardBackward(b, workspace, embeddings);
                if (Double.isFinite(loss)) {
                    optimizer.step(params, grad, n);
                    afterStep.run();
                    double labels = labelSum(b);
                    stats.record(b.size, loss, labels, System.nanoTime() - t1, t1 - t0);
                    window.record(index, loss, b.size, labels);
                } else {
                    stats.recordNonFinite(b.size, System.nanoTime() - t1, t1 - t0);
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
