package io.shadowsync.cli;

import io.shadowsync.ckpt.ModelFile;
import io.shadowsync.ckpt.ModelFileException;
import io.shadowsync.engine.JobMemory;
import io.shadowsync.model.Models;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** A model read back from a model file, ready to evaluate or predict. */
record LoadedModel(ModelSpec spec, Model model, LocalEmbeddingStore tables, Map<String, String> provenance) {
    static LoadedModel read(Path file) throws IOException {
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
        return new LoadedModel(spec, model, tables, c.provenance());
    }
}
