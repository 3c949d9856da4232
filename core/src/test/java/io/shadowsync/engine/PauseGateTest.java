package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class PauseGateTest {
    /**
     * Three participants whose every operation is a barrier all three must reach (a collective): paused over and over
     * while they run, they always rest with the same number of operations done, none stuck inside one.
     */
    @Test
    void aLockstepGroupRestsAtTheSameOperation() throws Exception {
        int n = 3, ops = 1000;
        PauseGate gate = new PauseGate(new String[] {"a", "b", "c"}, new int[] {0, 0, 0}, new boolean[] {true});
        CyclicBarrier op = new CyclicBarrier(n);
        AtomicLongArray done = new AtomicLongArray(n);
        Thread[] threads = new Thread[n];
        for (int p = 0; p < n; p++) {
            int pp = p;
            threads[p] = new Thread(() -> {
                try {
                    for (int k = 0; k < ops; k++) {
                        gate.beforeOp(pp);
                        op.await(10, TimeUnit.SECONDS);
                        done.incrementAndGet(pp);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    gate.exit(pp);
                }
            });
            threads[p].start();
        }
        int pauses = 0;
        while (threads[0].isAlive() && pauses < 50) {
            gate.pause(TimeUnit.SECONDS.toNanos(10));
            long d0 = done.get(0);
            assertEquals(d0, done.get(1), "participants rest after the same operation");
            assertEquals(d0, done.get(2));
            assertEquals(0, op.getNumberWaiting(), "nobody rests inside an operation");
            gate.release();
            pauses++;
        }
        for (Thread t : threads) t.join();
        assertEquals(ops, done.get(0));
        assertTrue(pauses > 0);
    }

    /**
     * Two gates, as in two processes of a job, whose participants' every operation is a barrier of both (a collective
     * across processes): each gate raises its pause, they exchange their counts and both rest after the larger — the
     * same operation on both sides, nobody stuck inside one (each gate alone would pick its own count and leave the
     * other side waiting).
     */
    @Test
    void gatesOfTwoProcessesAgreeOnTheLargestCount() throws Exception {
        int ops = 600;
        PauseGate[] gates = {new PauseGate(new String[] {"p0"}, new int[] {0}, new boolean[] {true}),
                new PauseGate(new String[] {"p1"}, new int[] {0}, new boolean[] {true})};
        CyclicBarrier op = new CyclicBarrier(2);
        AtomicLongArray done = new AtomicLongArray(2);
        Thread[] threads = new Thread[2];
        for (int p = 0; p < 2; p++) {
            int pp = p;
            threads[p] = new Thread(() -> {
                try {
                    for (int k = 0; k < ops; k++) {
                        gates[pp].beforeOp(0);
                        op.await(10, TimeUnit.SECONDS);
                        done.incrementAndGet(pp);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    gates[pp].exit(0);
                }
            });
            threads[p].start();
        }
        int pauses = 0;
        while (threads[0].isAlive() && pauses < 40) {
            long[] a = gates[0].raise(), b = gates[1].raise();
            long[] agreed = {Math.max(a[0], b[0])};
            // each process waits for its own threads at once (one waiting first would stall the other's last operation)
            java.util.concurrent.CompletableFuture<Void> other = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    gates[1].awaitRest(agreed, TimeUnit.SECONDS.toNanos(10));
                } catch (InterruptedException | TimeoutException e) {
                    throw new IllegalStateException(e);
                }
            });
            gates[0].awaitRest(agreed, TimeUnit.SECONDS.toNanos(10));
            other.get(10, TimeUnit.SECONDS);
            assertEquals(done.get(0), done.get(1), "both sides rest after the same operation");
            assertEquals(0, op.getNumberWaiting(), "nobody rests inside an operation");
            gates[0].release();
            gates[1].release();
            pauses++;
        }
        for (Thread t : threads) t.join();
        assertEquals(ops, done.get(0));
        assertEquals(ops, done.get(1));
        assertTrue(pauses > 0);
    }

    @Test
    void aParticipantThatNeverArrivesIsNamedAfterTheTimeout() throws Exception {
        PauseGate gate = new PauseGate(new String[] {"trainer-0/worker-0", "trainer-0/sync"}, new int[] {0, 1}, new boolean[] {false, false});
        gate.exit(1);
        TimeoutException e = assertThrows(TimeoutException.class, () -> gate.pause(TimeUnit.MILLISECONDS.toNanos(50)));
        assertEquals("trainer-0/worker-0 did not reach the end of a step or round within 0.1 s", e.getMessage().replace("0.0 s", "0.1 s"));
        // the request was withdrawn: the participant goes through; a later pause finds it at rest between operations
        java.util.concurrent.atomic.AtomicLong ops = new java.util.concurrent.atomic.AtomicLong();
        Thread t = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    gate.beforeOp(0);
                    ops.incrementAndGet();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
        t.setDaemon(true);
        t.start();
        gate.pause(TimeUnit.SECONDS.toNanos(5));
        long resting = ops.get();
        Thread.sleep(20);
        assertEquals(resting, ops.get(), "no operation while paused");
        gate.release();
        t.interrupt();
        t.join(5000);
        assertEquals(false, t.isAlive());
    }

    @Test
    void anAbortedGateLetsRestingParticipantsGoAndRefusesPauses() throws Exception {
        PauseGate gate = new PauseGate(new String[] {"w"}, new int[] {0}, new boolean[] {false});
        Thread t = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) gate.beforeOp(0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.setDaemon(true);
        t.start();
        gate.pause(TimeUnit.SECONDS.toNanos(5));
        gate.abort();
        assertThrows(IllegalStateException.class, () -> gate.pause(1));
        t.interrupt();
        t.join(5000);
        assertEquals(false, t.isAlive());
    }
}
