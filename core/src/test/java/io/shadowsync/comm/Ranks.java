package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Runs one body per rank on its own named thread and collects what each threw (null: returned normally). Shared with
 * net's collective tests through core's test-jar.
 */
public final class Ranks {
    public interface Body {
        void run(int rank) throws Exception;
    }

    private Ranks() {}

    /** Starts n threads running body(rank) and returns them; {@link #join} waits for them. */
    public static Thread[] start(int n, Throwable[] thrown, Body body) {
        Thread[] threads = new Thread[n];
        for (int r = 0; r < n; r++) {
            final int rank = r;
            threads[r] = new Thread(() -> {
                try {
                    body.run(rank);
                } catch (Throwable t) {
                    thrown[rank] = t;
                }
            }, "test-rank-" + r);
            threads[r].start();
        }
        return threads;
    }

    /** Waits for every thread; fails if one is still running after the given time (a hang). */
    public static void join(Thread[] threads, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            assertFalse(t.isAlive(), t.getName() + " still runs: a collective hangs");
        }
    }

    /** Runs body on n threads and returns what each threw. */
    public static Throwable[] run(int n, Body body) throws InterruptedException {
        Throwable[] thrown = new Throwable[n];
        join(start(n, thrown, body), 60_000);
        return thrown;
    }

    /** Runs body on n threads and rethrows the first failure. */
    public static void runAll(int n, Body body) throws Exception {
        Throwable[] thrown = run(n, body);
        for (Throwable t : thrown) {
            if (t instanceof Exception e) throw e;
            if (t instanceof Error e) throw e;
        }
    }
}
