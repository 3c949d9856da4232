package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ForwardingCollective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataException;
import io.shadowsync.data.DataSource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.nn.Workspace;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Any failure ends the whole in-process job promptly with the first error, in every synchronization mode, and
 * leaves no thread behind: a bad data line read by one trainer, an exception inside a round (a collective, the
 * dense server) of one trainer, and an exception in one worker. The data would last for hours (a million epochs),
 * so a job that trains on after the failure, or waits for a peer that will never come (a phaser, a barrier, a
 * collective until its 5-minute timeout), fails the bound. The bound is generous (30 s): this tests "no hang", not
 * speed.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class JobTerminationTest {
    static final DlrmSpec DLRM = NonFiniteGuardTest.SPEC;
    static final long BOUND_MS = 30_000;
    /** Every registered algorithm. */
    static final List<String> MODES = SyncAlgorithms.names();

    enum Fault { BAD_LINE, ROUND, WORKER }

    /** The injected failure (not bad input: the CLI exits 1 for it). */
    static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFault(String what) {
            super(what + " failed on purpose");
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String mode : MODES) {
            for (Fault f : Fault.values()) {
                if (f == Fault.ROUND && SyncAlgorithms.get(mode).mode() == SyncSpec.Mode.NONE) continue; // no rounds
                out.add(Arguments.of(mode, f));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void anyFailureEndsTheJobPromptlyWithTheFirstError(String mode, Fault fault) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Throwable> injected = new AtomicReference<>();
        Thread runner = new Thread(() -> {
            try {
                newJob(mode, fault, injected).run();
            } catch (Throwable t) {
                thrown.set(t);
            }
        }, "job-under-test");
        long t0 = System.nanoTime();
        runner.start();
        runner.join(BOUND_MS);
        if (runner.isAlive()) {
            StringBuilder stacks = new StringBuilder();
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                if (!e.getKey().getName().startsWith("trainer-") && e.getKey() != runner) continue;
                stacks.append('\n').append(e.getKey().getName()).append(':');
                for (int i = 0; i < Math.min(6, e.getValue().length); i++) stacks.append("\n    ").append(e.getValue()[i]);
            }
            runner.interrupt();
            fail(mode + ", " + fault + ": the job did not end within " + BOUND_MS / 1000 + " s after the failure" + stacks);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Throwable t = thrown.get();
        assertTrue(t instanceof TrainingException, mode + ", " + fault + ": the job ends with a TrainingException, got " + t);
        assertSame(injected.get(), t.getCause(), mode + ", " + fault + ": the first error, not an echo of it (" + t + ")");
        if (fault == Fault.BAD_LINE) assertTrue(t.getCause() instanceof DataException, "bad input stays bad input");
        List<String> left = new ArrayList<>();
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            if (th.isAlive() && th.getName().startsWith("trainer-")) left.add(th.getName());
        }
        assertEquals(List.of(), left, mode + ", " + fault + ": threads left behind (ended after " + ms + " ms)");
    }

    /** Two trainers of two workers each; one fault, always in trainer 1 (so trainer 0's rounds wait for it). */
    static Job newJob(String mode, Fault fault, AtomicReference<Throwable> injected) {
        int trainers = 2;
        TrainerConfig tc = new TrainerConfig(2, 4, 0, 1_000_000, DataSplit.ROUND_ROBIN, 3, 2, 1000, false);
        JobConfig config = new JobConfig(trainers, tc, new SyncSpec(mode, 5, 0, Double.NaN, 1.0, false, Double.NaN), 1, LinkModel.NONE);
        ModelSpec spec = fault == Fault.WORKER ? new FaultySpec(DLRM, injected) : DLRM;
        Model first = DLRM.build();
        first.initDense(11);
        long[][] shapes = first.embeddingShapes();
        float[] std = new float[shapes.length];
        for (int k = 0; k < std.length; k++) std[k] = first.embeddingInitStd(k);
        OptimizerSpec opt = OptimizerSpec.of("sgd", 0.05);
        EmbeddingOptimizerSpec emb = new EmbeddingOptimizerSpec("sgd", 0.05);
        InProcessCluster local = new InProcessCluster(shapes, std, 11, first.dense().data(), opt, emb, config);
        Cluster cluster = fault == Fault.ROUND ? new FaultyCluster(local, injected) : local;
        DataSource data = NonFiniteGuardTest.source(
                NonFiniteGuardTest.examples(512, 1), fault == Fault.BAD_LINE ? 301 : -1, JobTerminationTest::inTrainer1, injected);
        return new Job(spec, 11, opt, emb, data, config, cluster, new int[] {0, 1});
    }

    /** Whether the calling thread is one of trainer 1's. */
    static boolean inTrainer1() {
        return Thread.currentThread().getName().startsWith("trainer-1");
    }

    /** Builds models whose forwardBackward throws in trainer 1's worker 0 at its 20th call. */
    record FaultySpec(ModelSpec inner, AtomicReference<Throwable> injected) implements ModelSpec {
        @Override
        public String kind() {
            return inner.kind();
        }

        @Override
        public Map<String, String> toProperties() {
            return inner.toProperties();
        }

        @Override
        public Model build() {
            return new FaultyModel(inner.build(), injected);
        }

        @Override
        public long denseParameters() {
            return inner.denseParameters();
        }

        @Override
        public long[][] embeddingShapes() {
            return inner.embeddingShapes();
        }

        @Override
        public long workspaceBytes(long maxBatch) {
            return inner.workspaceBytes(maxBatch);
        }

        @Override
        public long widestBufferPerExample() {
            return inner.widestBufferPerExample();
        }
    }

    /** Delegates to a model; its forwardBackward throws in trainer 1's worker 0 at that worker's 20th call. */
    static final class FaultyModel extends ForwardingModel {
        final AtomicReference<Throwable> injected;
        final AtomicInteger calls = new AtomicInteger();

        FaultyModel(Model inner, AtomicReference<Throwable> injected) {
            super(inner);
            this.injected = injected;
        }

        @Override
        public double forwardBackward(Batch batch, Workspace ws, EmbeddingStore emb) {
            if (Thread.currentThread().getName().equals("trainer-1/worker-0") && calls.incrementAndGet() == 20) {
                InjectedFault f = new InjectedFault("trainer 1's worker 0");
                injected.compareAndSet(null, f);
                throw f;
            }
            return inner.forwardBackward(batch, ws, emb);
        }
    }

    /** The in-process cluster, but trainer 1's third allreduce, exchange or dense-server call throws. */
    static final class FaultyCluster extends ForwardingCluster {
        final AtomicReference<Throwable> injected;
        final AtomicInteger calls = new AtomicInteger();

        FaultyCluster(InProcessCluster inner, AtomicReference<Throwable> injected) {
            super(inner);
            this.injected = injected;
        }

        void maybeFail(int trainer, String what) {
            if (trainer == 1 && calls.incrementAndGet() == 3) {
                InjectedFault f = new InjectedFault("trainer 1's " + what);
                injected.compareAndSet(null, f);
                throw f;
            }
        }

        @Override
        public DenseParameterServer denseServer(int trainer, boolean forSync) {
            DenseParameterServer s = inner.denseServer(trainer, forSync);
            return new DenseParameterServer() {
                @Override
                public int size() {
                    return s.size();
                }

                @Override
                public void pull(float[] dst) throws InterruptedException {
                    maybeFail(trainer, "dense-server pull");
                    s.pull(dst);
                }

                @Override
                public void pushDelta(float[] delta) throws InterruptedException {
                    maybeFail(trainer, "dense-server push");
                    s.pushDelta(delta);
                }

                @Override
                public void pushGradient(float[] grad) throws InterruptedException {
                    maybeFail(trainer, "dense-server push");
                    s.pushGradient(grad);
                }

                @Override
                public long bytes() {
                    return s.bytes();
                }
            };
        }

        @Override
        public Collective trainerGroup(int trainer) {
            return faulty(trainer, inner.trainerGroup(trainer));
        }

        @Override
        public Collective workerGroup(int trainer, int worker) {
            return faulty(worker == 0 ? trainer : -1, inner.workerGroup(trainer, worker));
        }

        private Collective faulty(int trainer, Collective c) {
            return new ForwardingCollective(c) {
                @Override
                public void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException {
                    maybeFail(trainer, "allReduce");
                    inner.allReduce(data, off, len, op);
                }

                @Override
                public void exchange(int peer, float[] send, int sOff, float[] recv, int rOff, int len) throws InterruptedException {
                    maybeFail(trainer, "exchange"); // gossip's rounds: a pairwise exchange, no allreduce until the end
                    inner.exchange(peer, send, sOff, recv, rOff, len);
                }
            };
        }
    }
}
