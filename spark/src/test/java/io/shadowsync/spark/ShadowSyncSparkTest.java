package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.TrainedModel;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.metrics.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The estimator in Spark local mode (local[4], one shared session) against the library on the same rows. */
class ShadowSyncSparkTest {
    /** A DLRM small enough to train in about a second on a loaded 2-core machine. */
    private static ShadowSyncClassifier dlrm(int trainers, String sync) {
        return new ShadowSyncClassifier().setDenseCols(LocalSpark.denseCols()).setCategoricalCols(LocalSpark.catCols()).setModelType("dlrm")
                .setEmbRows(1_000).setEmbDim(8).setBottom(16).setTop(16).setLearningRate(0.3).setEpochs(2).setNumTrainers(trainers)
                .setSync(sync).setSyncIntervalMs(5).setPsShards(2);
    }

    /** The same job through core's Java API, every trainer in this JVM, on the same rows. */
    private static double libraryLogloss(ShadowSyncClassifier c) throws Exception {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        TrainingJob job = c.settings().job(ctr.train());
        return job.run().model().evaluate(ctr.eval()).logloss();
    }

    @ParameterizedTest(name = "{0} trainers, {1}")
    @CsvSource({"2, s-ma", "4, s-ma", "2, s-easgd", "4, s-easgd"})
    void aFitTrainsAsWellAsTheSameJobInTheLibrary(int trainers, String sync) throws Exception {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        ShadowSyncClassifier c = dlrm(trainers, sync);
        ShadowSyncModel m = c.fit(ctr.trainDf());
        Metrics spark = m.trainedModel().evaluate(ctr.eval());
        double library = libraryLogloss(c);
        // every row trained, each twice, by the stage's trainers together
        assertEquals(2L * ctr.train().size(), ((Number) m.summary().get("examples")).longValue(), "summary " + m.summary());
        assertEquals(trainers, ((Number) m.summary().get("trainers")).intValue(), "summary " + m.summary());
        assertTrue(Math.abs(spark.logloss() - library) < 0.01, "spark " + spark.logloss() + " vs library " + library);
        assertTrue(spark.logloss() < 0.95 * constantLogloss(), "learned something: " + spark.logloss() + " vs constant " + constantLogloss());
    }

    private static boolean committed(String dir) {
        try {
            return new io.shadowsync.ckpt.CheckpointDir(new HadoopCheckpointStore(dir, MemTestFileSystem.configuration()), 2).newestVerified().isPresent();
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    private static double constantLogloss() {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        double p = ctr.evalDf().agg(org.apache.spark.sql.functions.avg("label")).head().getDouble(0);
        return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    }

    @Test
    void transformScoresAsTheModelFileDoesAndSavesAndLoadsBack(@TempDir Path tmp) throws Exception {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        ShadowSyncModel m = dlrm(2, "s-ma").setEpochs(1).fit(ctr.trainDf());
        Dataset<Row> scored = m.transform(ctr.evalDf());
        double auc = new BinaryClassificationEvaluator().setNumBins(0).evaluate(scored);
        // the CLI's eval: the model file, read back, evaluated by core on the same rows
        Path file = tmp.resolve("m.bin");
        m.trainedModel().save(file);
        Metrics cli = TrainedModel.load(file).evaluate(ctr.eval());
        assertEquals(cli.auc(), auc, 1e-6);
        assertEquals(ctr.eval().size(), scored.count());

        String dir = tmp.resolve("saved").toString();
        m.write().save(dir);
        ShadowSyncModel back = ShadowSyncModel.load(dir);
        assertEquals(m.uid(), back.uid());
        assertArrayEquals(m.getCategoricalCols(), back.getCategoricalCols());
        assertTrue(Files.isRegularFile(Path.of(dir, ShadowSyncModel.MODEL_FILE)), "the model file is inside");
        assertEquals(cli.logloss(), TrainedModel.load(Path.of(dir, ShadowSyncModel.MODEL_FILE)).evaluate(ctr.eval()).logloss(), 0.0);
        List<Row> a = m.transform(ctr.evalDf()).select("probability").collectAsList();
        List<Row> b = back.transform(ctr.evalDf()).select("probability").collectAsList();
        for (int i = 0; i < a.size(); i++) assertEquals(((Vector) a.get(i).get(0)).apply(1), ((Vector) b.get(i).get(0)).apply(1), 0.0);
    }

    @Test
    void aPipelineAssemblesTheFeaturesTrainsAndSavesAsOne(@TempDir Path tmp) throws Exception {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        VectorAssembler assemble = new VectorAssembler().setInputCols(LocalSpark.denseCols()).setOutputCol("features");
        ShadowSyncClassifier lr = new ShadowSyncClassifier().setModelType("mlp").setHidden(16).setNumTrainers(2).setSync("s-ma")
                .setLearningRate(0.05).setPsShards(1);
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {assemble, lr}).fit(ctr.trainDf());
        double auc = new BinaryClassificationEvaluator().setNumBins(0).evaluate(model.transform(ctr.evalDf()));
        assertTrue(auc > 0.6, "AUC " + auc + " from the dense features alone");
        String dir = tmp.resolve("pipeline").toString();
        model.write().save(dir);
        double again = new BinaryClassificationEvaluator().setNumBins(0).evaluate(PipelineModel.load(dir).transform(ctr.evalDf()));
        assertEquals(auc, again, 1e-12); // the same scores; the evaluator's sums may add up in another order
    }

    /**
     * Shares larger than their part of the executor's memory (a tiny fraction here) are spilled to local files and
     * streamed from there: the fit trains every example of its budget and as well as the same job in the library, and
     * the files are gone afterwards. Fails on: a spill that loses or repeats rows (the budget or the quality), a spill
     * file read back wrongly (the quality), files left behind, or no spill at all (the count).
     */
    @Test
    void sharesLargerThanTheirMemorySpillToLocalFilesAndTrainTheSame() throws Exception {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        int spills = SpilledShare.SPILLS.get();
        ShadowSyncClassifier c = dlrm(2, "s-ma");
        ShadowSyncModel m = c.setShareMemoryFraction(1e-6).fit(ctr.trainDf());
        assertEquals(spills + 2, SpilledShare.SPILLS.get(), "both trainers' shares spilled");
        assertEquals(2L * ctr.train().size(), ((Number) m.summary().get("examples")).longValue(), "summary " + m.summary());
        try (var files = java.nio.file.Files.list(Path.of(org.apache.spark.SparkFiles.getRootDirectory()))) {
            assertEquals(List.of(), files.map(Path::toString).filter(f -> f.contains("shadowsync-share-")).toList(), "spill files deleted");
        }
        double spilled = m.trainedModel().evaluate(ctr.eval()).logloss();
        double library = libraryLogloss(dlrm(2, "s-ma"));
        assertTrue(Math.abs(spilled - library) < 0.01, "spilled " + spilled + " vs library " + library);
    }

    @Test
    void aTaskKilledMidTrainingFailsTheStageWhichResumesFromTheCheckpoint() throws Exception {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        // checkpoints through Hadoop's FileSystem, on an object store without rename (the tests' in-memory one)
        String dir = MemTestFileSystem.SCHEME + ":///kill-and-resume-" + System.nanoTime();
        int renames = MemTestFileSystem.RENAMES.get();
        AtomicInteger killed = new AtomicInteger();
        // 6 epochs, not 2: the watcher polls every 200 ms, and on idle cores 2 epochs ended before it saw a committed
        // checkpoint with trainer 1 past a quarter (the hook never fired)
        int epochs = 6;
        long total = epochs * (long) ctr.train().size();
        TaskRun.hook = (rank, attempt, examples) -> {
            // trainer 1 of the first attempt dies once it is past a quarter of the budget and a checkpoint is
            // committed (on a loaded machine the checkpointer's round may come later than the examples say)
            if (rank == 1 && attempt == 0 && examples > total / 4 && committed(dir)
                    && killed.getAndIncrement() == 0) {
                throw new IllegalStateException("killed on purpose by the test");
            }
        };
        ShadowSyncModel m;
        try {
            m = dlrm(2, "s-ma").setEpochs(epochs).setCheckpointDir(dir).setCheckpointEveryExamples(4_000).fit(ctr.trainDf());
        } finally {
            TaskRun.hook = null;
        }
        assertEquals(1, killed.get(), "the hook fired once");
        @SuppressWarnings("unchecked")
        Map<String, Object> ck = (Map<String, Object>) m.summary().get("checkpoint");
        assertNotNull(ck, "summary " + m.summary());
        assertNotNull(ck.get("resumed_from"), "the retried stage resumed: " + ck);
        assertTrue(((String) ck.get("resumed_from")).startsWith("memtest:/kill-and-resume-"), "from the Hadoop store: " + ck);
        assertEquals(renames, MemTestFileSystem.RENAMES.get(), "nothing renamed on a store without rename");
        assertEquals(total, ((Number) m.summary().get("examples")).longValue(), "the budget, exactly: " + m.summary());
        double resumed = m.trainedModel().evaluate(ctr.eval()).logloss();
        double library = libraryLogloss(dlrm(2, "s-ma").setEpochs(epochs));
        assertTrue(Math.abs(resumed - library) < 0.01, "resumed " + resumed + " vs uninterrupted " + library);
    }
}
