package io.shadowsync.cli.serve;

import io.shadowsync.api.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Dynamic batching: single examples submitted by concurrent requests are gathered into one list and scored by one call
 * of the scoring function (the model's batch forward). A batch starts with the oldest waiting example and closes when it
 * holds maxBatch examples or maxWaitNanos have passed since it started, whichever comes first; the i-th score of the
 * batch answers the i-th example. Scoring threads each form and score their own batches.
 */
final class Batcher {
    private record Pending(Example example, CompletableFuture<float[]> answer) {}

    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Function<List<Example>, float[][]> score;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final Thread[] threads;
    private final AtomicLong forwardCalls = new AtomicLong(), examples = new AtomicLong();
    private volatile boolean closed;

    Batcher(Function<List<Example>, float[][]> score, int maxBatch, long maxWaitNanos, int scoringThreads) {
        if (maxBatch < 1) throw new IllegalArgumentException("the largest batch is at least 1 example, got " + maxBatch);
        if (maxWaitNanos < 0) throw new IllegalArgumentException("the longest wait is at least 0, got " + maxWaitNanos + " ns");
        this.score = score;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWaitNanos;
        threads = new Thread[scoringThreads];
        for (int t = 0; t < scoringThreads; t++) {
            threads[t] = Thread.ofPlatform().daemon().name("serve-batcher-" + t).start(this::loop);
        }
    }

    /** The scores of example, once the batch it joins has been scored. */
    CompletableFuture<float[]> submit(Example example) {
        CompletableFuture<float[]> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new IllegalStateException("the server is shutting down"));
            return f;
        }
        queue.add(new Pending(example, f));
        return f;
    }

    /** Batch forwards run so far. */
    long forwardCalls() {
        return forwardCalls.get();
    }

    /** Examples scored through batches so far. */
    long examples() {
        return examples.get();
    }

    private void loop() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        while (true) {
            try {
                Pending first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closed) return;
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    long left = deadline - System.nanoTime();
                    Pending p = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
                    if (p == null) break;
                    batch.add(p);
                }
                run(batch);
            } catch (InterruptedException e) {
                for (Pending p : batch) p.answer.completeExceptionally(e);
                return;
            } finally {
                batch.clear();
            }
        }
    }

    private void run(List<Pending> batch) {
        List<Example> xs = new ArrayList<>(batch.size());
        for (Pending p : batch) xs.add(p.example);
        float[][] out;
        try {
            out = score.apply(xs);
        } catch (RuntimeException | Error e) {
            for (Pending p : batch) p.answer.completeExceptionally(e);
            return;
        } finally {
            forwardCalls.incrementAndGet();
            examples.addAndGet(xs.size());
        }
        for (int i = 0; i < batch.size(); i++) batch.get(i).answer.complete(out[i]);
    }

    /** Scores what is already queued, then stops the scoring threads. */
    void stop() throws InterruptedException {
        closed = true;
        for (Thread t : threads) t.join();
        Pending p; // submitted after the threads' last look: refuse rather than leave the request hanging
        while ((p = queue.poll()) != null) p.answer.completeExceptionally(new IllegalStateException("the server is shutting down"));
    }
}
