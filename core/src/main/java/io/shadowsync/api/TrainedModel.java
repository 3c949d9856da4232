package io.shadowsync.api;

import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.ckpt.ModelFileException;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Inference;
import io.shadowsync.engine.JobMemory;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.model.Models;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.nn.Workspace;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A trained model with its embedding tables and {@link Provenance}: what {@link TrainingJob#run()} returns and
 * {@link #load} reads back from a model file ({@code shadowsync train --save} writes the same files).
 *
 * <p>What {@code predict} gives per example ({@link #outputsPerExample()} values): for binary labels the probability
 * of label 1; for regression the predicted value; for C classes the C class probabilities (they sum to 1).
 *
 * <p>Thread safety: predicting and evaluating only read the parameters, and every call has its own workspace, so any
 * number of threads may predict with one model at once. A model straight from {@link TrainingJob#run()} shares its
 * parameters with the finished job; nothing changes them afterwards.
 */
public final class TrainedModel {
    private final ModelSpec spec;
    private final Model model;
    private final EmbeddingStore tables;
    private final Provenance provenance;
    private final DataSchema schema;

    /** A model over the given parameters: tables null or empty for a model without embedding tables. */
    public TrainedModel(Model model, EmbeddingStore tables, Provenance provenance) {
        this.spec = model.spec();
        this.model = model;
        this.tables = tables;
        this.provenance = provenance == null ? Provenance.none() : provenance;
        this.schema = schemaOf(spec);
    }

    /**
     * Reads a model file. A file that is not a model file, is damaged, describes a model other than the one it holds,
     * or needs more heap than this JVM has, is refused with a {@link ModelFileException} saying so; nothing is built
     * from it.
     */
    public static TrainedModel load(Path file) throws IOException {
        ModelFile.Contents c = ModelFile.read(file);
        ModelSpec spec;
        try {
            spec = Models.fromProperties(c.spec());
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, "model description is invalid: " + e.getMessage());
        }
        // the spec must describe what the file holds before anything is built from it: a small file whose spec
        // declares a huge layer is refused here, not by an OutOfMemoryError
        if (spec.denseParameters() != c.dense().length) {
            throw new ModelFileException(file, "holds " + c.dense().length + " dense parameters but a " + spec.kind() + " of this shape has " + spec.denseParameters());
        }
        long[][] shapes = spec.embeddingShapes();
        if (!Arrays.deepEquals(shapes, c.tableShapes())) {
            throw new ModelFileException(file, "embedding table shapes " + Arrays.deepToString(c.tableShapes()) + " do not match the model's " + Arrays.deepToString(shapes));
        }
        long heap = Runtime.getRuntime().maxMemory(), need = 2 * JobMemory.modelBytes(spec); // the file's arrays and the model's
        if (need > heap * 0.85) {
            throw new ModelFileException(file, "the model needs about " + need / (1 << 20) + " MiB of heap to load, this JVM has "
                    + heap / (1 << 20) + " MiB: raise the heap (JAVA_OPTS=-Xmx" + (need / (1L << 30) + 2) + "g)");
        }
        Model model = spec.build();
        float[] dense = model.dense().data();
        System.arraycopy(c.dense(), 0, dense, 0, dense.length);
        LocalEmbeddingStore tables = new LocalEmbeddingStore(shapes, new float[shapes.length], 0, new EmbeddingOptimizerSpec("sgd", 0.01));
        for (int t = 0; t < shapes.length; t++) System.arraycopy(c.tables()[t], 0, tables.table(t), 0, c.tables()[t].length);
        return new TrainedModel(model, tables, Provenance.fromMap(c.provenance()));
    }

    /** Writes this model, its tables and its provenance to file, atomically (a crash leaves the old file or none). */
    public void save(Path file) throws IOException {
        ModelFile.write(file, spec.toProperties(), provenance.toMap(), model.dense().data(), tables);
    }

    /** The same parameters with another provenance. */
    public TrainedModel withProvenance(Provenance p) {
        return new TrainedModel(model, tables, p);
    }

    /**
     * The scores of every example of batch: {@code batch.size × outputsPerExample()} values, example by example. The
     * batch must have the model's layout ({@link #schema()}); its labels are ignored.
     */
    public float[] predict(Batch batch) {
        if (batch.numDense != schema.numDense() || batch.numCat != schema.numCat() || (batch.sparseOffsets != null) != schema.sparse()) {
            throw new IllegalArgumentException("the batch has " + layout(batch.numDense, batch.numCat, batch.sparseOffsets != null)
                    + ", the " + spec.kind() + " model takes " + layout(schema.numDense(), schema.numCat(), schema.sparse()));
        }
        int n = batch.size, k = model.outputsPerExample();
        if (n == 0) return new float[0];
        Workspace ws = model.newWorkspace(n);
        model.forward(batch, ws, tables);
        return Arrays.copyOf(ws.outputs(), n * k);
    }

    /** The scores of one example: {@link #outputsPerExample()} values (see the class comment). */
    public float[] predict(Example example) {
        return predict(List.of(example))[0];
    }

    /** The scores of each example, in order: one array of {@link #outputsPerExample()} values per example. */
    public float[][] predict(List<Example> examples) {
        int n = examples.size(), k = model.outputsPerExample();
        if (n == 0) return new float[0][];
        Batch batch = new Batch(n, schema);
        for (int i = 0; i < n; i++) {
            Example e = examples.get(i);
            check(e, i);
            e.appendTo(batch);
        }
        float[] flat = predict(batch);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(flat, i * k, (i + 1) * k);
        return out;
    }

    /**
     * Scores every example of source, batchSize at a time, handing each batch and its scores to consumer (as
     * {@code shadowsync predict} does); returns the number of examples.
     */
    public long predict(DataSource source, int batchSize, Inference.BatchConsumer consumer) throws IOException {
        checkSchema(source);
        return Inference.forEachBatch(model, tables, source, batchSize, consumer);
    }

    /** The metrics of this model on labelled data of its layout (logloss, AUC, ... as fit the labels). */
    public Metrics evaluate(DataSource source) throws IOException {
        checkSchema(source);
        return Evaluator.evaluate(model, tables, source, 1024).metrics();
    }

    /** Values {@code predict} gives per example: 1 for binary labels and regression, C for C classes. */
    public int outputsPerExample() {
        return model.outputsPerExample();
    }

    /** The layout of the examples this model scores (features and labels). */
    public DataSchema schema() {
        return schema;
    }

    public ModelSpec spec() {
        return spec;
    }

    public Provenance provenance() {
        return provenance;
    }

    /** The model (its dense parameters), for the engine and tools. */
    public Model model() {
        return model;
    }

    /** The embedding tables (null or empty for a model without them). */
    public EmbeddingStore tables() {
        return tables;
    }

    private void checkSchema(DataSource source) {
        DataSchema s = source.schema();
        if (s.numDense() != schema.numDense() || s.numCat() != schema.numCat() || s.sparse() != schema.sparse()) {
            throw new IllegalArgumentException(source.describe() + " has " + layout(s.numDense(), s.numCat(), s.sparse()) + ", the "
                    + spec.kind() + " model takes " + layout(schema.numDense(), schema.numCat(), schema.sparse()));
        }
    }

    private void check(Example e, int i) {
        if (e == null) throw new IllegalArgumentException("example " + i + " is null");
        int nd = e.dense().length, nc = e.categorical().length, ns = e.sparseIndices().length;
        if (nd != schema.numDense() || nc != schema.numCat() || (ns > 0 && !schema.sparse())) {
            throw new IllegalArgumentException("example " + i + " has " + layout(nd, nc, ns > 0) + ", the " + spec.kind() + " model takes "
                    + layout(schema.numDense(), schema.numCat(), schema.sparse()));
        }
    }

    private static String layout(int dense, int cat, boolean sparse) {
        return dense + " dense features, " + cat + " categorical ids" + (sparse ? " and sparse features" : "");
    }

    /** The layout a model of this spec takes. */
    static DataSchema schemaOf(ModelSpec spec) {
        // if/else, not a pattern switch: core compiles for Java 17 (Spark executors)
        if (spec instanceof LrSpec s) return new DataSchema(s.numDense(), s.numCat(), s.sparse(), 0, 2);
        if (spec instanceof DlrmSpec s) return new DataSchema(s.numDense(), s.numCat(), false, 0, 2);
        if (spec instanceof MlpSpec s) {
            return new DataSchema(s.inputs(), 0, false, 0, switch (s.task()) {
                case "regression" -> 0;
                case "binary" -> 2;
                default -> s.outputs();
            });
        }
        throw new IllegalArgumentException("a " + spec.kind() + " model is not one this version knows (lr, mlp, dlrm)");
    }
}
