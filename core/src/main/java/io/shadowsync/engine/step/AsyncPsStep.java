package io.shadowsync.engine.step;

import io.shadowsync.comm.DenseParameterServer;

/**
 * Asynchronous parameter-server SGD (Downpour, Dean et al. 2012): the dense parameters live on the parameter
 * server, which applies every pushed gradient with its optimizer; each worker pushes its gradient and pulls fresh
 * parameters into its own copy, never waiting for other workers (only for its own round trip to the server).
 */
public final class AsyncPsStep implements StepRule {
    private final DenseParameterServer server;

    public AsyncPsStep(DenseParameterServer server) {
        this.server = server;
    }

    @Override
    public long apply(int worker, float[] params, float[] grad, int examples) throws InterruptedException {
        long t0 = System.nanoTime();
        if (examples > 0) server.pushGradient(grad);
        server.pull(params);
        return System.nanoTime() - t0;
    }
}
