package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.ArraySource;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.ForwardingReader;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A task that independent trainers cannot learn, so that every synchronization must clearly beat none (the CTR
 * quality tests of {@link JobTest} separate them by little more than their margin). A dense-only linear regression,
 * y = v·x + noise, over 8 features in 4 groups of 2: the examples of trainer r (every 4th, streamed) have only the
 * features of group r non-zero. Each trainer's own data is consistent with v but says nothing of the other 6
 * weights, so without synchronization trainer 0's model has learned a quarter of v (eval MSE near the variance of y,
 * about 4.5 here) and the replicas stay far apart; synchronized, the trainers share what each learns (MSE near the
 * noise, 0.01, measured: at most 0.17, for EASGD in the foreground, whose rounds move only α = 1/8 of the way).
 *
 * <p>The reader of every trainer delivers a batch per millisecond, as from a slow disk: the 4 trainers then train
 * side by side in time on any number of cores, rather than one after the other on a busy machine with few, which
 * would measure the scheduler instead of the synchronization. A whole job takes about a quarter of a second.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SyncBeatsNoneTest {
    static final int GROUPS = 4, DIM = 2 * GROUPS, PER_GROUP = 1500, TRAINERS = GROUPS, BATCH = 32;
    static final MlpSpec SPEC = new MlpSpec(DIM, new int[0], 1, "relu", "regression");
    static DataSource train;
    static InMemorySource eval;

    @BeforeAll
    static void data() throws Exception {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] v = new float[DIM];
        for (int j = 0; j < DIM; j++) v[j] = (float) rnd.nextGaussian();
        train = new Paced(groups(v, PER_GROUP, rnd), TRAINERS * BATCH);
        eval = InMemorySource.load(groups(v, 500, rnd));
    }

    /** Example i belongs to group i mod 4: its features outside the group are 0, y = v·x + N(0, 0.1²). */
    static ArraySource groups(float[] v, int perGroup, SplittableRandom rnd) {
        int n = GROUPS * perGroup;
        float[][] x = new float[n][DIM];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            int g = i % GROUPS;
            double dot = 0;
            for (int j = 2 * g; j < 2 * g + 2; j++) {
                x[i][j] = (float) rnd.nextGaussian();
                dot += v[j] * x[i][j];
            }
            y[i] = (float) (dot + 0.1 * rnd.nextGaussian());
        }
        return new ArraySource(x, y, 0, -1);
    }

    /** A source whose readers sleep 1 ms every {@code every} examples they read. */
    record Paced(DataSource source, int every) implements DataSource {
        @Override
        public DataSchema schema() {
            return source.schema();
        }

        @Override
        public String describe() {
            return source.describe();
        }

        @Override
        public ExampleReader open() throws IOException {
            return new ForwardingReader(source.open()) {
                long read;

                @Override
                public boolean readInto(Batch b) throws IOException {
                    if (++read % every == 0) {
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException("stopped while pacing the test data");
                        }
                    }
                    return inner.readInto(b);
                }
            };
        }
    }

    /** @param spread the largest distance of a replica from trainer 0's, relative to the size of trainer 0's */
    record Outcome(Metrics metrics, double spread) {}

    static Outcome run(String algorithm) throws Exception {
        TrainerConfig tc = new TrainerConfig(1, BATCH, 0, 4, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        // foreground rounds every 2 steps, shadow rounds at most every millisecond (a batch's time)
        SyncSpec sync = new SyncSpec(algorithm, 2, 1, Double.NaN, 1.0, false, Double.NaN);
        // asynchronous SGD applies every worker's gradient to the one model: the rate of one trainer over N
        double lr = sync.mode() == SyncSpec.Mode.ASYNC_PS ? 0.05 / TRAINERS : 0.05;
        Job job = new Job(SPEC, 5, OptimizerSpec.of("sgd", lr), new EmbeddingOptimizerSpec("sgd", 0.1), train,
                new JobConfig(TRAINERS, tc, sync, 1, LinkModel.NONE));
        JobResult r = job.run();
        assertEquals(4L * GROUPS * PER_GROUP, r.examples(), algorithm + " trains on every example");
        Metrics m = Evaluator.evaluate(job.model(), job.tables(), eval, 256).metrics();
        float[] w0 = job.replica(0);
        double norm = 0, spread = 0;
        for (float v : w0) norm += (double) v * v;
        for (int t = 1; t < TRAINERS; t++) {
            float[] w = job.replica(t);
            double d = 0;
            for (int i = 0; i < w.length; i++) d += (double) (w[i] - w0[i]) * (w[i] - w0[i]);
            spread = Math.max(spread, Math.sqrt(d / norm));
            if (sync.descriptor().trainerGroup()) {
                assertArrayEquals(w0, w, algorithm + ": after the last round replica " + t + " is replica 0, bit for bit");
            }
        }
        return new Outcome(m, spread);
    }

    @Test
    void withoutSynchronizationTrainerZeroKnowsOnlyItsOwnFeatures() throws Exception {
        Outcome o = run("none");
        assertTrue(o.metrics().mse() > 2.0, "trainer 0 learned a quarter of the weights: eval MSE " + o.metrics().mse());
        assertTrue(o.spread() > 1.0, "independent replicas stay apart: " + o.spread());
    }

    /** Every registered algorithm with replicas to synchronize (not none; async-ps has no replicas, see below). */
    static List<String> synchronizing() {
        return SyncAlgorithms.all().stream()
                .filter(d -> d.mode() != SyncSpec.Mode.NONE && d.mode() != SyncSpec.Mode.ASYNC_PS).map(AlgorithmDescriptor::name).toList();
    }

    @ParameterizedTest
    @MethodSource("synchronizing")
    void everySynchronizationLearnsEveryTrainersFeatures(String algorithm) throws Exception {
        Outcome o = run(algorithm);
        assertTrue(o.metrics().mse() < 0.5, algorithm + ": trainer 0's model on every group, eval MSE " + o.metrics().mse());
        // EASGD's replicas only orbit the center (each took it when its own workers were done): close, not equal
        assertTrue(o.spread() < 0.6, algorithm + ": the replicas stay together, spread " + o.spread());
    }

    @Test
    void asynchronousSgdLearnsEveryTrainersFeatures() throws Exception {
        // no replicas to compare: the model is the server's, every worker's gradients go into it
        Outcome o = run("async-ps");
        assertTrue(o.metrics().mse() < 0.5, "async-ps: eval MSE " + o.metrics().mse());
    }
}
