package io.shadowsync.spark;

import io.shadowsync.api.TrainedModel;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/**
 * A model trained by {@link ShadowSyncClassifier} or {@link ShadowSyncRegressor}: {@link #transform} scores a
 * DataFrame with core's {@link TrainedModel} (batch by batch in each partition) and adds, for classification,
 * {@code rawPrediction} and {@code probability} (vectors of the class probabilities) and {@code prediction} (the
 * most probable class); for regression {@code prediction} only. Saved with {@code write().save(path)}: Spark ML's
 * metadata plus the model file {@code path/model/shadowsync.model}, which {@code shadowsync eval} and
 * {@code shadowsync predict} read as they read any model file.
 */
public final class ShadowSyncModel extends Model<ShadowSyncModel> implements ColumnParams, MLWritable {
    private static final long serialVersionUID = 1L;
    /** Where in a saved model's directory the model file is. */
    static final String MODEL_FILE = "model/shadowsync.model";
    /** Examples scored at once in a partition. */
    private static final int BATCH = 1024;

    private final String uid;
    private final ColumnParams.Defs cols;
    private final transient TrainedModel trained;
    private final transient Map<String, Object> summary;

    ShadowSyncModel(String uid, TrainedModel trained, Map<String, Object> summary) {
        this.uid = uid;
        this.trained = trained;
        this.summary = summary;
        this.cols = ColumnParams.Defs.of(this);
    }

    /**
     * The training job's summary, as {@code shadowsync train} prints it (examples, seconds, examples_per_sec, sync
     * rounds, checkpoints...); empty for a model read back from a file.
     */
    public Map<String, Object> summary() {
        return summary == null ? Map.of() : Collections.unmodifiableMap(summary);
    }

    /** The trained model (core's API: predict, evaluate, save as a model file). */
    public TrainedModel trainedModel() {
        return trained;
    }

    /** Classes of the label: 2 for binary, C, or 0 for regression. */
    public int numClasses() {
        return trained.schema().numClasses();
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public ColumnParams.Defs cols() {
        return cols;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return outputSchema(this, schema, numClasses());
    }

    /** schema with the columns a model of numClasses classes (0: regression) adds; a column already there is refused. */
    static StructType outputSchema(ColumnParams p, StructType schema, int numClasses) {
        List<StructField> add = new ArrayList<>();
        if (numClasses > 0) {
            add.add(DataTypes.createStructField(p.getRawPredictionCol(), SQLDataTypes.VectorType(), false));
            add.add(DataTypes.createStructField(p.getProbabilityCol(), SQLDataTypes.VectorType(), false));
        }
        add.add(DataTypes.createStructField(p.getPredictionCol(), DataTypes.DoubleType, false));
        StructType out = schema;
        for (StructField f : add) {
            if (List.of(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("output column '" + f.name() + "' is already in the data: give another name (set" 
                        + Character.toUpperCase(f.name().charAt(0)) + f.name().substring(1) + "Col)");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        DataSchema takes = trained.schema();
        RowLayout layout = RowLayout.resolve(dataset, null, getFeaturesCol(), getDenseCols(), getCategoricalCols(), takes.numClasses(),
                takes.numDense()).withoutLabel();
        DataSchema has = layout.schema();
        if (has.numDense() != takes.numDense() || has.numCat() != takes.numCat()) {
            throw new IllegalArgumentException("the data has " + has.numDense() + " dense features and " + has.numCat()
                    + " categorical columns, the model takes " + takes.numDense() + " and " + takes.numCat());
        }
        Broadcast<byte[]> file = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext()).broadcast(ModelBytes.of(trained));
        int classes = takes.numClasses();
        MapPartitionsFunction<Row, Row> score = rows -> new Scored(rows, ModelBytes.load(file), layout, classes);
        return dataset.toDF().mapPartitions(score, Encoders.row(out));
    }

    /** A partition's rows with their scores appended, scored BATCH rows at a time. */
    private static final class Scored implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final TrainedModel model;
        private final RowLayout layout;
        private final int classes;
        private final Batch batch;
        private final Row[] pending = new Row[BATCH];
        private float[] scores;
        private int at;
        private long seen;

        Scored(Iterator<Row> rows, TrainedModel model, RowLayout layout, int classes) {
            this.rows = rows;
            this.model = model;
            this.layout = layout;
            this.classes = classes;
            this.batch = new Batch(BATCH, layout.schema());
        }

        @Override
        public boolean hasNext() {
            return at < batch.size || rows.hasNext();
        }

        @Override
        public Row next() {
            if (at == batch.size) fill();
            int k = model.outputsPerExample(), i = at++;
            Row r = pending[i];
            int n = r.size();
            Object[] v = new Object[n + (classes > 0 ? 3 : 1)];
            for (int j = 0; j < n; j++) v[j] = r.get(j);
            if (classes == 0) {
                v[n] = (double) scores[i];
            } else {
                double[] prob = new double[classes];
                if (k == 1) {
                    prob[1] = scores[i];
                    prob[0] = 1 - prob[1];
                } else {
                    for (int c = 0; c < k; c++) prob[c] = scores[i * k + c];
                }
                int best = 0;
                for (int c = 1; c < classes; c++) if (prob[c] > prob[best]) best = c;
                v[n] = Vectors.dense(prob.clone());
                v[n + 1] = Vectors.dense(prob);
                v[n + 2] = (double) best;
            }
            return RowFactory.create(v);
        }

        private void fill() {
            if (!rows.hasNext()) throw new NoSuchElementException();
            batch.clear();
            at = 0;
            while (!batch.isFull() && rows.hasNext()) {
                Row r = rows.next();
                pending[batch.size] = r;
                layout.append(r, batch, "row", ++seen);
            }
            scores = model.predict(batch);
        }
    }

    @Override
    public ShadowSyncModel copy(ParamMap extra) {
        ShadowSyncModel m = new ShadowSyncModel(uid, trained, summary);
        copyValues(m, extra);
        return m.setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    public static MLReader<ShadowSyncModel> read() {
        return new Reader();
    }

    public static ShadowSyncModel load(String path) {
        return read().load(path);
    }

    /** Spark ML's metadata (params) and the model file, on any Hadoop-compatible file system. */
    private static final class Writer extends MLWriter {
        private final ShadowSyncModel model;

        Writer(ShadowSyncModel model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            org.apache.spark.ml.util.DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
            try {
                Path local = Files.createTempFile("shadowsync-model", ".bin");
                try {
                    model.trained.save(local);
                    org.apache.hadoop.fs.Path dest = new org.apache.hadoop.fs.Path(path, MODEL_FILE);
                    Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
                    dest.getFileSystem(conf).copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(local.toUri()), dest);
                } finally {
                    Files.deleteIfExists(local);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not write the model file into " + path + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Reader extends MLReader<ShadowSyncModel> {
        @Override
        public ShadowSyncModel load(String path) {
            DefaultParamsReader.Metadata meta = org.apache.spark.ml.util.DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(), ShadowSyncModel.class.getName());
            TrainedModel trained;
            try {
                Path local = Files.createTempFile("shadowsync-model", ".bin");
                try {
                    org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(path, MODEL_FILE);
                    FileSystem fs = src.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
                    fs.copyToLocalFile(false, src, new org.apache.hadoop.fs.Path(local.toUri()), true);
                    trained = TrainedModel.load(local);
                } finally {
                    Files.deleteIfExists(local);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not read the model file of " + path + ": " + e.getMessage(), e);
            }
            ShadowSyncModel m = new ShadowSyncModel(meta.uid(), trained, null);
            meta.getAndSetParams(m, Option.empty());
            return m;
        }
    }

    // ---- params ----


    public ShadowSyncModel setFeaturesCol(String v) { set(cols.features(), v); return this; }
    public ShadowSyncModel setDenseCols(String... v) { set(cols.dense(), v); return this; }
    public ShadowSyncModel setCategoricalCols(String... v) { set(cols.categorical(), v); return this; }
    public ShadowSyncModel setPredictionCol(String v) { set(cols.prediction(), v); return this; }
    public ShadowSyncModel setProbabilityCol(String v) { set(cols.probability(), v); return this; }
    public ShadowSyncModel setRawPredictionCol(String v) { set(cols.rawPrediction(), v); return this; }
}
