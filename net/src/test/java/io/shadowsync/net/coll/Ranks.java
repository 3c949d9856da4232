package io.shadowsync.net.coll;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** Runs one body per rank on its own named thread and collects what each threw (null: returned normally). */
final class Ranks {
    interface Body {
        void run(int rank) throws Exception;
    }

    private Ranks() {}

    static Thread[] start(int n, Throwable[] thrown, Body body) {
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

    /** Waits for every thread; fails if one still runs after the given time (a hang). */
    static void join(Thread[] threads, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            assertFalse(t.isAlive(), t.getName() + " still runs: a collective hangs");
        }
    }

    static Throwable[] run(int n, Body body) throws InterruptedException {
        Throwable[] thrown = new Throwable[n];
        join(start(n, thrown, body), 30_000);
        return thrown;
    }

    static void runAll(int n, Body body) throws Exception {
        Throwable[] thrown = run(n, body);
        for (Throwable t : thrown) {
            if (t instanceof Exception e) throw e;
            if (t instanceof Error e) throw e;
        }
    }
}
