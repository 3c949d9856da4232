package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Runs tasks on threads of their own while the cores they take together stay within a budget: a task that takes c
 * cores starts once c are free (first come, first served). One thread starts tasks; any thread may end them.
 */
final class CoreBudget {
    private final int cores;
    private final Semaphore free;
    private final List<Thread> threads = new ArrayList<>();

    CoreBudget(int cores) {
        if (cores < 1) throw new IllegalArgumentException("a core budget of at least 1, got " + cores);
        this.cores = cores;
        this.free = new Semaphore(cores, true);
    }

    int cores() {
        return cores;
    }

    /** Waits until at least one core is free (the caller is the only one that takes cores, so it stays free). */
    void awaitFreeCore() throws InterruptedException {
        free.acquire(1);
        free.release(1);
    }

    /** Waits for {@code need} free cores, then runs body on a new thread named name, giving the cores back when it ends. */
    void start(String name, int need, Runnable body) throws InterruptedException {
        if (need > cores) throw new IllegalArgumentException(name + " takes " + need + " cores, more than the budget of " + cores);
        free.acquire(need);
        Thread t = new Thread(() -> {
            try {
                body.run();
            } finally {
                free.release(need);
            }
        }, name);
        threads.add(t);
        t.start();
    }

    /** Waits for every task started to end. */
    void joinAll() throws InterruptedException {
        for (Thread t : threads) t.join();
    }
}
