package io.shadowsync.engine.step;

import io.shadowsync.comm.BlockEncoders;
import io.shadowsync.comm.Codec;
import io.shadowsync.comm.DenseParameterServer;

/**
 * Asynchronous parameter-server SGD (Downpour, Dean et al. 2012): the dense parameters live on the parameter
 * server, which applies every pushed gradient with its optimizer; each worker pushes its gradient and pulls fresh
 * parameters into its own copy, never waiting for other workers (only for its own round trip to the server).
 *
 * <p>Under a lossy codec ({@code --compress}) each worker's gradient goes through the worker's own encoders (one per
 * block of the server, each block's message sent to the node that holds it; with
 * top-k, error feedback per worker: what a push leaves out is added to that worker's next gradient); the server
 * applies what was sent. Pulls stay float32.
 */
public final class AsyncPsStep implements StepRule {
    private final DenseParameterServer server;
    /** One per worker (each is used by its worker's thread only), or null without a lossy codec. */
    private final BlockEncoders[] encoders;

    public AsyncPsStep(DenseParameterServer server) {
        this(server, Codec.FLOAT32, 0, 0);
    }

    /** With the job's codec for the pushes of {@code workers} workers; trainer seeds their stochastic rounding. */
    public AsyncPsStep(DenseParameterServer server, Codec codec, int workers, int trainer) {
        this.server = server;
        if (codec.lossless()) {
            encoders = null;
        } else {
            encoders = new BlockEncoders[workers];
            for (int k = 0; k < workers; k++) encoders[k] = new BlockEncoders(codec, server.blocks(), 0x5eed_a5a5L + ((long) trainer << 20) + k, true);
        }
    }

    @Override
    public long apply(int worker, float[] params, float[] grad, int examples) throws InterruptedException {
        long t0 = System.nanoTime();
        if (examples > 0) {
            if (encoders == null) {
                server.pushGradient(grad);
            } else {
                BlockEncoders e = encoders[worker];
                byte[][] sent = e.encode(grad); // grad: the gradient the server receives, block by block as it holds it
                server.pushGradient(grad, e.codec(), sent);
            }
        }
        server.pull(params);
        return System.nanoTime() - t0;
    }
}
