package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.sync.SyncAlgorithm;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The self-paced shadow ({@link SyncPacer#cpuShare}): a sync algorithm that burns a known amount of CPU per round takes
 * at most its share of a core, measured by the sync thread's own CPU time (not a throughput test: a loaded machine only
 * lowers the share); and while the workers make no step, rounds come no faster than the step wait allows.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SyncPacingTest {
    static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** A round that spins until its thread has used burnNanos of CPU. */
    static final class Burner implements SyncAlgorithm {
        final long burnNanos;
        final AtomicLong rounds = new AtomicLong();

        Burner(long burnNanos) {
            this.burnNanos = burnNanos;
        }

        @Override
        public String name() {
            return "burner";
        }

        @Override
        public int round(float[] w, boolean training) {
            long end = THREADS.getCurrentThreadCpuTime() + burnNanos;
            double x = 0;
            while (THREADS.getCurrentThreadCpuTime() < end) x += Math.sqrt(x + 1);
            w[0] += (float) (x * 0); // keeps the loop
            rounds.incrementAndGet();
            return training ? 1 : 0;
        }

        @Override
        public long bytesSent() {
            return 0;
        }
    }

    /** Runs a sync loop for wallMillis; returns {CPU nanos of the sync thread, wall nanos}. */
    static long[] run(SyncAlgorithm algorithm, SyncPacer pacer, long wallMillis, boolean[] training) throws InterruptedException {
        long[] cpu = new long[2];
        FailureSignal failures = new FailureSignal();
        SyncLoop loop = new SyncLoop(algorithm, new float[1], () -> training[0], pacer, new SyncStats(), failures);
        Thread t = new Thread(() -> {
            long c0 = THREADS.getCurrentThreadCpuTime(), w0 = System.nanoTime();
            loop.run();
            cpu[0] = THREADS.getCurrentThreadCpuTime() - c0;
            cpu[1] = System.nanoTime() - w0;
        }, "test/sync");
        t.start();
        Thread.sleep(wallMillis);
        training[0] = false;
        t.join();
        assertTrue(failures.first() == null, "the loop failed: " + failures.first());
        return cpu;
    }

    @Test
    void aSelfPacedSyncThreadTakesAtMostItsShareOfTheCpu() throws Exception {
        for (double share : new double[] {0.05, 0.2}) {
            Burner burner = new Burner(2_000_000L); // 2 ms of CPU a round
            AtomicLong steps = new AtomicLong();
            boolean[] training = {true};
            // workers that always have stepped: only the CPU share paces
            SyncPacer pacer = SyncPacer.cpuShare(share, steps::incrementAndGet, () -> training[0]);
            long[] r = run(burner, pacer, 1500, training);
            double used = r[0] / (double) r[1];
            // one round's CPU after the last wait is not yet paid for: allow it on top of the share
            double bound = share + 2_000_000.0 / r[1] + 0.01;
            assertTrue(used <= bound, "share " + share + ": the sync thread used " + used + " of a core over " + r[1] / 1e6 + " ms ("
                    + burner.rounds.get() + " rounds)");
            assertTrue(burner.rounds.get() >= 5, "share " + share + ": it still syncs (" + burner.rounds.get() + " rounds)");
        }
    }

    @Test
    void withoutWorkerStepsRoundsWaitForThem() throws Exception {
        Burner cheap = new Burner(0);
        boolean[] training = {true};
        SyncPacer pacer = SyncPacer.cpuShare(1.0, () -> 7, () -> training[0]); // no CPU bound: only the steps pace
        long[] r = run(cheap, pacer, 1000, training);
        long most = r[1] / SyncPacer.CpuShare.MAX_STEP_WAIT_NANOS + 3; // one round per step wait, and the finishing ones
        assertTrue(cheap.rounds.get() <= most, cheap.rounds.get() + " rounds in " + r[1] / 1e6 + " ms with no worker step");
        assertTrue(cheap.rounds.get() >= 5, "it still takes part in rounds: " + cheap.rounds.get());
    }
}
