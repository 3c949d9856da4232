package io.shadowsync.fed;

import io.shadowsync.engine.TrainingException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Where a federation's clients run, as the server ({@link Federation}) sees them: each call does one step of a round
 * for every sampled client (in parallel) and returns what came back, indexed by the client's slot in the round, with
 * null for a client that did not answer — it dropped out: a failed or killed client, or one past the round's deadline.
 * {@link Federation#localClients} runs them as threads of this JVM; the {@code net} module's remote pool calls client
 * processes over gRPC. The secure-aggregation steps ({@link #advertise}, {@link #deal}, {@link #reveal}) are those of
 * {@link SecureClient}, and the server routes their messages: it never holds a client's secrets.
 *
 * <p>A client whose local training fails (bad data, a diverged model) is not a dropout: {@link #train} throws
 * {@link io.shadowsync.engine.TrainingException} and the run ends. Called from the server's one thread.
 */
public interface ClientPool extends AutoCloseable {
    /**
     * One round's sampled clients.
     *
     * @param clients   the sampled clients in ascending order; a client's slot is its index here
     * @param drops     [slot]: a simulated dropout (--dropout): the client trains half of its steps and sends nothing
     * @param threshold secure aggregation's threshold t, or 0 without secure aggregation
     */
    record Round(int round, int[] clients, boolean[] drops, int threshold) {
        public int size() {
            return clients.length;
        }
    }

    /** Secure aggregation's step 1: [slot] = the client's {@link SecureClient#publicKeys()}, null if it did not answer. */
    byte[][] advertise(Round round) throws InterruptedException;

    /** Step 2: [from][to] = the sealed shares client {@code from} dealt to {@code to}; a null row if it did not answer. */
    byte[][][] deal(Round round, byte[][] advertised) throws InterruptedException;

    /**
     * Local training and the upload: [slot] = what the client sent, null if it dropped out or did not report by the
     * round's deadline. tables are the global embedding tables ([t] row-major, none for a dense model), read only.
     * With secure aggregation, advertised and dealt are steps 1 and 2's answers, else null.
     */
    ClientUpload[] train(Round round, float[] global, float[][] tables, byte[][] advertised, byte[][][] dealt) throws InterruptedException;

    /** Step 4, asked of the survivors only: [slot] = the client's {@link SecureClient#reveal} answer, null for the others. */
    byte[][][] reveal(Round round, boolean[] survived) throws InterruptedException;

    /**
     * The results of one step's calls, in slot order; the first that failed cancels the others and ends the step with
     * its exception (an unchecked one as it is, a checked one as a {@link TrainingException}).
     */
    static <T> List<T> gather(List<Future<T>> futures) throws InterruptedException {
        List<T> out = new ArrayList<>(futures.size());
        for (Future<T> f : futures) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                for (Future<?> other : futures) other.cancel(true);
                if (e.getCause() instanceof RuntimeException re) throw re;
                if (e.getCause() instanceof Error err) throw err;
                throw new TrainingException(e.getCause());
            }
        }
        return out;
    }

    /** Ends the clients' part of the run (a remote pool tells the client processes to exit). */
    @Override
    void close() throws IOException;
}
