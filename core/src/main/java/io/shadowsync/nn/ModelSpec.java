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
}
