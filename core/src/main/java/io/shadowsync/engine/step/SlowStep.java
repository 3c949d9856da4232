package io.shadowsync.engine.step;

import io.shadowsync.engine.SlowTrainer;

/**
 * The step rule of an emulated straggler ({@link SlowTrainer}): stalls (asleep, or spinning on the CPU), then hands
 * the batch to the trainer's real rule. Shares nothing of its own; built only for the slow trainer, so the other
 * trainers' steps never pass through it.
 */
public final class SlowStep implements StepRule {
    private final StepRule rule;
    private final long nanos;
    private final boolean spin;

    public SlowStep(StepRule rule, SlowTrainer slow) {
        this.rule = rule;
        this.nanos = slow.millisPerBatch() * 1_000_000L;
        this.spin = slow.spin();
    }

    @Override
    public long apply(int worker, float[] params, float[] grad, int examples) throws InterruptedException {
        if (spin) {
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) {
                if (Thread.interrupted()) throw new InterruptedException("stopped while stalling as a slow trainer");
                Thread.onSpinWait();
            }
        } else {
            Thread.sleep(nanos / 1_000_000L);
        }
        return rule.apply(worker, params, grad, examples);
    }

    @Override
    public long finish(int worker) throws InterruptedException {
        return rule.finish(worker);
    }

    @Override
    public void abort() {
        rule.abort();
    }
}
