package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.Workspace;
import java.io.IOException;

/** Forward passes over a whole data source, batch by batch, in the calling thread. */
public final class Inference {
    private Inference() {}

    /** Receives each batch with the model's outputs for it ({@code outputsPerExample} values per example). */
    @FunctionalInterface
    public interface BatchConsumer {
        void accept(Batch batch, float[] outputs, double lossSum) throws IOException;
    }

    /** Runs model.forward over every example of source and hands each batch to consumer; returns the example count. */
    public static long forEachBatch(Model model, EmbeddingStore tables, DataSource source, int batchSize, BatchConsumer consumer)
            throws IOException {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        Workspace ws = model.newWorkspace(batchSize);
        Batch batch = new Batch(batchSize, source.schema());
        long n = 0;
        try (ExampleReader reader = source.open()) {
            boolean more = true;
            while (more) {
                batch.clear();
                while (!batch.isFull() && (more = reader.readInto(batch))) {
                    // fill the batch
                }
                if (batch.size == 0) break;
                double loss = model.forward(batch, ws, tables);
                consumer.accept(batch, ws.outputs(), loss);
                n += batch.size;
            }
        }
        return n;
    }
}
