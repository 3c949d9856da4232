package io.shadowsync.spark;

import io.shadowsync.data.Batch;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The one SparkSession of the spark module's tests (local[4] on 127.0.0.1, no UI), and the synthetic CTR rows they
 * train on: written by core's generator, read by core's Criteo reader, so that a DataFrame and the library see the
 * very same examples.
 */
final class LocalSpark {
    static final int DENSE = 13;
    static final int CAT = 26;
    private static SparkSession session;
    private static Ctr ctr;

    private LocalSpark() {}

    static synchronized SparkSession session() {
        if (session == null) {
            long t0 = System.nanoTime();
            session = SparkSession.builder().master("local[4]").appName("shadowsync-tests")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                    .config("spark.stage.maxConsecutiveAttempts", "4")
                    // the in-memory object store of the tests (no rename), as any Hadoop file system is configured
                    .config("spark.hadoop.fs." + MemTestFileSystem.SCHEME + ".impl", MemTestFileSystem.class.getName())
                    .config("spark.sql.warehouse.dir", Path.of(System.getProperty("java.io.tmpdir"), "shadowsync-spark-warehouse").toUri().toString())
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
            System.err.printf("spark session: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
        }
        return session;
    }

    /** Training and evaluation rows: in memory for the library, as DataFrames for Spark. */
    record Ctr(Path dir, InMemorySource train, InMemorySource eval, Dataset<Row> trainDf, Dataset<Row> evalDf) {}

    /** 24,000 training and 8,000 evaluation rows of the synthetic CTR task (vocabulary 1,000 ids per field). */
    static synchronized Ctr ctr() {
        if (ctr == null) {
            long t0 = System.nanoTime();
            try {
                Path dir = Files.createTempDirectory("shadowsync-spark-ctr");
                dir.toFile().deleteOnExit();
                new SyntheticCtr(new SyntheticCtr.Config(24_000, 8_000, 7, 1_000)).generate(dir);
                InMemorySource train = InMemorySource.load(new CriteoTsvSource(dir.resolve("train.tsv"), false));
                InMemorySource eval = InMemorySource.load(new CriteoTsvSource(dir.resolve("eval.tsv"), false));
                ctr = new Ctr(dir, train, eval, frame(train), frame(eval));
                System.err.printf("test data: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ctr;
    }

    static String[] denseCols() {
        String[] c = new String[DENSE];
        for (int j = 0; j < DENSE; j++) c[j] = "d" + j;
        return c;
    }

    static String[] catCols() {
        String[] c = new String[CAT];
        for (int j = 0; j < CAT; j++) c[j] = "c" + j;
        return c;
    }

    /** label (double), d0..d12 (float), c0..c25 (int): the examples exactly as core's reader gives them. */
    static Dataset<Row> frame(DataSource source) throws IOException {
        return frame(session(), source);
    }

    /** As {@link #frame(DataSource)}, in the given session. */
    static Dataset<Row> frame(SparkSession spark, DataSource source) throws IOException {
        List<StructField> f = new ArrayList<>();
        f.add(DataTypes.createStructField("label", DataTypes.DoubleType, false));
        for (String d : denseCols()) f.add(DataTypes.createStructField(d, DataTypes.FloatType, false));
        for (String c : catCols()) f.add(DataTypes.createStructField(c, DataTypes.IntegerType, false));
        List<Row> rows = new ArrayList<>();
        Batch b = new Batch(1, source.schema());
        try (ExampleReader r = source.open()) {
            while (r.readInto(b)) {
                Object[] v = new Object[1 + DENSE + CAT];
                v[0] = (double) b.labels[0];
                for (int j = 0; j < DENSE; j++) v[1 + j] = b.dense[j];
                for (int j = 0; j < CAT; j++) v[1 + DENSE + j] = b.cat[j];
                rows.add(RowFactory.create(v));
                b.clear();
            }
        }
        return spark.createDataFrame(rows, new StructType(f.toArray(new StructField[0]))).repartition(4).cache();
    }
}
