package io.shadowsync.engine.step;

import io.shadowsync.optim.DenseOptimizer;

/** The plain Hogwild step: the optimizer updates the shared replica without locks; nobody waits. */
public final class HogwildStep implements StepRule {
    private final DenseOptimizer optimizer;

    public HogwildStep(DenseOptimizer optimizer) {
        this.optimizer = optimizer;
    }

    @Override
    public long apply(int worker, float[] params, float[] grad, int examples) {
        if (examples > 0) optimizer.step(params, grad, params.length);
        return 0;
    }
}
