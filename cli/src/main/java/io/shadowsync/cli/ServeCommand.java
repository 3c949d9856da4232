package io.shadowsync.cli;

import io.shadowsync.api.TrainedModel;
import io.shadowsync.cli.serve.ScoreServer;
import java.io.PrintWriter;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync serve --model-file MODEL --port P}: scores the model over HTTP/JSON until SIGTERM or Ctrl-C, then
 * finishes the requests in flight and exits 0. The first stderr line says where it listens. A model file that does not
 * load, or an address already in use, is refused (exit 2) before anything listens. The protocol is in docs/serve.md.
 */
@Command(name = "serve", sortOptions = false, description = "Score a saved model over HTTP/JSON (POST /v1/score, GET /healthz, GET /metrics).")
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model-file", required = true, paramLabel = "MODEL", description = "A model file written by 'train --save'.")
    Path modelFile;

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on (default: 127.0.0.1).")
    String host = "127.0.0.1";

    @Option(names = "--port", paramLabel = "P", description = "Port to listen on; 0 picks a free one (default: 8080). The first stderr line names it.")
    int port = 8080;

    @Option(names = "--threads", paramLabel = "N", description = "Request handler threads (default: 32).")
    int threads = 32;

    @Option(names = "--max-batch", paramLabel = "B",
            description = "Gather up to B concurrent single-example requests into one model forward; 1 turns batching off (default: 64).")
    int maxBatch = 64;

    @Option(names = "--max-wait-us", paramLabel = "US", description = "The longest a request waits for others to join its batch, in microseconds (default: 500).")
    long maxWaitUs = 500;

    @Option(names = "--scoring-threads", paramLabel = "N", description = "Threads that form and score batches (default: 1).")
    int scoringThreads = 1;

    @Option(names = "--max-instances", paramLabel = "N", description = "The most examples one batch request may hold (default: 10000).")
    int maxInstances = 10_000;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        ScoreServer.Options o = new ScoreServer.Options(host, port, threads, maxBatch, maxWaitUs, scoringThreads, 16 << 20, maxInstances);
        new Outputs().input("--model-file", modelFile).check();
        TrainedModel m = TrainedModel.load(modelFile);
        ScoreServer server;
        try {
            server = ScoreServer.start(m, o);
        } catch (BindException e) {
            throw new UsageException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        } catch (java.nio.channels.UnresolvedAddressException e) {
            throw new UsageException("--host " + host + " is not an address this machine can listen on");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { // SIGTERM, Ctrl-C: finish what is in flight
            try {
                server.stop(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stopped.countDown();
            }
        }, "serve-shutdown"));
        String shown = host.contains(":") ? "[" + host + "]" : host;
        err.println("shadowsync serve: listening on http://" + shown + ":" + server.port());
        err.println("shadowsync serve: " + m.spec().kind() + " model, " + (maxBatch > 1 ? "batches of up to " + maxBatch + " within " + maxWaitUs + " us" : "no batching"));
        err.flush();
        stopped.await();
        return 0;
    }
}
