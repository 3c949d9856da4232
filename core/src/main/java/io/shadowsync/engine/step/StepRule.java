package io.shadowsync.engine.step;

/**
 * What a worker does with the gradient of a batch: apply it Hogwild-style ({@link HogwildStep}), and in the
 * synchronous or foreground modes also wait for others. Implementations say what, if anything, they share.
 */
public interface StepRule {
    /**
     * Applies the gradient of the mean loss of a batch of {@code examples} examples to params (0 examples: the batch
     * was refused — its loss or a gradient was not finite, and grad must not be used — but the rule may still have
     * to take part in a collective step). With examples &gt; 0, every value of grad is finite.
     *
     * @return nanoseconds the worker spent waiting on synchronization (0 when it never waits)
     */
    long apply(int worker, float[] params, float[] grad, int examples) throws InterruptedException;

    /** The worker has no more data; the rule may keep taking part in collective steps until everyone is done. Returns wait nanos. */
    default long finish(int worker) throws InterruptedException {
        return 0;
    }

    /**
     * The job failed: wakes every worker waiting in this rule (a phaser, a barrier) so that it ends at once, and makes
     * later waits end at once too. Called from any thread; idempotent.
     */
    default void abort() {}
}
