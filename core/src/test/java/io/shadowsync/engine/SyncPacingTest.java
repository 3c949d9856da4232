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
 * at most its share of its trainer's CPU, measured by CPU time, its own and the trainer's other threads' (not a
 * throughput test: a loaded machine slows both alike); and while the workers make no step, rounds come no faster than
 * the step wait allows.
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

    /**
     * A stand-in for a trainer's workers: spins 2 ms of CPU, sleeps 8 ms, until stopped (about a fifth of a core);
     * its CPU time goes into cpu[0] as it ends.
     */
    static Thread partTimeWorker(boolean[] training, long[] cpu) {
        Thread t = new Thread(() -> {
            double x = 0;
            while (training[0]) {
                long end = THREADS.getCurrentThreadCpuTime() + 2_000_000L;
                while (THREADS.getCurrentThreadCpuTime() < end) x += Math.sqrt(x + 1);
                try {
                    Thread.sleep(8);
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (x < 0) System.out.println(x); // keeps the loop
            cpu[0] = THREADS.getCurrentThreadCpuTime();
        }, "test/worker");
        t.setDaemon(true);
        return t;
    }

    /**
     * The budget is a share of the trainer's CPU, not of a core: against workers that use a fifth of a core, a sync
     * thread at share 0.05 gets about 1 % of a core. The pacer of a share of a core (wall time) would let it take 5 %
     * of a core, five times its bound here; one that ignores its own CPU time, as much as the rounds allow.
     */
    @Test
    void aSelfPacedSyncThreadTakesAtMostItsShareOfItsTrainersCpu() throws Exception {
        for (double share : new double[] {0.05, 0.2}) {
            Burner burner = new Burner(2_000_000L); // 2 ms of CPU a round
            AtomicLong steps = new AtomicLong();
            boolean[] training = {true};
            long[] workerCpu = new long[1];
            Thread worker = partTimeWorker(training, workerCpu);
            TrainerCpu trainerCpu = new TrainerCpu(worker, null);
            worker.start();
            // workers that always have stepped: only the CPU share paces
            SyncPacer pacer = SyncPacer.cpuShare(share, steps::incrementAndGet, trainerCpu, trainerCpu::resting, () -> training[0]);
            long[] r = run(burner, pacer, 2500, training);
            worker.join();
            long sync = r[0], others = workerCpu[0]; // the worker's own reading, not the pacer's
            // the last round's CPU (and a few more, should the worker look resting on a loaded machine) is not yet paid
            // for, nor the thread's start; the pacer of a share of a core would take some 125 ms at 0.05
            double bound = share * (sync + others) + 3 * 2_000_000.0 + 5_000_000;
            assertTrue(sync <= bound, "share " + share + ": the sync thread used " + sync / 1e6 + " ms of CPU, its trainer's other threads "
                    + others / 1e6 + " ms: more than " + bound / 1e6 + " ms (" + burner.rounds.get() + " rounds over " + r[1] / 1e6 + " ms)");
            assertTrue(burner.rounds.get() >= 3, "share " + share + ": it still syncs (" + burner.rounds.get() + " rounds)");
        }
    }

    /**
     * Workers that rest (a checkpoint's pause: they use no CPU at all) do not hold the sync thread: its wait for CPU
     * ends after {@link SyncPacer.CpuShare#REST_NANOS}, and rounds go on, one per step wait at most. A pacer that waits
     * for the trainer's CPU without that end would take no round after the first.
     */
    @Test
    void withoutWorkerStepsOrCpuRoundsStillComeOnePerStepWait() throws Exception {
        Burner cheap = new Burner(0);
        boolean[] training = {true};
        SyncPacer pacer = SyncPacer.cpuShare(0.05, () -> 7, () -> 0L, () -> true, () -> training[0]);
        long[] r = run(cheap, pacer, 1000, training);
        long most = r[1] / SyncPacer.CpuShare.MAX_STEP_WAIT_NANOS + 3; // one round per step wait, and the finishing ones
        assertTrue(cheap.rounds.get() <= most, cheap.rounds.get() + " rounds in " + r[1] / 1e6 + " ms with no worker step");
        assertTrue(cheap.rounds.get() >= 5, "it still takes part in rounds: " + cheap.rounds.get());
    }
}
