package io.shadowsync.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.CsvSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.MlpSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java API end to end: a job built and run, its model saved, loaded and used to predict. */
class TrainingJobTest {
    @TempDir
    static Path dir;
    static SyntheticCtr.Summary gen;
    static TrainingResult trained;

    static DataSource train() {
        return new CriteoTsvSource(dir.resolve("ctr/train.tsv"), false);
    }

    static DataSource eval() {
        return new CriteoTsvSource(dir.resolve("ctr/eval.tsv"), false);
    }

    @BeforeAll
    static void trainOnce() throws Exception {
        gen = new SyntheticCtr(new SyntheticCtr.Config(20_000, 4_000, 7, 100)).generate(dir.resolve("ctr"));
        trained = TrainingJob.builder()
                .data(train()).eval(eval())
                .model(new DlrmSpec(13, 26, 100, 8, new int[] {32}, new int[] {32}))
                .trainers(2).workers(2).sync("s-ma").epochs(2)
                .build().run();
    }

    /** Catches a builder that drops a setting on the way to the engine, or a job that does not learn. */
    @Test
    void trainsWhatTheBuilderSays() {
        assertEquals(2 * 20_000, trained.examples());
        assertEquals(2, trained.job().trainers().length);
        assertTrue(trained.eval().logloss() < gen.evalConstantLogloss() - 0.01,
                "eval logloss " + trained.eval().logloss() + " vs constant " + gen.evalConstantLogloss());
        assertTrue(trained.eval().auc() > 0.6, "auc " + trained.eval().auc());
    }

    /** Catches provenance that leaves out the job's settings, the data's fingerprint or the metrics. */
    @Test
    void theModelKnowsHowItWasTrained() throws Exception {
        Provenance p = trained.model().provenance();
        assertEquals("s-ma", p.algorithm());
        assertEquals(2, p.trainers());
        assertEquals(2, p.workers());
        assertEquals(train().fingerprint(), p.dataFingerprint());
        assertEquals(train().describe(), p.trainData());
        assertEquals("dlrm", p.settings().get("model.kind"));
        assertEquals("2", p.settings().get("epochs"));
        assertEquals("128", p.settings().get("batch"));
        assertEquals(trained.eval().auc(), p.metrics().get("eval.auc"), 0);
        assertEquals(trained.trainLoss(), p.metrics().get("train_loss"), 0);
        assertTrue(p.created() != null && p.version() != null);
    }

    /** Catches a save or load that changes a parameter, a table row or the provenance. */
    @Test
    void savedAndLoadedPredictsTheSame() throws Exception {
        Path f = dir.resolve("dlrm.bin");
        trained.model().save(f);
        TrainedModel loaded = TrainedModel.load(f);
        assertEquals(trained.model().provenance(), loaded.provenance());
        assertEquals(trained.model().spec(), loaded.spec());
        Batch b = firstBatch(eval(), 500);
        assertArrayEquals(trained.model().predict(b), loaded.predict(b));
        assertEquals(trained.eval().logloss(), loaded.evaluate(eval()).logloss(), 1e-12);
    }

    /** Catches a single-example path that fills the batch otherwise than a reader (a field shifted, a feature dropped). */
    @Test
    void oneExampleAtATimeScoresAsTheBatch() throws Exception {
        TrainedModel m = trained.model();
        Batch b = firstBatch(eval(), 300);
        float[] batch = m.predict(b);
        List<Example> examples = examplesOf(b);
        float[][] list = m.predict(examples);
        for (int i = 0; i < b.size; i++) {
            float one = m.predict(examples.get(i))[0];
            assertEquals(batch[i], one, 1e-6f, "example " + i);
            assertEquals(batch[i], list[i][0], 1e-6f, "example " + i);
            assertTrue(one > 0 && one < 1, "a probability: " + one);
        }
        assertTrue(Arrays.stream(examples.toArray()).distinct().count() > 1);
    }

    /** The stated thread safety: threads predicting at once get what one thread gets. */
    @Test
    void manyThreadsPredictAtOnce() throws Exception {
        TrainedModel m = trained.model();
        Batch b = firstBatch(eval(), 200);
        float[] expected = m.predict(b);
        List<Example> examples = examplesOf(b);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> runs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                runs.add(pool.submit(() -> {
                    float[] out = new float[examples.size()];
                    for (int i = 0; i < out.length; i++) out[i] = m.predict(examples.get(i))[0];
                    return out;
                }));
            }
            for (Future<float[]> f : runs) assertArrayEquals(expected, f.get(), 1e-6f);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Class probabilities for a multiclass MLP, one value for regression. */
    @Test
    void multiclassGivesClassProbabilitiesRegressionOneValue() throws Exception {
        StringBuilder csv = new StringBuilder("a,b,y,t\n");
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 600; i++) {
            float a = r.nextFloat(), b = r.nextFloat();
            csv.append(a).append(',').append(b).append(',').append(a > 0.66 ? 2 : a > 0.33 ? 1 : 0).append(',').append(2 * a - b).append('\n');
        }
        Path f = dir.resolve("three.csv");
        Files.writeString(f, csv.toString());
        TrainedModel classes = TrainingJob.builder().data(new CsvSource(f, "y", 3, false)).epochs(3).build().run().model();
        assertEquals(3, classes.outputsPerExample());
        assertTrue(classes.spec() instanceof MlpSpec);
        // the label column 't' of the other task is a feature here; give it as the data file does
        float[] p = classes.predict(Example.ofDense(0.9f, 0.5f, 1.3f));
        assertEquals(3, p.length);
        assertEquals(1.0, p[0] + p[1] + p[2], 1e-5);
        TrainedModel reg = TrainingJob.builder().data(new CsvSource(f, "t", 0, false)).epochs(2).build().run().model();
        assertEquals(1, reg.outputsPerExample());
        assertEquals(1, reg.predict(Example.ofDense(0.9f, 0.5f, 2f)).length);
    }

    /** Bad settings are refused at build() with the setting's name; examples of the wrong layout at predict. */
    @Test
    void refusesWhatCannotWork() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingJob.builder().build()).getMessage().contains("data("));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingJob.builder().data(train()).trainers(0).build())
                .getMessage().contains("trainers(0)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingJob.builder().data(train()).workers(-1).build())
                .getMessage().contains("workers(-1)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingJob.builder().data(train()).batchSize(0).build())
                .getMessage().contains("batchSize(0)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainingJob.builder().data(train()).sync("s-nope").build())
                .getMessage().contains("s-nope"));
        String wrongModel = assertThrows(IllegalArgumentException.class, () -> TrainingJob.builder().data(train())
                .model(new DlrmSpec(10, 26, 100, 4, new int[] {8}, new int[] {8})).build()).getMessage();
        assertTrue(wrongModel.contains("model(") && wrongModel.contains("13 dense"), wrongModel);
        String wrongExample = assertThrows(IllegalArgumentException.class,
                () -> trained.model().predict(Example.ofDense(1f, 2f))).getMessage();
        assertTrue(wrongExample.contains("2 dense features") && wrongExample.contains("13 dense features"), wrongExample);
    }

    /** The defaults: a model fitted to the data, s-ma with several trainers. */
    @Test
    void defaultsFitTheData() {
        TrainingJob j = TrainingJob.builder().data(train()).trainers(3).build();
        assertEquals("dlrm", j.model().kind());
        assertEquals("s-ma", j.config().sync().algorithm());
        assertEquals(128, j.config().trainer().batchSize());
        assertEquals("none", TrainingJob.builder().data(train()).build().config().sync().algorithm());
    }

    static Batch firstBatch(DataSource s, int n) throws Exception {
        Batch b = new Batch(n, s.schema());
        try (ExampleReader r = s.open()) {
            while (!b.isFull() && r.readInto(b)) {
                // fill
            }
        }
        return b;
    }

    static List<Example> examplesOf(Batch b) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < b.size; i++) {
            out.add(Example.of(Arrays.copyOfRange(b.dense, i * b.numDense, (i + 1) * b.numDense),
                    Arrays.copyOfRange(b.cat, i * b.numCat, (i + 1) * b.numCat)));
        }
        return out;
    }
}
