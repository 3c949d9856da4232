package io.shadowsync.spark;

import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Run by {@link SeparateExecutorsTest} in a child JVM: a Spark local-cluster (a master, workers and executors in
 * JVMs of their own, all on 127.0.0.1) fits the CTR rows of args[0] with 2 trainers and prints
 * "examples=N logloss=X executors=K" for the test to check.
 */
public final class ClusterMain {
    private ClusterMain() {}

    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("shadowsync-local-cluster")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.executor.memory", "768m")
                .config("spark.sql.warehouse.dir", Path.of(args[0], "warehouse").toUri().toString()).getOrCreate();
        try {
            Path dir = Path.of(args[0]);
            InMemorySource train = InMemorySource.load(new CriteoTsvSource(dir.resolve("train.tsv"), false));
            InMemorySource eval = InMemorySource.load(new CriteoTsvSource(dir.resolve("eval.tsv"), false));
            Dataset<Row> df = LocalSpark.frame(spark, train);
            ShadowSyncModel m = new ShadowSyncClassifier().setDenseCols(LocalSpark.denseCols()).setCategoricalCols(LocalSpark.catCols())
                    .setModelType("dlrm").setEmbRows(1_000).setEmbDim(8).setBottom(16).setTop(16).setLearningRate(0.3).setNumTrainers(2)
                    .setPsShards(2).fit(df);
            long executors = spark.sparkContext().getExecutorMemoryStatus().size() - 1; // less the driver's
            System.out.println("examples=" + m.summary().get("examples") + " logloss=" + m.trainedModel().evaluate(eval).logloss()
                    + " executors=" + executors + " rows=" + train.size());
        } finally {
            spark.stop();
        }
    }
}
