package io.shadowsync.nn;

import java.util.Map;

/**
 * An immutable description of a model: its kind and every setting needed to rebuild it with the same
 * parameter layout. Saved in model files as string properties; {@code io.shadowsync.model.Models} reads them back.
 */
public interface ModelSpec {
    /** "lr", "mlp" or "dlrm". */
    String kind();

    /** A new model with this layout; dense parameters zero until {@link Model#initDense} or a load. */
    Model build();

    /** All settings as ordered string properties, including {@code kind}. */
    Map<String, String> toProperties();

    /**
     * Dense parameters a model of this spec has, computed from the spec without building the model (so a spec too
     * large for memory can be refused before anything is allocated); may exceed what {@link #build} accepts.
     */
    long denseParameters();

    /** Its embedding tables as {rows, dim} each, computed without building the model (empty when none). */
    long[][] embeddingShapes();

    /**
     * Bytes one worker's {@link Workspace} for batches of up to {@code maxBatch} examples holds (its arrays, with the
     * dense gradient), computed without allocating: what {@link Model#newWorkspace} will ask of the heap.
     */
    long workspaceBytes(long maxBatch);

    /**
     * Floats per example of the longest single array a workspace holds: a batch whose buffer of
     * {@code maxBatch × this} floats exceeds what one Java array holds cannot be trained on.
     */
    long widestBufferPerExample();
}
