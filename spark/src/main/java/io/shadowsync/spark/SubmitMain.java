package io.shadowsync.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.data.InMemorySource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;

/**
 * {@code spark-submit --class io.shadowsync.spark.SubmitMain shadowsync-spark.jar JOB.yaml --input PATH
 * --format parquet|csv|libsvm|criteo [--eval PATH] [--save DIR]}: trains the job a {@code shadowsync train} job file
 * describes, with its trainers as one barrier stage of this Spark application. Prints the summary as one JSON line
 * on stdout (with {@code eval} metrics when there is evaluation data); {@code --save} (or {@code save:} in the file)
 * writes the Spark ML model directory, whose {@code model/shadowsync.model} {@code shadowsync eval} reads.
 * Bad arguments and job files exit 2 with one sentence; a failure inside training exits 1.
 */
public final class SubmitMain {
    /** Job-file keys (shadowsync train's long option names) and the estimator setting each becomes. */
    private static final Map<String, BiConsumer<ShadowSyncEstimator<?>, JsonNode>> KEYS = new LinkedHashMap<>();
    /** Keys of the CLI that mean nothing in a Spark application: accepted, said, ignored. */
    private static final Set<String> IGNORED = Set.of("in-memory", "log-every", "no-progress", "verbose", "queue-depth", "train-window",
            "eval-batch", "skip-bad-lines", "resume");

    static {
        KEYS.put("model", (e, v) -> e.setModelType(v.asText()));
        KEYS.put("hidden", (e, v) -> e.setHidden(ints(v)));
        KEYS.put("activation", (e, v) -> e.setActivation(v.asText()));
        KEYS.put("hash-bits", (e, v) -> e.setHashBits(v.asInt()));
        KEYS.put("emb-rows", (e, v) -> e.setEmbRows(v.asLong()));
        KEYS.put("emb-dim", (e, v) -> e.setEmbDim(v.asInt()));
        KEYS.put("bottom", (e, v) -> e.setBottom(ints(v)));
        KEYS.put("top", (e, v) -> e.setTop(ints(v)));
        KEYS.put("optimizer", (e, v) -> e.setOptimizer(v.asText()));
        KEYS.put("lr", (e, v) -> e.setLearningRate(v.asDouble()));
        KEYS.put("momentum", (e, v) -> e.setMomentum(v.asDouble()));
        KEYS.put("emb-optimizer", (e, v) -> e.setEmbOptimizer(v.asText()));
        KEYS.put("emb-lr", (e, v) -> e.setEmbLearningRate(v.asDouble()));
        KEYS.put("batch", (e, v) -> e.setBatchSize(v.asInt()));
        KEYS.put("epochs", (e, v) -> e.setEpochs(v.asInt()));
        KEYS.put("examples", (e, v) -> e.setExamples(v.asLong()));
        KEYS.put("seed", (e, v) -> e.setSeed(v.asLong()));
        KEYS.put("shuffle", (e, v) -> e.setShuffle(v.asBoolean()));
        KEYS.put("trainers", (e, v) -> e.setNumTrainers(v.asInt()));
        KEYS.put("workers", (e, v) -> e.setWorkers(v.asInt()));
        KEYS.put("sync", (e, v) -> e.setSync(v.asText()));
        KEYS.put("sync-every", (e, v) -> e.setSyncEvery(v.asInt()));
        KEYS.put("sync-interval-ms", (e, v) -> e.setSyncIntervalMs(v.asLong()));
        KEYS.put("gossip-schedule", (e, v) -> e.setGossipSchedule(v.asText()));
        KEYS.put("compress", (e, v) -> e.setCompress(v.asText()));
        KEYS.put("codec", (e, v) -> e.setCompress(v.asText())); // train's --codec, the same option
        KEYS.put("bmuf-momentum", (e, v) -> e.setBmufMomentum(v.asDouble()));
        KEYS.put("easgd-alpha", (e, v) -> e.setEasgdAlpha(v.asDouble()));
        KEYS.put("ps-shards", (e, v) -> e.setPsShards(v.asInt()));
        KEYS.put("ps-placement", (e, v) -> e.setPsPlacement(v.asText()));
        KEYS.put("checkpoint-dir", (e, v) -> e.setCheckpointDir(v.asText()));
        KEYS.put("checkpoint-every-sec", (e, v) -> e.setCheckpointEverySec(v.asDouble()));
        KEYS.put("checkpoint-every-examples", (e, v) -> e.setCheckpointEveryExamples(v.asLong()));
        KEYS.put("keep", (e, v) -> e.setKeepCheckpoints(v.asInt()));
        KEYS.put("share-memory-fraction", (e, v) -> e.setShareMemoryFraction(v.asDouble()));
        KEYS.put("classes", (e, v) -> e.setNumClasses(v.asInt()));
        KEYS.put("label-col", (e, v) -> e.setLabelCol(v.asText()));
        KEYS.put("features-col", (e, v) -> e.setFeaturesCol(v.asText()));
        KEYS.put("dense-cols", (e, v) -> e.setDenseCols(strings(v)));
        KEYS.put("categorical-cols", (e, v) -> e.setCategoricalCols(strings(v)));
    }

    private SubmitMain() {}

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (UsageError e) {
            System.err.println("shadowsync-spark: " + e.getMessage());
            code = 2;
        } catch (Exception e) {
            System.err.println("shadowsync-spark: training failed: " + (e.getMessage() != null ? e.getMessage() : e));
            code = 1;
        }
        System.exit(code);
    }

    /** A bad argument or job file: exit 2 with the message. */
    static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }

    static int run(String[] args) throws IOException {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println("usage: spark-submit --class io.shadowsync.spark.SubmitMain shadowsync-spark.jar JOB.yaml --input PATH "
                    + "--format parquet|csv|libsvm|criteo [--eval PATH] [--save DIR]");
            return args.length == 0 ? 2 : 0;
        }
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            String f = args[i];
            if (!List.of("--input", "--format", "--eval", "--save").contains(f)) throw new UsageError("unknown argument '" + f + "' (see --help)");
            if (i + 1 >= args.length) throw new UsageError(f + " needs a value");
            flags.put(f.substring(2), args[++i]);
        }
        Path jobFile = Path.of(args[0]);
        JsonNode job = readJob(jobFile);
        Map<String, String> paths = new LinkedHashMap<>();
        for (String k : List.of("train", "eval", "save", "summary-json", "format")) {
            if (job.has(k)) paths.put(k, job.get(k).asText());
        }
        String input = flags.getOrDefault("input", paths.get("train"));
        if (input == null) throw new UsageError("no training data: give --input PATH (or 'train:' in " + jobFile + ")");
        String format = flags.getOrDefault("format", paths.getOrDefault("format", "parquet")).toLowerCase(Locale.ROOT);
        String eval = flags.getOrDefault("eval", paths.get("eval"));
        String save = flags.getOrDefault("save", paths.get("save"));

        List<String> ignored = new ArrayList<>();
        ShadowSyncEstimator<?> est = estimator(jobFile, job, paths.keySet(), ignored);
        if (!ignored.isEmpty()) System.err.println("shadowsync-spark: not used in a Spark job: " + String.join(", ", ignored));

        long t0 = System.nanoTime();
        SparkSession spark = SparkSession.builder().getOrCreate();
        double sessionSeconds = (System.nanoTime() - t0) / 1e9;
        Dataset<Row> train = read(spark, format, input, est);
        if (est.getDenseCols().length == 0 && est.getCategoricalCols().length == 0 && !format.equals("libsvm")) {
            List<String> dense = new ArrayList<>(), cat = new ArrayList<>();
            for (StructField f : train.schema().fields()) {
                if (f.name().equals(est.getLabelCol())) continue;
                if (f.dataType().equals(DataTypes.IntegerType) && format.equals("criteo")) cat.add(f.name());
                else if (f.dataType() instanceof NumericType) dense.add(f.name());
                else throw new UsageError(input + ": column '" + f.name() + "' is " + f.dataType().simpleString()
                            + ", not a number; name the feature columns with 'dense-cols' and 'categorical-cols' in the job file");
            }
            est.setDenseCols(dense.toArray(new String[0])).setCategoricalCols(cat.toArray(new String[0]));
        }
        ShadowSyncModel model;
        long t1 = System.nanoTime();
        try {
            model = est.fit(train);
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
        double fitSeconds = (System.nanoTime() - t1) / 1e9;
        Map<String, Object> summary = new LinkedHashMap<>(model.summary());
        // what Spark adds around training: starting the session, and the stage's reading, dealing and loading of the rows
        Map<String, Object> around = new LinkedHashMap<>();
        around.put("session_seconds", Math.round(sessionSeconds * 1000) / 1000.0);
        around.put("fit_seconds", Math.round(fitSeconds * 1000) / 1000.0);
        summary.put("spark", around);
        if (eval != null) {
            Dataset<Row> ev = read(spark, format, eval, est);
            TrainedModel m = model.trainedModel();
            RowLayout layout = RowLayout.resolve(ev, est.getLabelCol(), est.getFeaturesCol(), est.getDenseCols(), est.getCategoricalCols(),
                    m.schema().numClasses(), m.schema().numDense());
            // scored on the driver by core, as shadowsync eval scores a file: the same metrics
            InMemorySource rows = PartitionData.load(ev.toLocalIterator(), layout, eval);
            summary.put("eval", m.evaluate(rows).toMap());
        }
        if (save != null) {
            model.write().overwrite().save(save);
            summary.put("saved", save);
        }
        String json = new ObjectMapper().writeValueAsString(summary);
        if (paths.containsKey("summary-json")) Files.writeString(Path.of(paths.get("summary-json")), json + "\n");
        System.out.println(json);
        return 0;
    }

    /**
     * The estimator a job file's settings give (every key but those in {@code skip}); the keys a Spark job does not use
     * are added to {@code ignored}, one it does not know is refused naming it.
     */
    static ShadowSyncEstimator<?> estimator(Path jobFile, JsonNode job, Set<String> skip, List<String> ignored) {
        int classes = job.has("classes") ? job.get("classes").asInt() : 2;
        ShadowSyncEstimator<?> est = classes == 0 ? new ShadowSyncRegressor() : new ShadowSyncClassifier();
        for (Map.Entry<String, JsonNode> e : job.properties()) {
            String k = e.getKey();
            if (skip.contains(k)) continue;
            if (IGNORED.contains(k)) {
                ignored.add(k);
                continue;
            }
            BiConsumer<ShadowSyncEstimator<?>, JsonNode> set = KEYS.get(k);
            if (set == null) throw new UsageError(jobFile + ": key '" + k + "' is not one a Spark job takes (keys: " + String.join(", ", KEYS.keySet()) + ")");
            try {
                set.accept(est, e.getValue());
            } catch (IllegalArgumentException x) {
                throw new UsageError(jobFile + ": key '" + k + "': " + x.getMessage());
            }
        }
        return est;
    }

    /** The job file: a mapping of keys to values or lists, as shadowsync train reads it. */
    static JsonNode readJob(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UsageError(file + ": no such job file");
        } catch (IOException e) {
            throw new UsageError(file + ": not a readable YAML job file (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) throw new UsageError(file + ": a job file is a mapping of option names to values, e.g. 'model: dlrm'");
        return root;
    }

    /** The data as a DataFrame the estimator reads: label column plus features, per format. */
    static Dataset<Row> read(SparkSession spark, String format, String path, ShadowSyncEstimator<?> est) {
        switch (format) {
            case "parquet" -> {
                return spark.read().parquet(path);
            }
            case "csv" -> {
                return spark.read().option("header", "true").option("inferSchema", "true").csv(path);
            }
            case "libsvm" -> {
                return spark.read().format("libsvm").load(path);
            }
            case "criteo" -> {
                // as core's Criteo reader: label, 13 counts as log1p(max(count, 0)), 26 hex ids (empty: 0)
                Dataset<Row> raw = spark.read().option("sep", "\t").csv(path);
                List<Column> cols = new ArrayList<>();
                cols.add(functions.col("_c0").cast(DataTypes.DoubleType).as(est.getLabelCol()));
                for (int j = 0; j < 13; j++) {
                    Column count = functions.coalesce(functions.col("_c" + (1 + j)).cast(DataTypes.LongType), functions.lit(0L));
                    cols.add(functions.log1p(functions.greatest(count, functions.lit(0L))).cast(DataTypes.FloatType).as("d" + j));
                }
                for (int j = 0; j < 26; j++) {
                    // 8 hex digits are 32 bits: above 7fffffff they are the negative ints core's reader makes of them
                    Column id = functions.coalesce(functions.conv(functions.col("_c" + (14 + j)), 16, 10), functions.lit("0")).cast(DataTypes.LongType);
                    Column wrapped = functions.when(id.geq(1L << 31), id.minus(1L << 32)).otherwise(id);
                    cols.add(wrapped.cast(DataTypes.IntegerType).as("c" + j));
                }
                return raw.select(cols.toArray(new Column[0]));
            }
            default -> throw new UsageError("--format " + format + ": give parquet, csv, libsvm or criteo");
        }
    }

    private static int[] ints(JsonNode v) {
        if (!v.isArray()) return new int[] {v.asInt()};
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i).asInt();
        return out;
    }

    private static String[] strings(JsonNode v) {
        if (!v.isArray()) return Arrays.stream(v.asText().split(",")).map(String::trim).toArray(String[]::new);
        String[] out = new String[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i).asText();
        return out;
    }
}
