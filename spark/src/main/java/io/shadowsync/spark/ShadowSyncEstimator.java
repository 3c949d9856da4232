package io.shadowsync.spark;

import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link ShadowSyncClassifier} and {@link ShadowSyncRegressor} share: the columns, the model, the optimizer, the
 * trainers and their synchronization, checkpoints. {@link #fit} trains in one Spark barrier stage (see
 * {@link BarrierTraining}) and returns a {@link ShadowSyncModel}.
 */
public abstract class ShadowSyncEstimator<E extends ShadowSyncEstimator<E>> extends Estimator<ShadowSyncModel>
        implements ColumnParams, DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final ColumnParams.Defs cols;
    private final Param<String> modelType;
    private final IntArrayParam hidden;
    private final Param<String> activation;
    private final IntParam hashBits;
    private final LongParam embRows;
    private final IntParam embDim;
    private final IntArrayParam bottom;
    private final IntArrayParam top;
    private final Param<String> optimizer;
    private final DoubleParam learningRate;
    private final DoubleParam momentum;
    private final Param<String> embOptimizer;
    private final DoubleParam embLearningRate;
    private final IntParam batchSize;
    private final IntParam epochs;
    private final LongParam examples;
    private final LongParam seed;
    private final BooleanParam shuffle;
    private final IntParam numTrainers;
    private final IntParam workers;
    private final Param<String> sync;
    private final IntParam syncEvery;
    private final LongParam syncIntervalMs;
    private final DoubleParam bmufMomentum;
    private final DoubleParam easgdAlpha;
    private final Param<String> gossipSchedule;
    private final Param<String> compress;
    private final IntParam psShards;
    private final Param<String> psPlacement;
    private final Param<String> checkpointDir;
    private final DoubleParam checkpointEverySec;
    private final LongParam checkpointEveryExamples;
    private final IntParam keepCheckpoints;
    private final DoubleParam shareMemoryFraction;
    private final IntParam numClasses;

    @SuppressWarnings("this-escape") // Spark ML params name their owner by its uid, set first
    protected ShadowSyncEstimator(String uid) {
        this.uid = uid;
        cols = ColumnParams.Defs.of(this);
        modelType = new Param<>(this, "modelType", "lr, mlp or dlrm; empty: fitted to the data (dlrm for dense and categorical columns with binary labels)");
        hidden = new IntArrayParam(this, "hidden", "MLP hidden widths");
        activation = new Param<>(this, "activation", "MLP activation: relu, tanh or sigmoid");
        hashBits = new IntParam(this, "hashBits", "LR: hash features into 2^hashBits weights");
        embRows = new LongParam(this, "embRows", "DLRM: rows per embedding table; ids are taken modulo embRows");
        embDim = new IntParam(this, "embDim", "DLRM: embedding dimension");
        bottom = new IntArrayParam(this, "bottom", "DLRM: bottom-MLP hidden widths");
        top = new IntArrayParam(this, "top", "DLRM: top-MLP hidden widths");
        optimizer = new Param<>(this, "optimizer", "dense optimizer: sgd, adagrad or adam");
        learningRate = new DoubleParam(this, "learningRate", "dense learning rate; 0: 0.05 for mlp, 0.5 otherwise");
        momentum = new DoubleParam(this, "momentum", "SGD momentum");
        embOptimizer = new Param<>(this, "embOptimizer", "embedding optimizer: sgd or rowwise-adagrad; empty: sgd with sgd, rowwise-adagrad otherwise");
        embLearningRate = new DoubleParam(this, "embLearningRate", "embedding learning rate; 0: the dense rate");
        batchSize = new IntParam(this, "batchSize", "examples per mini-batch per worker; 0: 64 for mlp, 128 otherwise");
        epochs = new IntParam(this, "epochs", "passes over the training data");
        examples = new LongParam(this, "examples", "train on this many examples in all instead of whole epochs; 0: whole epochs");
        seed = new LongParam(this, "seed", "seed of the initialization and the data split");
        shuffle = new BooleanParam(this, "shuffle", "a new random order of each trainer's share every epoch");
        numTrainers = new IntParam(this, "numTrainers", "trainers: one barrier task each, one partition of the data each");
        workers = new IntParam(this, "workers", "Hogwild worker threads per trainer (give spark.task.cpus as many cores)");
        sync = new Param<>(this, "sync", "synchronization algorithm, as shadowsync train --sync; empty: the default for the number of trainers");
        syncEvery = new IntParam(this, "syncEvery", "foreground algorithms: worker steps between rounds");
        syncIntervalMs = new LongParam(this, "syncIntervalMs", "shadow algorithms: pause between rounds in milliseconds");
        bmufMomentum = new DoubleParam(this, "bmufMomentum", "BMUF block momentum; NaN: the algorithm's default");
        easgdAlpha = new DoubleParam(this, "easgdAlpha", "EASGD elastic force; NaN: 0.5/numTrainers");
        gossipSchedule = new Param<>(this, "gossipSchedule", "gossip: who averages with whom each round: ring, hypercube or random"
                + ", as shadowsync train --gossip-schedule");
        compress = new Param<>(this, "compress", "how sync rounds and the dense traffic are encoded, as shadowsync train --compress: "
                + "none, fp16, bf16, int8, int8:stochastic or topk:F");
        psShards = new IntParam(this, "psShards", "parameter-server shards holding the embedding tables (and the dense server)");
        psPlacement = new Param<>(this, "psPlacement", "where the parameter servers run: 'trainers' (shard i in trainer task i's JVM) "
                + "or 'tasks' (one more barrier task per shard)");
        checkpointDir = new Param<>(this, "checkpointDir", "checkpoints on any Hadoop-compatible path; a retried stage resumes from the newest good one");
        checkpointEverySec = new DoubleParam(this, "checkpointEverySec", "a checkpoint every this many seconds of training; 0: none by time");
        checkpointEveryExamples = new LongParam(this, "checkpointEveryExamples", "a checkpoint every this many examples trained; 0: none by count");
        keepCheckpoints = new IntParam(this, "keepCheckpoints", "checkpoints kept, the newest");
        shareMemoryFraction = new DoubleParam(this, "shareMemoryFraction", "the fraction of an executor's heap, divided among its task "
                + "slots, that a trainer's share may take in memory; a larger share is spilled to a local file and streamed from it");
        numClasses = new IntParam(this, "numClasses", "classes of the label: 2 for binary (0/1), C > 2 for 0..C-1; 0 for regression");
        setDefault(modelType, "");
        setDefault(hidden, new int[] {256, 128});
        setDefault(activation, "relu");
        setDefault(hashBits, 20);
        setDefault(embRows, 100_000L);
        setDefault(embDim, 16);
        setDefault(bottom, new int[] {64});
        setDefault(top, new int[] {64});
        setDefault(optimizer, "sgd");
        setDefault(learningRate, 0.0);
        setDefault(momentum, 0.0);
        setDefault(embOptimizer, "");
        setDefault(embLearningRate, 0.0);
        setDefault(batchSize, 0);
        setDefault(epochs, 1);
        setDefault(examples, 0L);
        setDefault(seed, 1234L);
        setDefault(shuffle, false);
        setDefault(numTrainers, 2);
        setDefault(workers, 1);
        setDefault(sync, "");
        setDefault(syncEvery, 50);
        setDefault(syncIntervalMs, 0L);
        setDefault(bmufMomentum, Double.NaN);
        setDefault(easgdAlpha, Double.NaN);
        setDefault(gossipSchedule, io.shadowsync.sync.GossipSchedule.DEFAULT.key());
        setDefault(compress, "none");
        setDefault(psShards, 1);
        setDefault(psPlacement, "trainers");
        setDefault(checkpointDir, "");
        setDefault(checkpointEverySec, 0.0);
        setDefault(checkpointEveryExamples, 0L);
        setDefault(keepCheckpoints, 3);
        setDefault(shareMemoryFraction, 0.4);
        setDefault(numClasses, defaultClasses());
    }

    /** The classes the labels have by default: 2 for a classifier, 0 (regression) for a regressor. */
    abstract int defaultClasses();

    @SuppressWarnings("unchecked")
    private E self() {
        return (E) this;
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
    public ShadowSyncModel fit(Dataset<?> dataset) {
        RowLayout layout = RowLayout.resolve(dataset, getLabelCol(), getFeaturesCol(), getDenseCols(), getCategoricalCols(), getNumClasses(), -1);
        TrainingSettings settings = settings();
        settings.check(layout.schema());
        BarrierTraining.Trained trained = BarrierTraining.run(dataset.toDF(), layout, settings, trainingPlan());
        ShadowSyncModel model = new ShadowSyncModel(uid, trained.model(), trained.summary());
        copyValues(model, extractParamMap());
        model.setParent(this);
        return model;
    }

    /** How the barrier stage runs: placement of the servers and the checkpoints. */
    BarrierTraining.Plan trainingPlan() {
        return new BarrierTraining.Plan($(psPlacement), $(checkpointDir), (Double) $(checkpointEverySec), (Long) $(checkpointEveryExamples),
                (Integer) $(keepCheckpoints), (Double) $(shareMemoryFraction));
    }

    TrainingSettings settings() {
        return new TrainingSettings($(modelType), $(hidden), $(activation), (Integer) $(hashBits), (Long) $(embRows), (Integer) $(embDim),
                $(bottom), $(top), $(optimizer), (Double) $(learningRate), (Double) $(momentum), $(embOptimizer), (Double) $(embLearningRate),
                (Integer) $(batchSize), (Integer) $(epochs), (Long) $(examples), (Long) $(seed), (Boolean) $(shuffle), (Integer) $(numTrainers),
                (Integer) $(workers), $(sync), (Integer) $(syncEvery), (Long) $(syncIntervalMs), (Double) $(bmufMomentum), (Double) $(easgdAlpha),
                $(gossipSchedule), (Integer) $(psShards), $(compress));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return ShadowSyncModel.outputSchema(this, schema, getNumClasses());
    }

    @Override
    public E copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public int getNumClasses() {
        return (Integer) $(numClasses);
    }

    public int getNumTrainers() {
        return (Integer) $(numTrainers);
    }

    // ---- params (Spark ML finds them by these no-argument methods) ----

    public Param<String> modelType() { return modelType; }
    public IntArrayParam hidden() { return hidden; }
    public Param<String> activation() { return activation; }
    public IntParam hashBits() { return hashBits; }
    public LongParam embRows() { return embRows; }
    public IntParam embDim() { return embDim; }
    public IntArrayParam bottom() { return bottom; }
    public IntArrayParam top() { return top; }
    public Param<String> optimizer() { return optimizer; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam momentum() { return momentum; }
    public Param<String> embOptimizer() { return embOptimizer; }
    public DoubleParam embLearningRate() { return embLearningRate; }
    public IntParam batchSize() { return batchSize; }
    public IntParam epochs() { return epochs; }
    public LongParam examples() { return examples; }
    public LongParam seed() { return seed; }
    public BooleanParam shuffle() { return shuffle; }
    public IntParam numTrainers() { return numTrainers; }
    public IntParam workers() { return workers; }
    public Param<String> sync() { return sync; }
    public IntParam syncEvery() { return syncEvery; }
    public LongParam syncIntervalMs() { return syncIntervalMs; }
    public DoubleParam bmufMomentum() { return bmufMomentum; }
    public DoubleParam easgdAlpha() { return easgdAlpha; }
    public Param<String> gossipSchedule() { return gossipSchedule; }
    public Param<String> compress() { return compress; }
    public IntParam psShards() { return psShards; }
    public Param<String> psPlacement() { return psPlacement; }
    public Param<String> checkpointDir() { return checkpointDir; }
    public DoubleParam checkpointEverySec() { return checkpointEverySec; }
    public LongParam checkpointEveryExamples() { return checkpointEveryExamples; }
    public IntParam keepCheckpoints() { return keepCheckpoints; }
    public DoubleParam shareMemoryFraction() { return shareMemoryFraction; }
    public IntParam numClasses() { return numClasses; }

    // ---- setters ----

    private E put(Param<?> p, Object v) {
        set(p.name(), v);
        return self();
    }

    public E setLabelCol(String v) { return put(cols.label(), v); }
    public E setFeaturesCol(String v) { return put(cols.features(), v); }
    public E setDenseCols(String... v) { return put(cols.dense(), v); }
    public E setCategoricalCols(String... v) { return put(cols.categorical(), v); }
    public E setPredictionCol(String v) { return put(cols.prediction(), v); }
    public E setProbabilityCol(String v) { return put(cols.probability(), v); }
    public E setRawPredictionCol(String v) { return put(cols.rawPrediction(), v); }
    public E setModelType(String v) { return put(modelType, v); }
    public E setHidden(int... v) { return put(hidden, v); }
    public E setActivation(String v) { return put(activation, v); }
    public E setHashBits(int v) { return put(hashBits, v); }
    public E setEmbRows(long v) { return put(embRows, v); }
    public E setEmbDim(int v) { return put(embDim, v); }
    public E setBottom(int... v) { return put(bottom, v); }
    public E setTop(int... v) { return put(top, v); }
    public E setOptimizer(String v) { return put(optimizer, v); }
    public E setLearningRate(double v) { return put(learningRate, v); }
    public E setMomentum(double v) { return put(momentum, v); }
    public E setEmbOptimizer(String v) { return put(embOptimizer, v); }
    public E setEmbLearningRate(double v) { return put(embLearningRate, v); }
    public E setBatchSize(int v) { return put(batchSize, v); }
    public E setEpochs(int v) { return put(epochs, v); }
    public E setExamples(long v) { return put(examples, v); }
    public E setSeed(long v) { return put(seed, v); }
    public E setShuffle(boolean v) { return put(shuffle, v); }
    public E setNumTrainers(int v) { return put(numTrainers, v); }
    public E setWorkers(int v) { return put(workers, v); }
    public E setSync(String v) { return put(sync, v); }
    public E setSyncEvery(int v) { return put(syncEvery, v); }
    public E setSyncIntervalMs(long v) { return put(syncIntervalMs, v); }
    public E setBmufMomentum(double v) { return put(bmufMomentum, v); }
    public E setEasgdAlpha(double v) { return put(easgdAlpha, v); }
    public E setGossipSchedule(String v) { return put(gossipSchedule, v); }
    public E setCompress(String v) { return put(compress, v); }
    public E setPsShards(int v) { return put(psShards, v); }
    public E setPsPlacement(String v) { return put(psPlacement, v); }
    public E setCheckpointDir(String v) { return put(checkpointDir, v); }
    public E setCheckpointEverySec(double v) { return put(checkpointEverySec, v); }
    public E setCheckpointEveryExamples(long v) { return put(checkpointEveryExamples, v); }
    public E setKeepCheckpoints(int v) { return put(keepCheckpoints, v); }
    public E setShareMemoryFraction(double v) { return put(shareMemoryFraction, v); }
    public E setNumClasses(int v) { return put(numClasses, v); }
}
