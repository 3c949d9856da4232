package io.shadowsync.engine;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.engine.step.StepRule;
import io.shadowsync.kernels.Vec;
import io.shadowsync.optim.DenseOptimizer;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * Fully synchronous data-parallel SGD: every step, every worker of every trainer takes part in one allreduce of
 * its gradient and whether it had a batch (a count of 1 or 0 rides along as one extra float), so each step applies
 * the mean of the gradients of the workers that had one. A worker's gradient already weighs each example by
 * 1/batch-size ({@link io.shadowsync.nn.Model#forwardBackward}), so every example of a step weighs alike and a step of
 * partial batches (the end of the data) is as much smaller as they hold fewer examples. Within a trainer, the workers meet at a barrier
 * whose action applies that gradient once to the shared replica; everybody waits for the slowest worker.
 * A worker out of data keeps contributing zero-weight steps until every worker is out of data, and so does a worker
 * whose batch was non-finite (it sends zeros, never its gradient). A step whose summed gradient overflows is not
 * applied and counts in {@link SyncStats#skippedSteps()}.
 *
 * <p>The ring allreduce sums in a fixed order, so the result is bit-identical on every worker and every run.
 */
final class SyncSgdStep implements StepRule {
    private final Collective[] ranks;
    private final float[][] buffers;
    private final CyclicBarrier barrier;
    private volatile long total;
    private volatile long exchangeNanos;
    /** Set once the job failed: no worker waits at the barrier again (one that missed it is woken by its interrupt). */
    private volatile boolean aborted;
    /** Per worker, its encoder of the job's codec (top-k: its residual; each used by its worker's thread only). */
    private final Codec.Encoder[] encoders;

    /** @param ranks this trainer's workers' handles on the job-wide collective of all workers */
    SyncSgdStep(Collective[] ranks, DenseOptimizer optimizer, float[] params, SyncStats stats) {
        this.ranks = ranks;
        this.encoders = new Codec.Encoder[ranks.length];
        for (int k = 0; k < ranks.length; k++) encoders[k] = ranks[k].codec().encoder(0x5eed_5960L + ranks[k].rank());
        int n = params.length;
        this.buffers = new float[ranks.length][n + 1];
        float[] mean = buffers[0];
        this.barrier = new CyclicBarrier(ranks.length, () -> {
            long t = total;
            // each worker's gradient is finite (Worker checks it), but their weighted sum can still overflow
            if (t > 0 && Vec.allFinite(n, mean, 0)) optimizer.step(params, mean, n);
            else if (t > 0) stats.recordSkippedStep();
            stats.recordRound(exchangeNanos, ranks[0].bytesSent(), ranks[0].rawBytesSent());
        });
    }

    @Override
    public long apply(int worker, float[] params, float[] grad, int examples) throws InterruptedException {
        long t0 = System.nanoTime();
        exchange(worker, grad, examples);
        await();
        return System.nanoTime() - t0;
    }

    @Override
    public long finish(int worker) throws InterruptedException {
        long t0 = System.nanoTime();
        while (exchange(worker, null, 0) > 0) await();
        return System.nanoTime() - t0;
    }

    /** The job failed: workers waiting at the barrier wake (broken) and end; a collective wakes by the cluster's abort. */
    @Override
    public void abort() {
        aborted = true;
        barrier.reset();
    }

    /**
     * Allreduce of grad ‖ 1 (0 ‖ 0 without a batch); leaves the mean of the contributed gradients in this worker's buffer;
     * returns how many workers contributed one.
     */
    private long exchange(int worker, float[] grad, int examples) throws InterruptedException {
        float[] buf = buffers[worker];
        int n = buf.length - 1;
        if (grad == null || examples == 0) {
            java.util.Arrays.fill(buf, 0f);
        } else {
            System.arraycopy(grad, 0, buf, 0, n);
            buf[n] = 1;
        }
        long t0 = System.nanoTime();
        Collective c = ranks[worker];
        long t;
        if (c.codec().lossless()) { // the count rides with the gradient: one call, exact (a sum of counts below 2^24)
            c.allReduce(buf, 0, n + 1, Collective.ReduceOp.SUM);
            t = Math.round(buf[n]);
        } else { // a lossy codec would round the count: it takes the typed channel
            long[] count = {grad == null || examples == 0 ? 0 : 1};
            c.allReduceEncoded(encoders[worker], buf, 0, n, Collective.ReduceOp.SUM);
            c.allReduceLongs(count, 0, 1);
            t = count[0];
        }
        if (worker == 0) exchangeNanos = System.nanoTime() - t0;
        if (t > 0) {
            float inv = 1f / t;
            for (int i = 0; i < n; i++) buf[i] *= inv;
        }
        if (worker == 0) total = t;
        return t;
    }

    private void await() throws InterruptedException {
        if (aborted) throw new InterruptedException("synchronous SGD was abandoned: the job failed");
        try {
            barrier.await();
        } catch (BrokenBarrierException e) {
            throw new InterruptedException("a worker of this trainer failed during synchronous SGD");
        }
    }
}
